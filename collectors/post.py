"""The records every collector produces."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from collectors.text import clean_id, clean_name, clean_text, clean_url


def post_text(title: str | None, body: str | None) -> str:
    """Title and body as one text: what the classifier scores, the content hash covers,
    keywords and topics are matched in and the language is guessed from."""
    if title and body:
        return f"{title}\n\n{body}"
    return title or body or ""


def post_line(title: str | None, body: str | None) -> str:
    """Title and body on one line, as quotes and search hits show them."""
    return " — ".join(part for part in (title, body) if part).replace("\n", " ")


@dataclass(frozen=True)
class Post:
    """One submission, story, forum post, feed entry or comment.

    `id` is unique within `source`; `thread_id` is the id of the thread's root post and
    `parent_id` the id of the post this one replies to (None for a root).
    `created_utc` is an aware UTC datetime.

    Every text field is cleaned on construction, whichever collector built the post:
    `title`, `author`, `community` and `lang` become one plain line (None when empty),
    `body` plain text (`collectors.text.clean_text`), ids lose control characters, and a
    `url` that is not http(s) becomes None.
    """

    source: str
    id: str
    thread_id: str
    parent_id: str | None
    author: str | None
    created_utc: datetime
    title: str | None
    body: str
    url: str | None = None
    score: int | None = None
    num_comments: int | None = None
    community: str | None = None
    lang: str | None = None
    kind: str = "post"
    deleted: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        cleaned = {
            "source": clean_id(self.source),
            "id": clean_id(self.id),
            "thread_id": clean_id(self.thread_id),
            "parent_id": clean_id(self.parent_id) if self.parent_id is not None else None,
            "title": clean_text(self.title, single_line=True) or None,
            "body": clean_text(self.body),
            "author": clean_name(self.author),
            "community": clean_name(self.community),
            "lang": clean_name(self.lang, 35),
            "url": clean_url(self.url),
        }
        for name, value in cleaned.items():
            object.__setattr__(self, name, value)  # frozen: cleaning is part of construction
        if not self.source or not self.id or not self.thread_id:
            raise ValueError("Post needs a source, an id and a thread_id")
        if self.created_utc.tzinfo is None:
            raise ValueError(f"Post {self.source}:{self.id}: created_utc must be timezone-aware")
        if self.kind not in ("post", "comment"):
            raise ValueError(f"Post {self.source}:{self.id}: kind must be 'post' or 'comment'")

    @property
    def text(self) -> str:
        """Title and body as one text, the unit the classifier scores (`post_text`)."""
        return post_text(self.title, self.body)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["created_utc"] = self.created_utc.astimezone(UTC).isoformat()
        return data


@dataclass(frozen=True)
class Rejection:
    """One record that was not stored: where it was and why."""

    source: str  # the collector: archive, reddit, hackernews, ...
    where: str  # "posts.jsonl:7", or "<cursor key> id <id>"
    reason: str

    def __str__(self) -> str:
        return f"{self.where}: {self.reason}"

    def to_dict(self) -> dict[str, str]:
        return {"source": self.source, "where": self.where, "reason": self.reason}


@dataclass
class Harvest:
    """What one collector produced for one cursor key (a subreddit, a query, a feed).

    The caller stores `posts` first and saves `cursor` under `key` only after they are
    committed, so a crash in between re-fetches rather than loses. `error` is set when the
    source failed; posts collected before the failure are still returned. `rejected`
    names the records that could not be made into posts (the others are in `posts`).
    """

    source: str
    key: str
    posts: list[Post]
    cursor: str | None
    error: str | None = None
    requests: int = 0
    rejected: list[Rejection] = field(default_factory=list)
