"""Bad records are rejected alone and named; good ones around them are all kept; times
that cannot be real never move a cursor or the default day; every text field is cleaned."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from loopback import Loopback, Reply, fixture_json
from test_hackernews import FakeAlgolia, collector

from collectors.archive import ArchiveCollector, read_archive
from collectors.post import Harvest, Post
from collectors.records import parse_time
from jobs.config import DEFAULT_TOPICS, SAMPLE_ARCHIVE
from jobs.pipeline import collect, default_day
from jobs.store import Store
from jobs.topics import load_topics

NOW = datetime(2026, 12, 1, tzinfo=UTC)
GOOD = {
    "source": "reddit", "id": "g1", "thread_id": "g1", "parent_id": None, "kind": "post",
    "author": "alice", "created_utc": "2026-11-20T08:00:00Z", "title": "HKMA licences",
    "body": "Two issuers got licences.", "url": "https://example.test/g1", "score": 5,
    "num_comments": 0, "community": "r/HongKong", "lang": "en", "deleted": False,
}  # fmt: skip


def line(**fields) -> str:
    return json.dumps({**GOOD, **fields}, ensure_ascii=False)


def write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# What the fault probe sent, and what the rejection must say about it.
HOSTILE = [
    (line(id="b", created_utc=1e20), "created_utc: epoch seconds 1e+20 out of range"),
    (line(id="b", score=float("inf")), "score: expected a finite number, got Infinity"),
    (line(id="b").replace('"score": 5', f'"score": {10**30}'), "score: must be at most"),
    ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
    (line(id="b", created_utc="2099-01-01T00:00:00Z"), "more than a day in the future"),
    (line(id="b", created_utc="2026-11-20T08:00:00"), "has no timezone"),
    (line(id="b", created_utc=0), "before reddit existed"),
    (line(id="b", created_utc=1.7e12), "milliseconds?"),
    (line(id="b", created_utc=True), "expected epoch seconds or ISO-8601 text"),
    (line(id="b", num_comments=-1), "num_comments: must be at least 0"),
    (line(id="b", kind="story"), "kind: expected one of 'post' or 'comment'"),
    (line(id=""), "id: must not be empty"),
    (line(id=None), "id: expected text or an integer, got null"),
    (line(id="b", title=["a"]), "title: expected text"),
    (line(id="b", deleted="no"), "deleted: expected true or false"),
    (json.dumps({k: v for k, v in GOOD.items() if k != "created_utc"}), "created_utc: missing"),
    ('["a", "list"]', "expected a JSON object, got a list"),
    ('{"source": "reddit", "id": "broken", this is not json', "not JSON"),
]  # fmt: skip


@pytest.mark.parametrize(("bad", "reason"), HOSTILE, ids=[r for _, r in HOSTILE])
def test_a_hostile_line_is_rejected_alone_with_its_line_and_reason(tmp_path, bad, reason):
    archive = write(tmp_path / "a.jsonl", [line(id="g1"), bad, line(id="g2")])
    (harvest,) = ArchiveCollector(archive, now=NOW).harvest({})
    assert [p.id for p in harvest.posts] == ["g1", "g2"]
    (rejected,) = harvest.rejected
    assert rejected.where == f"{archive}:2"
    assert reason in rejected.reason
    assert harvest.cursor == "2026-11-20T08:00:00+00:00"


def test_the_probe_keeps_all_67_records_next_to_every_hostile_line(tmp_path):
    """The 67 sample records of 2026-11-20 with a hostile line after each of the first 18."""
    good = [
        r
        for r in SAMPLE_ARCHIVE.read_text(encoding="utf-8").splitlines()
        if '"created_utc": "2026-11-20' in r
    ]
    assert len(good) == 67
    lines: list[str] = []
    for i, record in enumerate(good):
        lines.append(record)
        if i < len(HOSTILE):
            lines.append(HOSTILE[i][0])
    archive = write(tmp_path / "hostile.jsonl", lines)
    with Store.open(tmp_path / "sw.db") as store:
        report = collect(store, [ArchiveCollector(archive)], load_topics(DEFAULT_TOPICS), NOW)
        stored = store.db["posts"].count
    assert (report.counts.new, stored) == (67, 67)
    assert [r.where for r in report.rejected] == [
        f"{archive}:{2 * i + 2}" for i in range(len(HOSTILE))
    ]
    assert report.errors == [
        f"archive {read_archive(archive).key}: {len(HOSTILE)} record(s) "
        f"rejected, first: {report.rejected[0]}"
    ]


def test_unicode_line_separators_inside_a_body_are_text(tmp_path):
    body = "one\u2028two\u2029three\x85four\r\nfive"
    archive = write(tmp_path / "a.jsonl", [line(id="g1", body=body)])
    read = read_archive(archive, NOW)
    assert read.rejected == []
    (post,) = read.posts
    assert post.body == "one\ntwo\nthree\nfour\nfive"


def test_a_far_future_record_moves_neither_cursor_nor_default_day(tmp_path):
    archive = write(tmp_path / "a.jsonl", [
        line(id="g1"), line(id="f1", created_utc="2099-01-01T00:00:00Z"),
        line(id="g2", created_utc="2026-11-21T09:30:00+08:00")])  # fmt: skip
    (harvest,) = ArchiveCollector(archive).harvest({})
    assert harvest.cursor == "2026-11-21T01:30:00+00:00"
    assert default_day(False, [archive]) == "2026-11-21"


def test_the_archive_cursor_names_the_file_by_path_and_content(tmp_path):
    """`collect --archive other/posts.jsonl` must not make `collect --sample` collect nothing."""
    newest = SAMPLE_ARCHIVE.read_text(encoding="utf-8").splitlines()[-1]
    (tmp_path / "other").mkdir()
    other = write(tmp_path / "other" / "posts.jsonl", [newest])
    topics = load_topics(DEFAULT_TOPICS)
    with Store.open(tmp_path / "sw.db") as store:
        first = collect(store, [ArchiveCollector(other)], topics, NOW)
        sample = collect(store, [ArchiveCollector(SAMPLE_ARCHIVE)], topics, NOW)
        keys = set(store.get_cursors("archive"))
    assert first.counts.new == 1
    assert (sample.counts.new, sample.counts.unchanged) == (553, 1)
    assert keys == {read_archive(other).key, read_archive(SAMPLE_ARCHIVE).key}
    assert read_archive(other).key.startswith(f"archive:{other.resolve()}#")
    # the same path appended to keeps its cursor; rewritten with other content starts afresh
    grown = read_archive(write(other, [newest, line(id="g9")])).key
    rewritten = read_archive(write(other, [line(id="g9"), newest])).key
    assert grown in keys and rewritten not in keys


def test_duplicate_ids_in_one_batch_count_once(tmp_path):
    archive = write(
        tmp_path / "a.jsonl",
        [line(id=f"p{i}") for i in range(20)] + [line(id="p7", body="the same post again, edited")],
    )
    with Store.open(tmp_path / "sw.db") as store:
        report = collect(store, [ArchiveCollector(archive)], load_topics(DEFAULT_TOPICS), NOW)
        body = store.db["posts"].get(("reddit", "p7"))["body"]
    assert (report.counts.new, report.counts.total) == (20, 20)
    assert body == "the same post again, edited"  # the last copy wins


def test_every_stored_text_field_is_cleaned_the_same_way():
    post = Post(
        source="reddit\x00", id="p1\r\n", thread_id="p1", parent_id=None,
        author="mallory\r\n\x07<b>x</b>", created_utc=NOW, title="Title\nsecond line",
        body="&lt;script&gt;alert(1)&lt;/script&gt;Kept &amp;amp; words",
        url="javascript:alert(1)", community="r/Hong\u202eKong\x1b[31m", lang="en\n",
    )  # fmt: skip
    assert (post.source, post.id) == ("reddit", "p1")
    assert post.author == "mallory x"
    assert post.community == "r/HongKong[31m"
    assert post.title == "Title second line"
    assert post.body == "Kept & words"
    assert "<script" not in post.body and post.url is None
    assert Post(**{**post.__dict__, "url": "https://example.test/a b"}).url is None
    assert Post(**{**post.__dict__, "url": " HTTPS://example.test/a "}).url == (
        "HTTPS://example.test/a"
    )


@pytest.mark.parametrize(("value", "expected"), [
    (1795163400, "2026-11-20T08:30:00+00:00"),
    (1795163400.5, "2026-11-20T08:30:00.500000+00:00"),
    ("2026-11-20T16:30:00+08:00", "2026-11-20T08:30:00+00:00"),
    ("2026-11-20T08:30:00z", "2026-11-20T08:30:00+00:00"),
])  # fmt: skip
def test_times_are_epoch_seconds_or_iso_with_a_timezone(value, expected):
    assert parse_time(value).isoformat() == expected


class OneHarvest:
    """A source that delivers one prepared harvest (a stand-in for a live API)."""

    source = "feed"

    def __init__(self, harvest: Harvest) -> None:
        self.prepared = harvest

    def harvest(self, cursors, since, revisit=()):
        yield self.prepared


def test_live_posts_are_screened_and_a_future_cursor_is_not_saved(tmp_path):
    now = datetime.now(UTC)
    good = Post("feed", "e1", "e1", None, "a", now - timedelta(hours=1), "HKMA news", "body")
    future = Post("feed", "e2", "e2", None, "a", now + timedelta(days=3), "HKMA soon", "body")
    huge = Post("feed", "e3", "e3", None, "a", now, "HKMA score", "body", score=10**30)
    harvest = Harvest("feed", "feed/x", [good, future, huge], future.created_utc.isoformat())
    with Store.open(tmp_path / "sw.db") as store:
        report = collect(store, [OneHarvest(harvest)], load_topics(DEFAULT_TOPICS), now)
        assert store.get_cursors("feed") == {}
        assert [r["post_id"] for r in store.db["posts"].rows] == ["e1"]
    assert [r.where for r in report.rejected] == ["feed/x id e2", "feed/x id e3"]
    assert "more than a day in the future" in report.rejected[0].reason
    assert f"score {10**30} is out of range" in report.rejected[1].reason
    assert any("is in the future; not saved" in e for e in report.errors)


def test_hacker_news_rejects_one_bad_comment_and_keeps_its_thread():
    item = fixture_json("hn_item_9100001.json")
    item["children"][0]["children"][0]["created_at_i"] = 1e20  # comment 9100012
    with Loopback() as server:
        FakeAlgolia(server)
        server.route("/items/9100001", Reply(item))
        (harvest,) = collector(server).harvest({}, datetime(2026, 11, 1, tzinfo=UTC))
    ids = [p.id for p in harvest.posts]
    assert "9100012" not in ids and {"9100001", "9100011", "9100013", "9100014"} <= set(ids)
    (rejected,) = harvest.rejected
    assert rejected.where == "hn/search/stablecoin id 9100012"
    assert "out of range" in rejected.reason
    assert harvest.error is None and harvest.cursor == "2026-11-22T16:20:00+00:00"


def _find(node, thing_id):
    """The Reddit thing with `thing_id` anywhere in a JSON listing tree."""
    if isinstance(node, dict):
        if node.get("data", {}).get("id") == thing_id:
            return node["data"]
        node = list(node.values())
    if isinstance(node, list):
        for child in node:
            found = _find(child, thing_id)
            if found:
                return found
    return None


def test_reddit_rejects_one_bad_comment_and_keeps_its_thread():
    from reddit_server import fixture_reddit, settings_for

    from collectors.reddit import RedditCollector

    fake = fixture_reddit()
    _find(fake.threads["abc105"], "ca2")["created_utc"] = 1e20
    with fake.running():
        collector = RedditCollector(settings_for(fake))
        try:
            harvest = next(collector.harvest({}, datetime(2026, 11, 20, tzinfo=UTC)))
        finally:
            collector.close()
    ids = {p.id for p in harvest.posts}
    assert "ca2" not in ids and {"abc105", "ca1", "ca3", "cb1"} <= ids
    (rejected,) = harvest.rejected
    assert (rejected.source, rejected.where) == ("reddit", "r/China/new id ca2")
    assert "out of range" in rejected.reason
    assert harvest.error is None and harvest.cursor == "2026-11-22T02:00:00+00:00"
