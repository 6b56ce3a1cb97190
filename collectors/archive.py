"""Replay a JSONL archive of posts as if it were a live source.

Each line is one post in the shape of `Post.to_dict()` (see data/sample/README.md).
Posts newer than `until` have "not happened yet" and are left for a later run; posts at
or before the saved cursor were collected already. Bad lines are reported, not fatal.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from collectors.post import Harvest, Post
from collectors.text import clean_text


class ArchiveError(Exception):
    """The archive file cannot be read at all."""


def parse_time(value: Any) -> datetime:
    """ISO-8601 text or epoch seconds to an aware UTC datetime."""
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC)
    parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def post_from_record(record: Mapping[str, Any]) -> Post:
    """Build a Post from one archive record; raises ValueError/KeyError on bad records."""
    post_id = str(record["id"])
    return Post(
        source=str(record["source"]),
        id=post_id,
        thread_id=str(record.get("thread_id") or post_id),
        parent_id=str(record["parent_id"]) if record.get("parent_id") else None,
        author=record.get("author"),
        created_utc=parse_time(record["created_utc"]),
        title=clean_text(record.get("title")) or None,
        body=clean_text(record.get("body")),
        url=record.get("url"),
        score=int(record["score"]) if record.get("score") is not None else None,
        num_comments=(
            int(record["num_comments"]) if record.get("num_comments") is not None else None
        ),
        community=record.get("community"),
        lang=record.get("lang"),
        kind=record.get("kind", "comment" if record.get("parent_id") else "post"),
        deleted=bool(record.get("deleted", False)),
    )


class ArchiveCollector:
    """Collects posts from a JSONL archive file, honouring an incremental cursor."""

    source = "archive"

    def __init__(self, path: Path, until: datetime | None = None) -> None:
        self.path = Path(path)
        self.until = until
        self.key = f"archive:{self.path.name}"

    def harvest(
        self, cursors: Mapping[str, str], since: datetime | None = None, revisit: Sequence[str] = ()
    ) -> Iterator[Harvest]:
        cursor = parse_time(cursors[self.key]) if cursors.get(self.key) else None
        posts: list[Post] = []
        errors: list[str] = []
        try:
            raw = self.path.read_bytes()
        except OSError as exc:
            raise ArchiveError(f"cannot read archive {self.path}: {exc.strerror}") from exc
        for lineno, line in enumerate(raw.decode("utf-8", errors="replace").splitlines(), 1):
            if not line.strip():
                continue
            try:
                post = post_from_record(json.loads(line))
            except (ValueError, KeyError, TypeError) as exc:
                errors.append(f"{self.path.name}:{lineno}: {type(exc).__name__}: {exc}")
                continue
            if cursor is not None and post.created_utc <= cursor:
                continue
            if self.until is not None and post.created_utc > self.until:
                continue
            posts.append(post)
        newest = max((p.created_utc for p in posts), default=cursor)
        error = None
        if errors:
            error = f"{len(errors)} bad line(s), first: {errors[0]}"
        yield Harvest(
            source=self.source,
            key=self.key,
            posts=posts,
            cursor=newest.isoformat() if newest else None,
            error=error,
        )
