"""Window and HarvestRun: the one way collectors decide what is new and build a Harvest."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from collectors.cursors import HarvestRun, Window
from collectors.post import Post

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
NOW = T0 + timedelta(days=3)


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def post(pid: str, when: datetime) -> Post:
    return Post(source="feed", id=pid, thread_id=pid, parent_id=None, author=None,
                created_utc=when, title=pid, body="")


def test_a_window_runs_from_its_cursor_or_since_up_to_until() -> None:
    first = Window(None, since=at(1), now=NOW, until=at(5))
    assert [first.is_new(at(h)) for h in (0, 1, 5, 6)] == [False, True, True, False]
    assert first.start == at(1)
    later = Window(at(2).isoformat(), since=at(1), now=NOW)
    assert [later.is_new(at(h)) for h in (2, 3, 100)] == [False, True, True]
    assert later.start == at(2)
    whole = Window(None, now=NOW)  # no since: a first run takes everything
    assert whole.is_new(datetime(1999, 1, 1, tzinfo=UTC))


def test_the_cursor_is_the_newest_covered_and_never_moves_back_or_too_far() -> None:
    window = Window(at(2).isoformat(), since=at(0), now=NOW)
    assert window.cursor == at(2).isoformat()  # nothing covered: the saved cursor stays
    window.cover(at(1))
    assert window.cursor == at(2).isoformat()
    window.cover(at(4))
    window.cover(NOW + timedelta(days=2))  # more than a day ahead: never covered
    assert window.cursor == at(4).isoformat()


def test_a_harvest_run_keeps_what_came_before_its_error() -> None:
    requests = [3]
    window = Window(None, since=at(0), now=NOW)
    run = HarvestRun("feed", "feed/x", window, lambda: requests[0])
    with run.stop_on(ValueError, lambda exc: f"bad: {exc}"):
        for hours in (1, 2, 3):
            requests[0] += 1
            if hours == 3:
                raise ValueError("broken page")
            run.keep([post(f"p{hours}", at(hours))])
            window.cover(at(hours))
    run.reject("p9", KeyError("title"))
    harvest = run.harvest()
    assert [p.id for p in harvest.posts] == ["p1", "p2"]
    assert harvest.cursor == at(2).isoformat() and harvest.error == "bad: broken page"
    assert harvest.requests == 3
    assert [str(r) for r in harvest.rejected] == ["feed/x id p9: missing field 'title'"]


def test_a_run_without_window_saves_no_cursor_and_may_end_without_error() -> None:
    run = HarvestRun("hackernews", "hn/thread/1")
    with run.stop_on(LookupError, lambda exc: None):  # e.g. a revisited thread that is gone
        raise KeyError("gone")
    harvest = run.harvest()
    assert (harvest.cursor, harvest.error, harvest.posts, harvest.requests) == (None, None, [], 0)
