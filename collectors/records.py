"""Checks every record passes before it is stored, whichever collector produced it.

A record that fails is rejected alone and named (`Rejection`): the file and line, or the
source, cursor key and id, with the reason. The rules:

- Times: numbers are Unix epoch seconds; text is ISO-8601 and must carry a timezone
  (`Z` or an offset such as `+08:00`): a time without one is rejected, never guessed.
  A time more than `FUTURE_SLACK` (one day) after now, or before the source existed
  (`EARLIEST`), is rejected. Rejected times never move a cursor or the default day.
- Integers (`score`, `num_comments`) must fit SQLite's 64-bit INTEGER; `num_comments`
  is never negative.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from collectors.post import Post, Rejection
from collectors.validation import show

__all__ = ["Rejection", "parse_time", "post_problem", "screen", "time_problem"]

FUTURE_SLACK = timedelta(days=1)
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
# When each source started; a record dated earlier is not what it claims to be.
EARLIEST: dict[str, datetime] = {
    "reddit": datetime(2005, 6, 23, tzinfo=UTC),
    "hackernews": datetime(2006, 10, 9, tzinfo=UTC),
    "discourse": datetime(2013, 2, 5, tzinfo=UTC),
}
DEFAULT_EARLIEST = datetime(1991, 8, 6, tzinfo=UTC)  # the first web page: feeds, archives
_MAX_EPOCH = datetime(9999, 12, 31, tzinfo=UTC).timestamp()
_MAX_TIME_TEXT = 64
# What building a record from untrusted data may raise: caught per record, never per batch.
RECORD_ERRORS: tuple[type[Exception], ...] = (
    ValueError,
    TypeError,
    KeyError,
    IndexError,
    AttributeError,
    OverflowError,
    RecursionError,
)


def parse_time(value: Any) -> datetime:
    """Epoch seconds or ISO-8601 text with a timezone, as an aware UTC datetime.

    Raises ValueError saying what is wrong (never OverflowError or OSError).
    """
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"expected epoch seconds or ISO-8601 text, got {type(value).__name__}")
    if isinstance(value, int | float):
        if not math.isfinite(value):
            raise ValueError(f"{value} is not a time")
        if not 0 <= value <= _MAX_EPOCH:
            hint = " (milliseconds? use seconds)" if 1e11 < value < 1e15 else ""
            raise ValueError(f"epoch seconds {value:g} out of range{hint}")
        return datetime.fromtimestamp(value, UTC)
    text = value.strip()
    if len(text) > _MAX_TIME_TEXT:
        raise ValueError(f"{text[:20]!r}… is not an ISO-8601 time")
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ValueError(f"{text!r} is not an ISO-8601 time") from None
    if parsed.tzinfo is None:
        raise ValueError(f"{text!r} has no timezone; add Z for UTC or an offset like +08:00")
    try:
        return parsed.astimezone(UTC)
    except OverflowError:
        raise ValueError(f"{text!r} is out of range") from None


def earliest(source: str) -> datetime:
    """When `source` (e.g. "reddit", "discourse:forum.example") started."""
    return EARLIEST.get(source.split(":", 1)[0], DEFAULT_EARLIEST)


def horizon(now: datetime | None = None) -> datetime:
    """The latest plausible creation time: now plus `FUTURE_SLACK`."""
    return (now or datetime.now(UTC)) + FUTURE_SLACK


def time_problem(when: datetime, source: str, now: datetime | None = None) -> str | None:
    """Why `when` cannot be a real creation time for `source`, or None when it can."""
    if when > horizon(now):
        return f"created_utc {when.isoformat()} is more than a day in the future"
    start = earliest(source)
    if when < start:
        return (
            f"created_utc {when.isoformat()} is before {source.split(':', 1)[0]} existed "
            f"({start.date().isoformat()})"
        )
    return None


def post_problem(post: Post, now: datetime | None = None) -> str | None:
    """Why `post` cannot be stored, or None when it can."""
    trouble = time_problem(post.created_utc, post.source, now)
    if trouble:
        return trouble
    for name in ("score", "num_comments"):
        value = getattr(post, name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int):
            return f"{name} must be an integer, got {type(value).__name__}"
        low = 0 if name == "num_comments" else INT64_MIN
        if not low <= value <= INT64_MAX:
            return f"{name} {show(value)} is out of range ({low} to {INT64_MAX})"
    return None


def screen(
    posts: Iterable[Post], where: Callable[[Post], str], now: datetime | None = None
) -> tuple[list[Post], list[Rejection]]:
    """Split posts into those that can be stored and a `Rejection` for each other one."""
    kept: list[Post] = []
    rejected: list[Rejection] = []
    for post in posts:
        trouble = post_problem(post, now)
        if trouble:
            rejected.append(Rejection(post.source, where(post), trouble))
        else:
            kept.append(post)
    return kept, rejected


def reason_of(exc: BaseException) -> str:
    """A one-line reason for an exception raised while building a record."""
    if isinstance(exc, RecursionError):
        return "nested too deeply"
    if isinstance(exc, KeyError):
        return f"missing field {exc.args[0]!r}" if exc.args else "missing field"
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 300 else text[:299] + "…"
