"""The RSS/Atom collector against feeds served from a loopback server."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from loopback import Loopback, Reply, fast_client, fixture_bytes

from collectors.feeds import FeedCollector, FeedSettings

SINCE = datetime(2026, 11, 1, tzinfo=UTC)
KEYWORDS = ["stablecoin", "offshore yuan", "穩定幣", "稳定币"]
RSS = "application/rss+xml; charset=UTF-8"


@pytest.fixture
def server():
    with Loopback() as s:
        s.route("/press.xml", Reply(fixture_bytes("feed_rss.xml"), content_type=RSS))
        s.route(
            "/atom.xml", Reply(fixture_bytes("feed_atom.xml"), content_type="application/atom+xml")
        )
        yield s


def harvest(server, path, cursors=None, since=SINCE, keywords=KEYWORDS, slept=None, **options):
    url = f"{server.url}{path}"
    collector = FeedCollector(FeedSettings(url, "Press", keywords, **options), fast_client(slept))
    (result,) = collector.harvest(cursors or {}, since)
    assert (result.source, result.key) == ("feed", f"feed/{url}")
    return result


def test_rss_entries_matching_keywords_become_posts(server):
    result = harvest(server, "/press.xml")
    assert result.error is None
    # oldest first; the balance sheet mentions no keyword, October is before `since`,
    # the undated notice cannot be placed behind a cursor
    feed_url = f"{server.url}/press.xml"
    assert [p.id for p in result.posts] == [
        "https://authority.example/press/2026/11/19-register",
        f"{feed_url}#pr-20261121-01",
    ]
    assert result.cursor == "2026-11-21T02:00:00+00:00"  # the newest entry covered
    first, chinese = result.posts
    assert first.title == "Authority publishes register of licensed stablecoin issuers"
    assert first.body == (
        "The Authority today published the first register of licensed stablecoin issuers.\n\n"
        "Three issuers, all banks, meet the reserve & redemption requirements."
    )
    assert first.created_utc == datetime(2026, 11, 19, 1, 30, tzinfo=UTC)
    assert (first.kind, first.thread_id, first.parent_id) == ("post", first.id, None)
    assert first.num_comments is None and first.community == "Press"
    assert first.url == "https://authority.example/press/2026/11/19-register"
    assert first.author == "Press Office" and first.lang == "en"
    assert chinese.lang == "zh" and chinese.title == "管理局發出穩定幣發行人牌照指引"
    assert chinese.extra == {"feed": feed_url}


def test_without_keywords_every_dated_entry_is_kept(server):
    result = harvest(server, "/press.xml", keywords=[])
    assert len(result.posts) == 3


def test_rerun_skips_what_the_cursor_covers(server):
    first = harvest(server, "/press.xml", keywords=[])
    cursors = {first.key: "2026-11-20T08:30:00+00:00"}  # the balance sheet's time
    again = harvest(server, "/press.xml", cursors, keywords=[])
    assert [p.title for p in again.posts] == ["管理局發出穩定幣發行人牌照指引"]
    assert again.cursor == first.cursor
    unchanged = harvest(server, "/press.xml", {first.key: first.cursor}, keywords=[])
    assert unchanged.posts == [] and unchanged.cursor == first.cursor


def test_atom_html_content_is_cleaned(server):
    result = harvest(server, "/atom.xml")
    (post,) = result.posts
    assert post.id == "tag:notes.example,2026:entry-17"
    assert post.title == "Offshore yuan & the settlement question"
    assert post.body == (
        "Offshore yuan liquidity in Hong Kong is deep enough for trade settlement, most days."
    )
    assert post.author == "R. Lin" and post.url == "https://notes.example/2026/offshore-yuan"
    assert post.created_utc == datetime(2026, 11, 22, 6, 0, tzinfo=UTC)  # published, not updated
    assert result.cursor == "2026-11-22T06:00:00+00:00"


def test_malformed_feed_is_a_harvest_error(server):
    server.route(
        "/press.xml", Reply(fixture_bytes("feed_malformed.html"), content_type="text/html")
    )
    result = harvest(server, "/press.xml", {"feed/x": "unused"})
    assert result.posts == [] and result.cursor is None
    assert "not a readable RSS/Atom feed" in result.error and "/press.xml" in result.error


def test_truncated_feed_keeps_the_complete_entries(server):
    server.route("/press.xml", Reply(fixture_bytes("feed_truncated.xml"), content_type=RSS))
    result = harvest(server, "/press.xml", keywords=[])
    assert result.error is None
    assert [p.title for p in result.posts] == [
        "Authority publishes register of licensed stablecoin issuers",
        "Exchange Fund abridged balance sheet",
    ]


def test_invalid_utf8_is_replaced_without_garbling_the_rest(server):
    raw = fixture_bytes("feed_rss.xml").replace(b"Three issuers", b"Three \xff\xfe issuers")
    server.route("/press.xml", Reply(raw, content_type=RSS))
    result = harvest(server, "/press.xml")
    assert result.error is None
    first, chinese = result.posts
    assert "Three \ufffd\ufffd issuers" in first.body
    assert chinese.title == "管理局發出穩定幣發行人牌照指引"


def test_5xx_storm_is_a_harvest_error_and_another_feed_still_works(server):
    server.route("/press.xml", Reply(b"overloaded", status=503))
    slept: list[float] = []
    broken = harvest(server, "/press.xml", slept=slept)
    assert "HTTP 503" in broken.error and broken.posts == []
    assert slept == [1.0, 2.0, 4.0, 8.0]
    fine = harvest(server, "/atom.xml")
    assert fine.error is None and len(fine.posts) == 1


def test_429_with_retry_after_then_success(server):
    server.route(
        "/press.xml",
        Reply(b"", status=429, headers={"Retry-After": "30"}),
        Reply(fixture_bytes("feed_rss.xml"), content_type=RSS),
    )
    slept: list[float] = []
    result = harvest(server, "/press.xml", slept=slept)
    assert result.error is None and len(result.posts) == 2 and result.requests == 2
    assert slept == [30.0]


def test_oversize_feed_is_a_harvest_error(server):
    server.route("/press.xml", Reply(stream_bytes=6 * 1024 * 1024, content_type=RSS))
    result = harvest(server, "/press.xml")
    assert "larger than 5242880 bytes" in result.error and result.posts == []


def test_max_entries_takes_the_oldest_and_leaves_the_rest(server):
    first = harvest(server, "/press.xml", keywords=[], max_entries=1)
    assert [p.title for p in first.posts] == [
        "Authority publishes register of licensed stablecoin issuers"
    ]
    second = harvest(server, "/press.xml", {first.key: first.cursor}, keywords=[], max_entries=1)
    assert [p.title for p in second.posts] == ["Exchange Fund abridged balance sheet"]
