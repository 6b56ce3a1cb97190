"""Reddit collection against the loopback Reddit: pagination, search, comment trees, cursors."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from reddit_server import FakeReddit, Reply, fixture_reddit, load_fixture, settings_for

from collectors.post import Harvest
from collectors.reddit import RedditCollector
from jobs.sources import reddit_collector
from jobs.topics import Topic, Topics

SINCE = datetime(2026, 11, 20, tzinfo=UTC)


@pytest.fixture
def fake() -> Iterator[FakeReddit]:
    fake = fixture_reddit()
    with fake.running():
        yield fake


def run(fake: FakeReddit, cursors=None, revisit=(), **overrides) -> dict[str, Harvest]:
    collector = RedditCollector(settings_for(fake, **overrides))
    try:
        return {h.key: h for h in collector.harvest(cursors or {}, SINCE, revisit)}
    finally:
        collector.close()


def ids(harvest: Harvest, kind: str | None = None) -> list[str]:
    return [p.id for p in harvest.posts if kind is None or p.kind == kind]


def test_listing_follows_after_cursors_across_pages(fake: FakeReddit) -> None:
    harvest = run(fake)["r/China/new"]

    pages = fake.requests_to(r"^/r/china/new")
    assert [p.query.get("after") for p in pages] == [None, "t3_abc104", "t3_abc102"]
    assert all(p.query["limit"] == "2" for p in pages)
    assert harvest.error is None
    # matching submissions only, oldest first; abc100 is older than `since`
    assert ids(harvest, "post") == ["abc101", "abc103", "abc105"]
    assert harvest.cursor == "2026-11-22T02:00:00+00:00"  # abc105, the newest examined
    assert harvest.requests == len(fake.seen) == 10  # token, 3 pages, 3 threads, 3 morechildren


def test_comment_tree_is_complete_after_expanding_more(fake: FakeReddit) -> None:
    posts = {p.id: p for p in run(fake)["r/China/new"].posts if p.thread_id == "abc105"}

    assert len(fake.requests_to(r"^/api/morechildren")) == 3  # two stubs plus a nested one
    assert sorted(posts) == sorted(
        ["abc105", "ca1", "ca2", "ca3", "ca4", "ca5", "ca6", "ca7", "ca8", "cb1"]
    )
    for post in posts.values():
        if post.kind == "comment":
            assert post.parent_id in posts, post
    assert posts["ca6"].parent_id == "ca5" and posts["cb1"].parent_id == "ca8"
    assert posts["abc105"].parent_id is None and posts["abc105"].kind == "post"
    assert posts["ca3"].deleted and posts["ca3"].author is None and posts["ca3"].body == "[deleted]"
    assert posts["ca4"].deleted and posts["ca4"].body == "[removed]"
    assert not posts["ca1"].deleted and posts["ca1"].author == "tsim_sha_tsui_fx"
    assert posts["ca8"].lang == "zh" and posts["ca1"].lang == "en"
    assert posts["ca1"].url == "https://www.reddit.com/r/China/comments/abc105/_/ca1/"
    assert posts["ca1"].community == "China"
    assert "comments_not_expanded" not in posts["abc105"].extra


def test_replace_more_limit_bounds_requests_and_records_what_is_left(fake: FakeReddit) -> None:
    posts = {p.id: p for p in run(fake, replace_more_limit=0)["r/China/new"].posts}

    assert fake.requests_to(r"^/api/morechildren") == []
    assert {"ca1", "ca2", "ca3", "ca4"} <= set(posts) and "ca5" not in posts
    # the stubs say 2 + 2, but the thread counts 9 comments and 4 came: 5 are missing
    # (cb1 sits behind a stub inside ca7's stub)
    assert posts["abc105"].extra["comments_not_expanded"] == 5


def test_html_and_script_in_bodies_are_cleaned(fake: FakeReddit) -> None:
    post = next(p for p in run(fake)["r/China/new"].posts if p.id == "abc105")

    assert "<" not in post.body and "alert" not in post.body
    assert "settle in an offshore yuan token" in post.body
    assert "Fees & limits are still unclear." in post.body
    assert post.extra["keywords"] == ["offshore yuan"]
    assert post.score == 42 and post.num_comments == 9 and post.lang == "en"


def test_search_uses_sort_new_and_skips_threads_already_fetched(fake: FakeReddit) -> None:
    harvests = run(fake, queries=["yuan stablecoin"])
    search = harvests["search/yuan stablecoin"]

    (first, *_) = fake.requests_to(r"^/r/all/search")
    assert first.query["q"] == "yuan stablecoin" and first.query["sort"] == "new"
    assert search.error is None
    assert ids(search, "post") == ["abc201", "abc105"]  # abc202 does not mention a keyword
    assert ids(search, "comment") == ["cx1", "cx2"]
    assert search.cursor == "2026-11-22T02:00:00+00:00"
    assert len(fake.requests_to(r"^/comments/abc105")) == 1  # fetched once, by r/China/new


def test_rerun_with_saved_cursors_fetches_nothing_new(fake: FakeReddit) -> None:
    first = run(fake, subreddits=["China", "HongKong"], queries=["yuan stablecoin"])
    cursors = {key: h.cursor for key, h in first.items() if h.cursor}
    before = len(fake.seen)

    second = run(fake, cursors, subreddits=["China", "HongKong"], queries=["yuan stablecoin"])

    keys = {"r/China/new", "r/HongKong/new", "search/yuan stablecoin"}
    assert set(cursors) == set(second) == keys
    for key, harvest in second.items():
        assert harvest.posts == [] and harvest.error is None
        assert harvest.cursor == cursors[key]
    later = [s.path for s in fake.seen[before:]]
    assert later == ["/api/v1/access_token", "/r/China/new/", "/r/HongKong/new/", "/r/all/search/"]


def test_cursor_stops_at_the_boundary_and_advances_with_new_posts(fake: FakeReddit) -> None:
    harvest = run(fake, {"r/China/new": "2026-11-21T06:00:00+00:00"})["r/China/new"]

    assert ids(harvest, "post") == ["abc105"]  # abc103 (06:00 the day after SINCE) is covered
    assert harvest.cursor == "2026-11-22T02:00:00+00:00"
    assert len(fake.requests_to(r"^/r/china/new")) == 2


def test_revisit_refetches_comment_trees_and_skips_vanished_threads(fake: FakeReddit) -> None:
    harvest = run(fake, subreddits=[], revisit=["t3_abc301", "abc101", "gone42"])["revisit"]

    assert harvest.cursor is None and harvest.error is None
    assert ids(harvest) == ["abc301", "cw1", "abc101", "cy1"]
    assert {p.thread_id for p in harvest.posts} == {"abc301", "abc101"}
    assert len(fake.requests_to(r"^/comments/gone42")) == 1


def test_request_budget_stops_cleanly_with_an_error(fake: FakeReddit) -> None:
    harvests = run(fake, subreddits=["China", "HongKong"], request_budget=5)

    china, hongkong = harvests["r/China/new"], harvests["r/HongKong/new"]
    assert len(fake.seen) == 5
    assert "budget" in (china.error or "") and "budget" in (hongkong.error or "")
    # token + 3 pages + the oldest thread: abc101 is complete, so the cursor moves just past it
    assert ids(china) == ["abc101", "cy1", "abc103", "abc105"]
    assert china.cursor == "2026-11-20T20:00:00+00:00"  # abc102, examined and older than abc103
    assert hongkong.posts == [] and hongkong.cursor is None and hongkong.requests == 0


def test_posts_repeated_by_a_shifting_page_are_collected_once(fake: FakeReddit) -> None:
    children = {
        c["data"]["id"]: c for c in load_fixture("listing_china_new.json")["data"]["children"]
    }

    def page(*names: str) -> Reply:
        data = {"after": f"t3_{names[-1]}", "children": [children[n] for n in names]}
        return Reply(200, {"kind": "Listing", "data": data})

    # a new post pushed abc104 from page one onto page two while we were reading
    fake.fail(r"^/r/china/new", page("abc105", "abc104"), page("abc104", "abc103"))
    harvest = run(fake)["r/China/new"]

    assert harvest.error is None
    assert ids(harvest, "post") == ["abc101", "abc103", "abc105"]
    assert len(ids(harvest)) == len(set(ids(harvest)))


@pytest.mark.parametrize(
    "reply", [Reply(404, {"error": 404}), Reply(200, {"unexpected": True})], ids=["404", "odd"]
)
def test_an_unreadable_thread_keeps_its_post_and_the_key_goes_on(
    fake: FakeReddit, reply: Reply
) -> None:
    fake.fail(r"^/comments/abc103", reply)
    harvest = run(fake)["r/China/new"]

    assert harvest.error is None and harvest.cursor == "2026-11-22T02:00:00+00:00"
    post = next(p for p in harvest.posts if p.id == "abc103")
    assert "comments_unavailable" in post.extra
    assert [p.id for p in harvest.posts if p.thread_id == "abc103"] == ["abc103"]
    assert len([p for p in harvest.posts if p.thread_id == "abc105"]) == 10


def test_the_request_budget_is_per_run(fake: FakeReddit) -> None:
    collector = RedditCollector(settings_for(fake, request_budget=10))
    try:
        first = list(collector.harvest({}, SINCE))
        second = list(collector.harvest({}, SINCE))
    finally:
        collector.close()

    assert first[0].error is None and first[0].requests == 10
    assert second[0].error is None and second[0].requests == 9  # the token is reused


def test_without_keywords_every_submission_is_kept(fake: FakeReddit) -> None:
    harvest = run(fake, keywords=[])["r/China/new"]

    assert ids(harvest, "post") == ["abc101", "abc102", "abc103", "abc104", "abc105"]


def test_settings_take_the_union_of_topics_and_the_reddit_table() -> None:
    """jobs.sources builds the one Reddit collector: every topic's subreddits and queries
    (read once each, whatever their case), every keyword, and the [reddit] tunables."""
    topics = Topics(
        topics=[
            Topic("a", ["a"], subreddits=["China", "CryptoCurrency"], queries=["digital yuan"]),
            Topic("b", ["b"], subreddits=["cryptocurrency", "HongKong"], queries=["HKMA"]),
        ],
        forums=[],
        reddit={"request_budget": 50, "site": None, "client_id": "id", "client_secret": "s",
                "user_agent": "stablewatch-tests/0.1"},
    )
    collector = reddit_collector(topics)
    try:
        listings = collector.keys()
        assert [key for key, _path, _params in listings] == [
            "r/China/new", "r/CryptoCurrency/new", "r/HongKong/new",
            "search/digital yuan", "search/HKMA",
        ]
        assert collector.settings.keywords == ["a", "b"]
        assert collector.settings.request_budget == 50 and collector.budget.limit == 50
    finally:
        collector.close()
