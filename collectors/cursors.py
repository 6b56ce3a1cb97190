"""Cursor values: the newest created_utc a cursor key has covered, as ISO-8601 UTC text."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import TypeVar

from collectors.records import horizon

T = TypeVar("T")


def parse_cursor(value: str | None) -> datetime | None:
    """The cursor as an aware UTC datetime; None when absent or unreadable (first run)."""
    if not value:
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC)


def format_cursor(when: datetime) -> str:
    return when.astimezone(UTC).isoformat()


class Window:
    """Which created_utc values are new for one cursor key: after the cursor, or at/after
    `since` on a first run. Tracks the newest value covered; a time more than a day after
    `now` is never covered, so one far-future record cannot push the cursor past every
    real post."""

    def __init__(self, cursor: str | None, since: datetime, now: datetime | None = None) -> None:
        self.previous = cursor
        self.after = parse_cursor(cursor)
        self.since = since.astimezone(UTC)
        self.newest: datetime | None = None
        self.horizon = horizon(now)

    def is_new(self, when: datetime) -> bool:
        if self.after is not None:
            return when > self.after
        return when >= self.since

    def cover(self, when: datetime) -> None:
        if when > self.horizon:
            return
        if self.newest is None or when > self.newest:
            self.newest = when

    @property
    def cursor(self) -> str | None:
        """The cursor to save: the newest covered value, or the previous cursor if none."""
        if self.newest is None or (self.after is not None and self.newest <= self.after):
            return self.previous
        return format_cursor(self.newest)


def take_oldest(items: Sequence[T], limit: int, when: Callable[[T], datetime]) -> list[T]:
    """The first `limit` of `items` (sorted oldest first), plus any sharing the last one's
    time: a cursor set to that time would skip the rest of it."""
    cut = min(max(limit, 0), len(items))
    while 0 < cut < len(items) and when(items[cut]) == when(items[cut - 1]):
        cut += 1
    return list(items[:cut])
