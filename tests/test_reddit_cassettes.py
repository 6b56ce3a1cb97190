"""Replay Reddit responses recorded by the praw project through the loopback Reddit.

The cassettes live in ``../shared/fixtures/reddit-cassettes`` beside the checkout (or in
``/work/shared``); the tests skip when that folder is absent. Each recorded answer is served
where the collector asks for it: a subreddit listing (hot or new) as ``r/<sub>/new``, a
search as ``r/all/search``, a thread as ``comments/<id>`` (collected through `revisit`).
"""

from __future__ import annotations

import base64
import gzip
import json
import re
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
from reddit_server import (
    FakeReddit,
    Reply,
    UnusedRecordings,
    load_cassette,
    load_fixture,
    settings_for,
)

from collectors.post import Harvest, Post
from collectors.reddit import RedditCollector

REPO = Path(__file__).resolve().parents[1]
CASSETTES = next(
    (
        root / "fixtures" / "reddit-cassettes"
        for root in (REPO.parent / "shared", Path("/work/shared"))
        if (root / "fixtures" / "reddit-cassettes").is_dir()
    ),
    REPO.parent / "shared" / "fixtures" / "reddit-cassettes",
)
FOUND = sorted(CASSETTES.glob("*.json")) if CASSETTES.is_dir() else []
SINCE = datetime(2005, 6, 1, tzinfo=UTC)  # before Reddit existed: everything is new
KEYWORDS = ["what", "you", "your", "reddit", "praw", "how", "why", "who"]


def replay(fake: FakeReddit, path: Path) -> dict:
    """Serve `path`'s interactions; return the settings that make the collector ask for them."""
    plan: dict = {"subreddits": [], "queries": [], "revisit": []}
    for method, url_path, query, reply in load_cassette(path):
        if match := re.fullmatch(r"/r/(\w+)/search/?", url_path):
            fake.add_recorded(method, url_path, reply)
            plan["queries"].append(query["q"])
        elif match := re.fullmatch(r"/r/(\w+)/(hot|new|top|rising|controversial)/?", url_path):
            fake.add_recorded(method, f"/r/{match.group(1)}/new", reply)
            plan["subreddits"].append(match.group(1))
        elif match := re.fullmatch(r"/comments/(\w+)/?", url_path):
            fake.add_recorded(method, url_path, reply)
            plan["revisit"].append(match.group(1))
        else:
            fake.add_recorded(method, url_path, reply)
    return plan


def harvest_cassette(path: Path) -> tuple[FakeReddit, list[Harvest]]:
    fake = FakeReddit()
    with fake.running():
        plan = replay(fake, path)
        revisit = plan.pop("revisit")
        settings = settings_for(fake, keywords=KEYWORDS, replace_more_limit=0, **plan)
        collector = RedditCollector(settings)
        try:
            return fake, list(collector.harvest({}, SINCE, revisit))
        finally:
            collector.close()


def check_threads(posts: list[Post]) -> None:
    assert len({p.id for p in posts}) == len(posts), "ids are unique"
    by_thread: dict[str, set[str]] = {}
    for post in posts:
        by_thread.setdefault(post.thread_id, set()).add(post.id)
    for post in posts:
        assert post.source == "reddit"
        assert SINCE < post.created_utc < datetime(2017, 1, 1, tzinfo=UTC)
        if post.kind == "post":
            assert post.thread_id == post.id and post.parent_id is None and post.title
            assert post.url and post.url.startswith("https://www.reddit.com/r/")
        else:
            assert post.parent_id in by_thread[post.thread_id], f"{post.id} has no parent"
            assert post.body and post.title is None
        assert post.lang in ("en", "zh", "ja", None) and "<script" not in post.body


@pytest.mark.parametrize(
    "path",
    FOUND or [pytest.param(None, marks=pytest.mark.skip(reason=f"no cassettes in {CASSETTES}"))],
    ids=lambda p: p.stem if p else "absent",
)
def test_cassette_parses_into_threads(path: Path) -> None:
    fake, harvests = harvest_cassette(path)
    posts = [p for h in harvests for p in h.posts]
    counts = Counter(p.kind for p in posts)
    print(f"{path.name}: {counts['post']} posts, {counts['comment']} comments")

    assert harvests and all(h.error is None for h in harvests), [h.error for h in harvests]
    assert counts["post"] > 0
    check_threads(posts)
    if any(h.key == "revisit" for h in harvests):
        assert counts["comment"] > 0
    for harvest in harvests:
        if harvest.key != "revisit":
            newest = max(p.created_utc for p in harvest.posts)
            assert harvest.cursor is not None and harvest.cursor >= newest.isoformat()
            assert all(p.extra["keywords"] for p in harvest.posts)
    assert sum(h.requests for h in harvests) == len(fake.seen)


def test_gzip_base64_cassette_bodies_are_replayed(tmp_path: Path) -> None:
    """Betamax stores compressed bodies as base64; they are served as recorded."""
    listing = load_fixture("listing_china_new.json")
    cassette = {
        "interactions": [
            {
                "request": {"method": "GET", "uri": "https://oauth.reddit.com/r/China/new"},
                "response": {
                    "status": {"code": 200, "message": "OK"},
                    "headers": {
                        "Content-Type": ["application/json; charset=UTF-8"],
                        "Content-Encoding": ["gzip"],
                    },
                    "body": {
                        "base64_string": base64.b64encode(
                            gzip.compress(json.dumps(listing).encode())
                        ).decode(),
                        "encoding": "UTF-8",
                    },
                },
            }
        ]
    }
    path = tmp_path / "gzip.json"
    path.write_text(json.dumps(cassette), encoding="utf-8")

    (method, url_path, _, reply), *_ = load_cassette(path)
    assert isinstance(reply, Reply) and reply.payload()[:2] == b"\x1f\x8b"
    _, (harvest,) = harvest_cassette(path)
    assert harvest.error is None
    # only abc105 asks "what"; its thread is not in the cassette, so it comes without comments
    assert [p.id for p in harvest.posts] == ["abc105"]
    assert "comments_unavailable" in harvest.posts[0].extra


def test_a_recording_left_unplayed_fails_the_test() -> None:
    """As in praw's own cassette tests: every recorded interaction must be asked for."""
    listing = load_fixture("listing_china_new.json")
    fake = FakeReddit()
    with pytest.raises(UnusedRecordings, match=r"GET /r/hongkong/new"), fake.running():
        fake.add_recorded("GET", "/r/China/new", Reply(200, listing))
        fake.add_recorded("GET", "/r/HongKong/new", Reply(200, listing))  # never asked for
        collector = RedditCollector(settings_for(fake, keywords=KEYWORDS, replace_more_limit=0))
        try:
            (harvest,) = collector.harvest({}, SINCE)
        finally:
            collector.close()
        assert harvest.error is None and harvest.posts
    assert fake.played == {("GET", "/r/china/new")}
    with pytest.raises(ValueError, match="recorded twice"):
        fake.add_recorded("GET", "/r/china/new/", Reply(200, listing))
