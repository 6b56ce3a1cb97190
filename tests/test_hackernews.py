"""The Hacker News collector against a loopback imitation of the Algolia HN API."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime

import pytest
from loopback import Loopback, Reply, fast_client, fixture_bytes, fixture_json

from collectors.hackernews import HackerNewsCollector, HackerNewsSettings

SINCE = datetime(2026, 11, 1, tzinfo=UTC)
KEYWORDS = ["stablecoin", "offshore yuan", "HKMA", "稳定币"]
STORY_IDS = ("9100001", "9100002", "9100003")


class FakeAlgolia:
    """search_by_date over the fixture hits: numericFilters, newest first, pages."""

    def __init__(self, server: Loopback, honour_filters: bool = True) -> None:
        self.hits = fixture_json("hn_search_by_date.json")["hits"]
        self.honour_filters = honour_filters
        server.route("/search_by_date", self.search)
        for story_id in STORY_IDS:
            server.route(f"/items/{story_id}", Reply(fixture_bytes(f"hn_item_{story_id}.json")))

    def search(self, request) -> Reply:
        hits = sorted(self.hits, key=lambda h: -h["created_at_i"])
        match = re.fullmatch(r"created_at_i(>=?)(\d+)", request.arg("numericFilters") or "")
        if self.honour_filters and match:
            op, bound = match.group(1), int(match.group(2))
            hits = [
                h
                for h in hits
                if h["created_at_i"] > bound or (op == ">=" and h["created_at_i"] == bound)
            ]
        per_page, page = int(request.arg("hitsPerPage") or 20), int(request.arg("page") or 0)
        return Reply(
            {
                "hits": hits[page * per_page : (page + 1) * per_page],
                "hitsPerPage": per_page,
                "nbHits": len(hits),
                "nbPages": math.ceil(len(hits) / per_page),
                "page": page,
                "query": request.arg("query"),
            }
        )


@pytest.fixture
def server():
    with Loopback() as s:
        yield s


def collector(server, queries=("stablecoin",), slept=None, **options) -> HackerNewsCollector:
    settings = HackerNewsSettings(server.url, list(queries), KEYWORDS, **options)
    return HackerNewsCollector(settings, fast_client(slept))


def test_first_run_builds_story_trees_with_parents(server):
    FakeAlgolia(server)
    (harvest,) = collector(server).harvest({}, SINCE)

    assert harvest.error is None
    assert (harvest.source, harvest.key) == ("hackernews", "hn/search/stablecoin")
    # the off-topic Show HN story is covered (cursor) but dropped; the October one is too old
    assert harvest.cursor == "2026-11-22T16:20:00+00:00"
    posts = {p.id: p for p in harvest.posts}
    assert list(posts) == [
        "9100001", "9100011", "9100012", "9100013", "9100014", "9100015", "9100002", "9100021",
    ]  # fmt: skip
    assert {p.id: p.parent_id for p in harvest.posts} == {
        "9100001": None, "9100011": "9100001", "9100012": "9100011", "9100013": "9100001",
        "9100014": "9100013", "9100015": "9100001", "9100002": None, "9100021": "9100002",
    }  # fmt: skip
    assert {p.thread_id for p in harvest.posts if p.id.startswith("91000")} <= set(STORY_IDS)
    assert all(posts[i].thread_id == "9100001" for i in ("9100012", "9100014", "9100015"))

    story = posts["9100001"]
    assert (story.kind, story.title, story.author, story.score) == (
        "post", "Hong Kong names its first licensed stablecoin issuers", "harbourlight", 87
    )  # fmt: skip
    assert story.num_comments == 4  # the deleted comment does not count
    assert story.created_utc == datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
    assert story.url == "https://news.ycombinator.com/item?id=9100001"
    assert story.extra == {"link": "https://example.org/hk-stablecoin-licences"}
    assert story.community == "Hacker News" and story.lang == "en"

    reply = posts["9100012"]
    assert reply.kind == "comment" and reply.title is None
    assert "alert" not in reply.body and "<" not in reply.body
    assert reply.body.endswith("algorithmic stablecoin collapses.")
    assert "I'd expect only a handful" in posts["9100011"].body
    assert "\n" in posts["9100011"].body  # paragraphs survive as line breaks
    assert posts["9100013"].deleted and posts["9100013"].author is None
    assert posts["9100015"].lang == "zh"
    assert posts["9100002"].body.startswith("If an offshore yuan stablecoin launched")
    assert '"real"' in posts["9100002"].body

    search = server.hits("/search_by_date")[0]
    assert search.arg("numericFilters") == f"created_at_i>={int(SINCE.timestamp())}"
    assert (search.arg("tags"), search.arg("query")) == ("story", "stablecoin")
    assert harvest.requests == 4  # one search, three trees


def test_rerun_skips_what_the_cursor_covers(server):
    FakeAlgolia(server)
    cursors = {"hn/search/stablecoin": "2026-11-22T16:20:00+00:00"}
    (harvest,) = collector(server).harvest(cursors, SINCE)
    assert harvest.posts == [] and harvest.error is None
    assert harvest.cursor == "2026-11-22T16:20:00+00:00"
    assert server.hits("/search_by_date")[0].arg("numericFilters") == "created_at_i>1795364400"
    assert not [r for r in server.requests if r.path.startswith("/items/")]


def test_cursor_is_enforced_even_if_the_api_ignores_the_filter(server):
    FakeAlgolia(server, honour_filters=False)
    cursors = {"hn/search/stablecoin": "2026-11-20T08:00:00+00:00"}
    (harvest,) = collector(server).harvest(cursors, SINCE)
    assert [p.id for p in harvest.posts if p.kind == "post"] == ["9100002"]
    assert not server.hits("/items/9100001")


def test_more_stories_than_the_limit_are_taken_oldest_first_across_runs(server):
    FakeAlgolia(server)
    cursors: dict[str, str] = {}
    roots = []
    for _ in range(4):
        (harvest,) = collector(server, max_stories=1).harvest(cursors, SINCE)
        assert harvest.error is None
        roots.append([p.id for p in harvest.posts if p.kind == "post"])
        cursors[harvest.key] = harvest.cursor
    assert roots == [["9100001"], ["9100002"], [], []]  # 9100003 is covered but off-topic
    assert cursors["hn/search/stablecoin"] == "2026-11-22T16:20:00+00:00"


def test_429_with_retry_after_then_success(server):
    fake = FakeAlgolia(server)
    server.route(
        "/search_by_date",
        Reply({"message": "rate limited"}, 429, {"Retry-After": "3"}),
        fake.search,
    )
    slept: list[float] = []
    (harvest,) = collector(server, slept=slept).harvest({}, SINCE)
    assert harvest.error is None and len(harvest.posts) == 8
    assert slept == [3.0]
    assert harvest.requests == 5


def test_5xx_storm_fails_one_query_and_not_the_others(server):
    fake = FakeAlgolia(server)

    def search(request):
        if request.arg("query") == "digital yuan":
            return Reply(b"<html>upstream timeout</html>", status=504)
        return fake.search(request)

    server.route("/search_by_date", search)
    slept: list[float] = []
    first, second = collector(server, ("digital yuan", "stablecoin"), slept).harvest({}, SINCE)
    assert first.key == "hn/search/digital yuan"
    assert first.posts == [] and first.cursor is None
    assert "HTTP 504" in first.error and "gave up after 5 attempts" in first.error
    assert slept == [1.0, 2.0, 4.0, 8.0]
    assert second.error is None and len(second.posts) == 8


def test_failure_mid_run_keeps_earlier_threads_and_a_safe_cursor(server):
    FakeAlgolia(server)
    server.route(
        "/items/9100002", Reply(b'{"id": 9100002, "children": [', content_type="application/json")
    )
    (harvest,) = collector(server).harvest({}, SINCE)
    assert "expected JSON" in harvest.error and "/items/9100002" in harvest.error
    assert [p.thread_id for p in harvest.posts] == ["9100001"] * 6
    assert harvest.cursor == "2026-11-20T08:00:00+00:00"  # the next run resumes at 9100002

    FakeAlgolia(server)
    (again,) = collector(server).harvest({harvest.key: harvest.cursor}, SINCE)
    assert again.error is None
    assert [p.id for p in again.posts] == ["9100002", "9100021"]


def test_story_gone_since_the_search_is_kept_from_the_hit(server):
    FakeAlgolia(server)
    server.route("/items/9100002", Reply({"error": "Not found"}, status=404))
    (harvest,) = collector(server).harvest({}, SINCE)
    assert harvest.error is None
    story = next(p for p in harvest.posts if p.id == "9100002")
    assert story.title.startswith("Ask HN") and story.num_comments == 0
    assert "offshore yuan stablecoin" in story.body


def test_invalid_utf8_in_a_comment_is_tolerated(server):
    FakeAlgolia(server)
    raw = fixture_bytes("hn_item_9100002.json").replace(b"probably not.", b"probably \xff\xfe not.")
    server.route("/items/9100002", Reply(raw, content_type="application/json"))
    (harvest,) = collector(server).harvest({}, SINCE)
    assert harvest.error is None
    comment = next(p for p in harvest.posts if p.id == "9100021")
    assert (
        comment.body == "Exporters invoicing in CNH might. Retail users, probably \ufffd\ufffd not."
    )


def test_revisit_refetches_whole_threads_once(server):
    FakeAlgolia(server)
    server.route("/items/9100002", Reply(b"bad gateway", status=502))
    cursors = {"hn/search/stablecoin": "2026-11-21T03:15:00+00:00"}
    search, revisit_1, missing, failing = collector(server).harvest(
        cursors, SINCE, revisit=["9100001", "9100003", "9100003", "404404", "9100002"]
    )
    assert search.error is None and search.posts == []  # 9100003 is newer, but off-topic
    assert (revisit_1.key, revisit_1.cursor, revisit_1.error) == ("hn/thread/9100001", None, None)
    assert len(revisit_1.posts) == 6
    assert (missing.key, missing.posts, missing.error) == ("hn/thread/404404", [], None)
    assert failing.key == "hn/thread/9100002" and "HTTP 502" in failing.error
    assert len(server.hits("/items/9100003")) == 1  # fetched by the search, not again


def test_the_limit_never_splits_stories_created_in_the_same_second(server):
    fake = FakeAlgolia(server)
    second = next(h for h in fake.hits if h["objectID"] == "9100002")
    second["created_at_i"] = 1795161600  # same second as 9100001
    (harvest,) = collector(server, max_stories=1).harvest({}, SINCE)
    assert [p.id for p in harvest.posts if p.kind == "post"] == ["9100001", "9100002"]
    assert harvest.cursor == "2026-11-20T08:00:00+00:00"
