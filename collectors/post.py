"""The records every collector produces."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any


@dataclass(frozen=True)
class Post:
    """One submission, story, forum post, feed entry or comment.

    `id` is unique within `source`; `thread_id` is the id of the thread's root post and
    `parent_id` the id of the post this one replies to (None for a root).
    `created_utc` is an aware UTC datetime.
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
        if not self.source or not self.id:
            raise ValueError("Post needs a source and an id")
        if self.created_utc.tzinfo is None:
            raise ValueError(f"Post {self.source}:{self.id}: created_utc must be timezone-aware")
        if self.kind not in ("post", "comment"):
            raise ValueError(f"Post {self.source}:{self.id}: kind must be 'post' or 'comment'")

    @property
    def text(self) -> str:
        """Title and body as one text, the unit the classifier scores."""
        if self.title and self.body:
            return f"{self.title}\n\n{self.body}"
        return self.title or self.body

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["created_utc"] = self.created_utc.astimezone(UTC).isoformat()
        return data


@dataclass
class Harvest:
    """What one collector produced for one cursor key (a subreddit, a query, a feed).

    The caller stores `posts` first and saves `cursor` under `key` only after they are
    committed, so a crash in between re-fetches rather than loses. `error` is set when the
    source failed; posts collected before the failure are still returned.
    """

    source: str
    key: str
    posts: list[Post]
    cursor: str | None
    error: str | None = None
    requests: int = 0
