"""Failures against the loopback Reddit: 429, 5xx storms, malformed JSON, timeouts, bad keys."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from reddit_server import FakeReddit, Reply, empty_listing, fixture_reddit, settings_for

from collectors.post import Harvest
from collectors.reddit import RedditCollector, RedditCredentialsError

SINCE = datetime(2026, 11, 20, tzinfo=UTC)
STORM = [Reply(500, {"message": "Internal Server Error", "error": 500})] * 30
TRUNCATED = Reply(200, b'{"kind": "Listing", "data": {"children": [')


@pytest.fixture
def fake() -> Iterator[FakeReddit]:
    fake = fixture_reddit()
    with fake.running():
        yield fake


def run(fake: FakeReddit, **overrides) -> dict[str, Harvest]:
    overrides.setdefault("subreddits", ["HongKong", "China"])
    collector = RedditCollector(settings_for(fake, **overrides))
    try:
        return {h.key: h for h in collector.harvest({}, SINCE)}
    finally:
        collector.close()


def assert_china_complete(harvest: Harvest) -> None:
    assert harvest.error is None
    assert [p.id for p in harvest.posts if p.kind == "post"] == ["abc101", "abc103", "abc105"]
    assert harvest.cursor == "2026-11-22T02:00:00+00:00"


def test_429_is_retried_after_its_retry_after(fake: FakeReddit) -> None:
    fake.fail(
        r"^/r/china/new",
        Reply(429, {"message": "Too Many Requests", "error": 429}, {"Retry-After": "0.3"}),
    )
    started = time.monotonic()
    harvests = run(fake, max_sleep=5.0)

    assert time.monotonic() - started >= 0.3
    assert_china_complete(harvests["r/China/new"])
    first_pages = [s for s in fake.requests_to(r"^/r/china/new") if "after" not in s.query]
    assert len(first_pages) == 2


def test_429_sleep_is_capped_by_max_sleep(fake: FakeReddit) -> None:
    fake.fail(r"^/r/china/new", Reply(429, b"", {"Retry-After": "600"}))
    started = time.monotonic()

    assert_china_complete(run(fake)["r/China/new"])
    assert time.monotonic() - started < 5


def test_500_storm_fails_one_key_while_the_next_succeeds(fake: FakeReddit) -> None:
    fake.fail(r"^/r/hongkong/new", *STORM)
    harvests = run(fake)

    hongkong = harvests["r/HongKong/new"]
    assert hongkong.posts == [] and hongkong.cursor is None
    assert hongkong.error == "r/HongKong/new/: ServerError (HTTP 500) after 3 attempts"
    # one retry layer: prawcore retries a 5xx twice itself, the collector adds nothing
    assert len(fake.requests_to(r"^/r/hongkong/new")) == 3
    assert_china_complete(harvests["r/China/new"])


def test_storm_on_one_thread_keeps_earlier_threads_and_moves_the_cursor_only_past_them(
    fake: FakeReddit,
) -> None:
    fake.fail(r"^/comments/abc103", *STORM)
    harvests = run(fake, subreddits=["China", "HongKong"])

    china = harvests["r/China/new"]
    assert "comments/abc103" in (china.error or "") and "HTTP 500" in (china.error or "")
    assert [p.id for p in china.posts] == ["abc101", "cy1", "abc103", "abc105"]
    assert china.cursor == "2026-11-20T20:00:00+00:00"  # abc102: everything at or before is done
    assert harvests["r/HongKong/new"].error is None


def test_malformed_json_is_retried_then_reported(fake: FakeReddit) -> None:
    fake.fail(r"^/r/hongkong/new", TRUNCATED, TRUNCATED, TRUNCATED)
    harvests = run(fake)

    error = harvests["r/HongKong/new"].error
    assert error == "r/HongKong/new/: BadJSON (HTTP 200) after 3 attempts"
    assert_china_complete(harvests["r/China/new"])


def test_malformed_json_once_then_good_answer_succeeds(fake: FakeReddit) -> None:
    fake.fail(r"^/comments/abc105", TRUNCATED)
    fake.fail(r"^/api/morechildren", TRUNCATED)

    china = run(fake, subreddits=["China"])["r/China/new"]
    assert_china_complete(china)
    assert len([p for p in china.posts if p.thread_id == "abc105"]) == 10


def test_json_of_the_wrong_shape_is_a_key_error(fake: FakeReddit) -> None:
    fake.fail(r"^/r/hongkong/new", *[Reply(200, {"unexpected": True})] * 3)

    error = run(fake)["r/HongKong/new"].error or ""
    assert "MalformedResponse" in error and "expected a listing" in error


def test_timeouts_end_in_a_key_error(fake: FakeReddit) -> None:
    fake.fail(r"^/r/hongkong/new", *[Reply(200, empty_listing(), delay=0.6)] * 10)
    started = time.monotonic()
    harvests = run(fake, timeout=0.15, retries=0)

    assert "ReadTimeout" in (harvests["r/HongKong/new"].error or "")
    assert len(fake.requests_to(r"^/r/hongkong/new")) == 3  # prawcore's own two retries
    assert_china_complete(harvests["r/China/new"])
    assert time.monotonic() - started < 5


def test_a_5xx_from_the_token_endpoint_is_retried(fake: FakeReddit) -> None:
    fake.fail(r"^/api/v1/access_token", Reply(503, b"upstream unavailable"))

    assert_china_complete(run(fake, subreddits=["China"])["r/China/new"])
    assert len(fake.requests_to(r"^/api/v1/access_token")) == 2


def test_rejected_credentials_stop_the_run_before_anything_is_yielded(fake: FakeReddit) -> None:
    fake.credentials = ("loopback-id", "the-real-secret")
    collector = RedditCollector(settings_for(fake, client_secret="a-wrong-secret"))

    with pytest.raises(RedditCredentialsError) as caught:
        next(collector.harvest({}, SINCE))
    message = str(caught.value)
    assert "HTTP 401" in message and "client_secret" in message and "praw_client_id" in message
    assert [s.path for s in fake.seen] == ["/api/v1/access_token"]


def test_unknown_subreddit_is_a_key_error_not_retried(fake: FakeReddit) -> None:
    harvests = run(fake, subreddits=["NoSuchPlace", "China"])

    assert harvests["r/NoSuchPlace/new"].error == "r/NoSuchPlace/new/: NotFound (HTTP 404)"
    assert len(fake.requests_to(r"^/r/nosuchplace")) == 1
    assert_china_complete(harvests["r/China/new"])
