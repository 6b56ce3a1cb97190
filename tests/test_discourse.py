"""The Discourse collector against a loopback forum serving Discourse-shaped JSON."""

from __future__ import annotations

import copy
from datetime import UTC, datetime

import pytest
from loopback import Loopback, Reply, fast_client, fixture_json

from collectors.discourse import DiscourseCollector, DiscourseSettings

SINCE = datetime(2026, 11, 1, tzinfo=UTC)
KEYWORDS = ["stablecoin", "offshore yuan", "HKMA", "稳定币"]
QUERY = "stablecoin yuan"
KEY = f"discourse/Test Forum/{QUERY}"


@pytest.fixture
def server():
    with Loopback() as s:
        s.route("/search.json", Reply(fixture_json("discourse_search.json")))
        for topic in ("501", "502", "504"):
            s.route(f"/t/{topic}.json", Reply(fixture_json(f"discourse_t_{topic}.json")))
        s.route("/t/501/posts.json", Reply(fixture_json("discourse_t_501_posts.json")))
        yield s


def collector(server, queries=(QUERY,), slept=None, **options) -> DiscourseCollector:
    settings = DiscourseSettings(server.url + "/", "Test Forum", list(queries), KEYWORDS, **options)
    return DiscourseCollector(settings, fast_client(slept))


def topics_fetched(server) -> list[str]:
    return [r.path for r in server.requests if r.path.startswith("/t/")]


def test_first_run_builds_topic_trees_with_parents(server):
    (harvest,) = collector(server).harvest({}, SINCE)

    assert harvest.error is None
    assert (harvest.source, harvest.key) == ("discourse:127.0.0.1", KEY)
    assert harvest.cursor == "2026-11-22T11:00:00+00:00"  # the off-topic hit is covered too
    assert {p.id: p.parent_id for p in harvest.posts} == {
        "501": None,
        "501/2": "501",
        "501/3": "501/2",
        "501/4": "501",
        "501/6": "501/3",
        "502": None,
        "502/2": "502",
    }  # fmt: skip  (#5 is a "closed" small action; topic 504 mentions no keyword)
    posts = {p.id: p for p in harvest.posts}
    assert {p.thread_id for p in harvest.posts} == {"501", "502"}
    assert [p.kind for p in harvest.posts] == ["post", "comment", "post"] + ["comment"] * 4

    root = posts["501"]
    assert root.title == "Yuan-referenced stablecoins and cross-border settlement"
    assert root.body.startswith("A short note on how a yuan-referenced stablecoin")
    assert "\n" in root.body  # two paragraphs
    assert (root.author, root.score, root.num_comments) == ("ledgerwren", 4, 3)
    assert root.url == f"{server.url}/t/yuan-referenced-stablecoins-and-cross-border-settlement/501"
    assert root.extra == {"post_id": 7001, "category_id": 5, "tags": ["stablecoins", "payments"]}
    assert root.community == "Test Forum" and root.lang == "en"

    quoted = posts["501/3"]
    assert quoted.created_utc == datetime(2026, 11, 20, 14, 5, 12, 345000, tzinfo=UTC)
    assert quoted.body == (
        "Easier to audit, yes, but redemption still depends on CNH liquidity during stress."
    )  # the quoted text belongs to post #2, not to #3
    assert quoted.url.endswith("/501/3") and quoted.title is None
    assert posts["501/4"].deleted
    assert posts["501/6"].body == "Fair point about stress. A daily attestation would help."
    assert (posts["502"].lang, posts["502/2"].lang) == ("zh", "en")
    assert posts["502"].title == "香港稳定币条例下的储备要求"

    # oldest hit first, so a failure leaves a cursor that skips nothing
    assert topics_fetched(server) == [
        "/t/502.json", "/t/501.json", "/t/501/posts.json", "/t/504.json"
    ]  # fmt: skip
    (more,) = server.hits("/t/501/posts.json")
    assert more.query["post_ids[]"] == ["7005", "7006"]
    (search,) = server.hits("/search.json")
    assert search.arg("q") == f"{QUERY} order:latest after:2026-10-31"
    assert harvest.requests == 5


def test_rerun_skips_what_the_cursor_covers(server):
    cursors = {KEY: "2026-11-22T11:00:00+00:00"}
    (harvest,) = collector(server).harvest(cursors, SINCE)
    assert harvest.posts == [] and harvest.error is None
    assert harvest.cursor == "2026-11-22T11:00:00+00:00"
    assert topics_fetched(server) == []
    assert server.hits("/search.json")[0].arg("q").endswith("after:2026-11-21")


def test_rerun_fetches_only_topics_with_new_hits(server):
    cursors = {KEY: "2026-11-20T14:05:12.345000+00:00"}  # exactly the hit in topic 501
    (harvest,) = collector(server).harvest(cursors, SINCE)
    assert topics_fetched(server) == ["/t/504.json"]  # 501 and 502 hits are at/before it
    assert harvest.posts == []  # 504 is off-topic
    assert harvest.cursor == "2026-11-22T11:00:00+00:00"


