"""Incremental collecting, one way for every collector.

A cursor is the newest created_utc a cursor key has covered, saved as ISO-8601 UTC text.
`Window` decides which creation times are new for a key (after its cursor, within the
run's bounds) and tracks what the run covered, like dlt's `Incremental` with its start,
last and end values. `HarvestRun` owns one key's harvest while it runs: the posts kept,
the records rejected, the error that ended it, the requests it made and its window; its
`harvest()` is the `Harvest` the collector yields.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TypeVar

from collectors.post import Harvest, Post, Rejection
from collectors.records import horizon, reason_of

T = TypeVar("T")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


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
    `since` on a first run (everything, when `since` is None); and never after `until`,
    the end value (a record from later has "not happened yet" and is left for a later run).

    Tracks the newest value covered; a time more than a day after `now` is never covered,
    so one far-future record cannot push the cursor past every real post.
    """

    def __init__(
        self,
        cursor: str | None,
        since: datetime | None = None,
        now: datetime | None = None,
        until: datetime | None = None,
    ) -> None:
        self.previous = cursor
        self.after = parse_cursor(cursor)
        self.since = since.astimezone(UTC) if since is not None else None
        self.until = until
        self.newest: datetime | None = None
        self.horizon = horizon(now)

    @property
    def start(self) -> datetime:
        """Where new begins: after the cursor, else at `since` (else at the Unix epoch)."""
        return self.after or self.since or EPOCH

    def is_new(self, when: datetime) -> bool:
        if self.until is not None and when > self.until:
            return False
        if self.after is not None:
            return when > self.after
        return self.since is None or when >= self.since

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


class HarvestRun:
    """One cursor key's harvest while it runs; `harvest()` is the `Harvest` it produced.

    `requests` counts the collector's requests so far (the harvest reports the difference
    since it began). Without a `window` (a revisit) the harvest saves no cursor. Code run
    under `stop_on` ends the harvest with an error: posts kept before it are returned,
    and the window's cursor covers only what was covered before it.
    """

    def __init__(
        self,
        source: str,
        key: str,
        window: Window | None = None,
        requests: Callable[[], int] = lambda: 0,
    ) -> None:
        self.source = source
        self.key = key
        self.window = window
        self.posts: list[Post] = []
        self.rejected: list[Rejection] = []
        self.error: str | None = None
        self._requests = requests
        self._start = requests()

    def keep(self, posts: Iterable[Post]) -> None:
        self.posts.extend(posts)

    def reject(self, record_id: object, exc: BaseException) -> None:
        """Leave one unreadable record out, named under this key with the reason."""
        self.rejected.append(Rejection(self.source, f"{self.key} id {record_id}", reason_of(exc)))

    @contextmanager
    def stop_on(
        self,
        errors: type[Exception] | tuple[type[Exception], ...],
        describe: Callable[[Exception], str | None],
    ) -> Iterator[None]:
        """Run the block; one of `errors` ends it, and `describe` gives the harvest's error
        (None: no error, e.g. a revisited thread that is gone)."""
        try:
            yield
        except errors as exc:
            self.error = describe(exc)

    def harvest(self) -> Harvest:
        return Harvest(
            source=self.source,
            key=self.key,
            posts=self.posts,
            cursor=self.window.cursor if self.window is not None else None,
            error=self.error,
            requests=self._requests() - self._start,
            rejected=self.rejected,
        )


def take_oldest(items: Sequence[T], limit: int, when: Callable[[T], datetime]) -> list[T]:
    """The first `limit` of `items` (sorted oldest first), plus any sharing the last one's
    time: a cursor set to that time would skip the rest of it."""
    cut = min(max(limit, 0), len(items))
    while 0 < cut < len(items) and when(items[cut]) == when(items[cut - 1]):
        cut += 1
    return list(items[:cut])
