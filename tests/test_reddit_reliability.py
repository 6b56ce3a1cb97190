"""Reddit in unattended runs: whole big threads, the request budget, deadlines, a host that
never answers, a broken token answer, and how many requests a failing URL costs. The real
praw talks to loopback servers."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime

import praw
import pytest
from click.testing import CliRunner
from loopback import SilentHost
from reddit_server import FakeReddit, Reply, fixture_reddit, settings_for
from reddit_threads import LargeThread

from collectors.deadline import Deadline, deadline_scope
from collectors.errors import TokenRequestFailed
from collectors.post import Harvest, Post
from collectors.reddit import RedditCollector, RedditSettings
from jobs.cli import cli
from jobs.store import Store
from tests.conftest import configure_db

SINCE = datetime(2026, 11, 19, tzinfo=UTC)
NOT_JSON = Reply(200, b"<html>upstream hiccup</html>", {"Content-Type": "text/html"})


@pytest.fixture
def big() -> Iterator[tuple[FakeReddit, LargeThread]]:
    """A loopback Reddit whose r/China/new lists one 1,428-comment thread."""
    fake, thread = FakeReddit(), LargeThread()
    thread.serve(fake)
    fake.add_listing("/r/China/new", thread._submission())
    with fake.running():
        yield fake, thread


@pytest.fixture
def fake() -> Iterator[FakeReddit]:
    fake = fixture_reddit()
    with fake.running():
        yield fake


def harvest_all(settings: RedditSettings, revisit=()) -> dict[str, Harvest]:
    collector = RedditCollector(settings)
    try:
        return {h.key: h for h in collector.harvest({}, SINCE, revisit)}
    finally:
        collector.close()


def split(harvest: Harvest) -> tuple[Post, list[Post]]:
    (root,) = [p for p in harvest.posts if p.kind == "post"]
    return root, [p for p in harvest.posts if p.kind == "comment"]


def test_a_1428_comment_thread_is_kept_whole_with_the_default_settings(big) -> None:
    fake, thread = big
    settings = settings_for(fake)
    assert settings.replace_more_limit is None and settings.request_budget == 400

    harvest = harvest_all(settings)["r/China/new"]
    root, comments = split(harvest)

    assert harvest.error is None and "comments_not_expanded" not in root.extra
    assert len(comments) == len({c.id for c in comments}) == thread.total == 1428
    present = {p.id for p in harvest.posts}
    assert all(c.parent_id in present for c in comments)
    assert harvest.requests == len(fake.seen)  # every request is charged to the budget
    assert fake.requests_to(r"/_/")  # "continue this thread" links were followed too
    print(f"1428-comment thread: {len(comments)} comments in {harvest.requests} requests")


def test_a_cap_on_load_more_requests_reports_every_comment_left_behind(big) -> None:
    fake, thread = big
    harvest = harvest_all(settings_for(fake, replace_more_limit=8))["r/China/new"]
    root, comments = split(harvest)

    expansions = fake.requests_to(r"^/api/morechildren") + fake.requests_to(r"/_/")
    assert len(expansions) == 8
    assert 0 < len(comments) < thread.total
    assert len(comments) + root.extra["comments_not_expanded"] == thread.total
    print(f"replace_more_limit = 8: {len(comments)} of {thread.total} comments kept")


def test_the_request_budget_stops_expansion_and_keeps_what_came(big) -> None:
    fake, thread = big
    harvest = harvest_all(settings_for(fake, request_budget=20))["r/China/new"]
    root, comments = split(harvest)

    assert harvest.error == "request budget of 20 requests exhausted"
    assert len(fake.seen) == 20
    assert 0 < len(comments) < thread.total
    assert len(comments) + root.extra["comments_not_expanded"] == thread.total
    assert "request budget" in root.extra["comments_incomplete"]
    assert harvest.cursor is None  # the thread is not finished: the next run fetches it again


def test_a_500_storm_costs_three_requests_per_url(fake: FakeReddit) -> None:
    fake.fail(r"^/r/hongkong/new", *[Reply(500, {"error": 500})] * 30)
    harvests = harvest_all(settings_for(fake, subreddits=["HongKong", "China"]))

    assert harvests["r/HongKong/new"].error == (
        "r/HongKong/new/: ServerError (HTTP 500) after 3 attempts"
    )
    assert len(fake.requests_to(r"^/r/hongkong/new")) == 3
    assert harvests["r/China/new"].error is None


def test_a_429_storm_is_retried_by_stablewatch_only(fake: FakeReddit) -> None:
    fake.fail(r"^/r/hongkong/new", *[Reply(429, {"error": 429}, {"Retry-After": "0"})] * 30)
    harvests = harvest_all(settings_for(fake, subreddits=["HongKong", "China"]))

    assert harvests["r/HongKong/new"].error == (
        "r/HongKong/new/: TooManyRequests (HTTP 429) after 3 attempts"
    )
    assert len(fake.requests_to(r"^/r/hongkong/new")) == 3  # retries=2, prawcore adds none
    assert harvests["r/China/new"].error is None


def test_malformed_json_from_the_token_endpoint_is_one_error_naming_the_token_request(
    fake: FakeReddit, caplog: pytest.LogCaptureFixture
) -> None:
    fake.fail(r"^/api/v1/access_token", NOT_JSON, NOT_JSON, NOT_JSON)
    collector = RedditCollector(settings_for(fake, subreddits=["China", "HongKong"]))

    with caplog.at_level(logging.WARNING), pytest.raises(TokenRequestFailed) as caught:
        list(collector.harvest({}, SINCE))
    message = str(caught.value)
    assert message.startswith("Reddit token request POST http://127.0.0.1:")
    assert "/api/v1/access_token answered text/html that is not JSON" in message
    assert message.endswith("after 3 attempts") and "\n" not in message
    assert [s.path for s in fake.seen] == ["/api/v1/access_token"] * 3
    assert not [r for r in caplog.records if r.exc_info]  # no traceback logged


def test_a_host_that_never_answers_is_given_up_after_one_url_and_one_more_attempt() -> None:
    with SilentHost() as host:
        settings = settings_for(host, subreddits=["China", "HongKong", "Bitcoin"],
                                queries=["yuan stablecoin"], keywords=["yuan"], timeout=0.2)
        harvests = list(harvest_all(settings).values())

    assert [h.requests for h in harvests] == [3, 1, 0, 0]  # prawcore's 3 attempts, then 1
    assert "ReadTimeout" in (harvests[0].error or "")
    for harvest in harvests[1:]:
        assert "Reddit left the last 4 attempts unanswered" in (harvest.error or "")


def test_a_deadline_ends_a_hung_reddit_and_later_keys_send_nothing() -> None:
    with SilentHost() as host, deadline_scope(Deadline(0.5, "reddit")):
        # the default 16 s timeout is cut to what the deadline leaves
        settings = settings_for(host, subreddits=["China", "HongKong"],
                                queries=["yuan stablecoin"], keywords=["yuan"])
        harvests = list(harvest_all(settings).values())

    assert all("reddit deadline of 0.5 s reached" in (h.error or "") for h in harvests[1:])
    assert sum(h.requests for h in harvests) <= 3 and harvests[-1].requests == 0


TOPICS = """
[collect]
lookback_days = 30
[reddit]
site = "stablewatch-tests-absent"
oauth_url = "{url}"
reddit_url = "{url}"
max_sleep = 0
request_budget = 20
[[topics]]
name = "yuan stablecoins"
keywords = ["offshore yuan"]
subreddits = ["China"]
"""


@pytest.fixture
def reddit_env(monkeypatch, tmp_path):
    monkeypatch.setattr(praw.config.Config, "CONFIG", None)  # praw caches praw.ini
    monkeypatch.setenv("praw_client_id", "loopback-id")
    monkeypatch.setenv("praw_client_secret", "loopback-secret")
    monkeypatch.setenv("praw_user_agent", "stablewatch-tests/0.1 by u/nobody")
    monkeypatch.chdir(tmp_path)


def test_comments_left_by_the_budget_are_stored_in_runs_and_shown_by_status(
    big, tmp_path, reddit_env
) -> None:
    fake, thread = big
    db = configure_db(tmp_path, tmp_path / "no-model", TOPICS.format(url=fake.url))
    result = CliRunner().invoke(cli, ["--db", str(db), "collect", "--source", "reddit", "--quiet"])
    assert result.exit_code == 2, result.output  # the budget ran out: partial
    with Store.open(db) as store:
        (run,) = store.recent_runs()
        stored = store.db.execute("SELECT COUNT(*) FROM posts WHERE kind = 'comment'").fetchone()[0]
    assert run["command"] == "collect" and run["status"] == "partial"
    assert run["comments_unexpanded"] == thread.total - stored > 0
    assert f"{run['comments_unexpanded']} comments left unexpanded" in result.output
    status = CliRunner().invoke(cli, ["--db", str(db), "status"])
    assert f"{run['comments_unexpanded']} comments left unexpanded" in status.output
    assert "error: reddit r/China/new: request budget of 20 requests exhausted" in status.output


def test_collect_with_a_broken_token_endpoint_prints_one_line(fake, tmp_path, reddit_env) -> None:
    fake.fail(r"^/api/v1/access_token", NOT_JSON, NOT_JSON, NOT_JSON)
    db = configure_db(tmp_path, tmp_path / "no-model", TOPICS.format(url=fake.url))
    result = CliRunner().invoke(cli, ["--db", str(db), "collect", "--source", "reddit", "--quiet"])
    assert result.exit_code == 2
    errors = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "Reddit token request POST" in errors[0]
    assert "Traceback" not in result.output and "JSONDecodeError" not in result.output