def test_more_topics_than_the_limit_are_taken_oldest_first_across_runs(server):
    cursors: dict[str, str] = {}
    threads = []
    for _ in range(4):
        (harvest,) = collector(server, max_topics=1).harvest(cursors, SINCE)
        assert harvest.error is None
        threads.append(sorted({p.thread_id for p in harvest.posts}))
        cursors[KEY] = harvest.cursor
    assert threads == [["502"], ["501"], [], []]
    assert cursors[KEY] == "2026-11-22T11:00:00+00:00"


def test_429_with_retry_after_then_success(server):
    search = fixture_json("discourse_search.json")
    server.route(
        "/search.json",
        Reply(
            {"errors": ["You've performed this action too many times."]}, 429, {"Retry-After": "12"}
        ),
        Reply(search),
    )
    slept: list[float] = []
    (harvest,) = collector(server, slept=slept).harvest({}, SINCE)
    assert harvest.error is None and len(harvest.posts) == 7
    assert slept == [12.0]


def test_5xx_storm_fails_one_query_and_not_the_others(server):
    search = fixture_json("discourse_search.json")

    def route(request):
        if request.arg("q").startswith("hong kong"):
            return Reply(b"<h1>502 Bad Gateway</h1>", status=502, content_type="text/html")
        return Reply(search)

    server.route("/search.json", route)
    slept: list[float] = []
    broken, fine = collector(server, ("hong kong stablecoin", QUERY), slept).harvest({}, SINCE)
    assert "HTTP 502" in broken.error and broken.posts == [] and broken.cursor is None
    assert len(slept) == 4
    assert fine.error is None and len(fine.posts) == 7


def test_failure_mid_run_keeps_earlier_topics_and_a_safe_cursor(server):
    server.route(
        "/t/501.json", Reply("<!DOCTYPE html><title>Oops</title>", content_type="text/html")
    )
    (harvest,) = collector(server).harvest({}, SINCE)
    assert "expected JSON, got text/html" in harvest.error and "/t/501.json" in harvest.error
    assert [p.id for p in harvest.posts] == ["502", "502/2"]
    assert harvest.cursor == "2026-11-19T02:00:00+00:00"  # topic 502's hit; 501 comes next run


def test_private_or_deleted_topic_is_skipped_not_fatal(server):
    server.route("/t/502.json", Reply({"errors": ["You are not permitted to view"]}, status=403))
    (harvest,) = collector(server).harvest({}, SINCE)
    assert harvest.error is None
    assert {p.thread_id for p in harvest.posts} == {"501"}


def test_new_reply_in_an_old_topic_returns_the_topic_from_since(server):
    search = fixture_json("discourse_search.json")
    topic = fixture_json("discourse_t_502.json")
    reply = copy.deepcopy(topic["post_stream"]["posts"][1])
    reply.update(
        id=7103,
        post_number=3,
        reply_to_post_number=2,
        created_at="2026-11-24T07:00:00.000Z",
        cooked="<p>The HKMA FAQ confirms it covers every reference currency.</p>",
    )
    topic["post_stream"]["posts"].append(reply)
    topic["post_stream"]["stream"].append(7103)
    search["posts"].insert(0, {**search["posts"][2], "id": 7103, "post_number": 3,
                               "created_at": reply["created_at"]})  # fmt: skip
    server.route("/search.json", Reply(search))
    server.route("/t/502.json", Reply(topic))

    cursors = {KEY: "2026-11-22T11:00:00+00:00"}
    (harvest,) = collector(server).harvest(cursors, SINCE)
    assert harvest.error is None
    assert {p.id: p.parent_id for p in harvest.posts} == {
        "502": None, "502/2": "502", "502/3": "502/2"
    }  # fmt: skip
    assert harvest.cursor == "2026-11-24T07:00:00+00:00"
    later = datetime(2026, 11, 21, tzinfo=UTC)  # a later `since` drops the older posts
    (narrow,) = collector(server).harvest(cursors, later)
    assert [p.id for p in narrow.posts] == ["502/3"]


def test_revisit_refetches_whole_topics(server):
    cursors = {KEY: "2026-11-22T11:00:00+00:00"}
    _, revisited, gone = collector(server).harvest(cursors, SINCE, revisit=["501", "501", "999"])
    assert (revisited.key, revisited.cursor, revisited.error) == (
        "discourse/Test Forum/thread/501", None, None
    )  # fmt: skip
    assert [p.id for p in revisited.posts] == ["501", "501/2", "501/3", "501/4", "501/6"]
    assert gone.key == "discourse/Test Forum/thread/999" and gone.posts == [] and gone.error is None


def test_invalid_utf8_in_a_topic_is_tolerated(server):
    raw = (
        b'{"id": 502, "title": "Reserves", "slug": "topic", "posts_count": 1, "post_stream": '
        b'{"posts": [{"id": 7101, "post_number": 1, "post_type": 1, "username": "gangkou", '
        b'"created_at": "2026-11-19T02:00:00.000Z", "reply_to_post_number": null, '
        b'"cooked": "<p>HKMA \xe9\x80 stablecoin</p>"}], "stream": [7101]}}'
    )
    server.route("/t/502.json", Reply(raw, content_type="application/json"))
    (harvest,) = collector(server).harvest({}, SINCE)
    assert harvest.error is None
    assert next(p for p in harvest.posts if p.id == "502").body == "HKMA \ufffd stablecoin"
