"""Full-text search: the FTS5 index, its triggers, folding, and `stablewatch search`."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from click.testing import CliRunner

from collectors.fold import fold
from collectors.post import Post
from jobs.cli import cli
from jobs.schema import MIGRATIONS
from jobs.search import SearchFilters, search
from jobs.store import Store

FTS_COLUMNS = ["title", "body", "search_text"]


def make_post(pid: str, body: str, title: str | None = None, day: int = 1) -> Post:
    return Post(
        source="reddit",
        id=pid,
        thread_id=pid,
        parent_id=None,
        author="alice",
        created_utc=datetime(2026, 3, day, 8, 0, tzinfo=UTC),
        title=title,
        body=body,
        url=f"https://example.test/{pid}",
    )


def fts_ids(store: Store, text: str) -> set[str]:
    rows = store.db.execute(
        "SELECT p.post_id FROM posts p JOIN posts_fts f ON f.rowid = p.rowid "
        "WHERE posts_fts MATCH ?",
        ['"' + text + '"'],
    ).fetchall()
    return {r[0] for r in rows}


def integrity_ok(store: Store) -> None:
    store.db.execute("INSERT INTO posts_fts (posts_fts, rank) VALUES ('integrity-check', 1)")


USAGE = (2, 64)  # a command-line mistake: click's usage exit code, or EX_USAGE


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def test_the_index_is_the_one_sqlite_utils_makes(tmp_path):
    with Store.open(tmp_path / "a.db") as store:
        assert store.db["posts"].detect_fts() == "posts_fts"

        def schema():
            return store.db.execute(
                "SELECT type, name, sql FROM sqlite_master ORDER BY name"
            ).fetchall()

        before = schema()
        # replace=True rebuilds unless the table and triggers are what it would create
        store.db["posts"].enable_fts(
            FTS_COLUMNS, create_triggers=True, tokenize="trigram", replace=True
        )
        assert schema() == before
        triggers = {t.name for t in store.db["posts"].triggers}
        assert triggers >= {"posts_ai", "posts_ad", "posts_au"}


def test_triggers_keep_the_index_in_step_through_upserts_and_deletes(tmp_path):
    with Store.open(tmp_path / "a.db") as store:
        store.upsert_posts(
            [
                make_post("a", "The HKMA named three issuers"),
                make_post("b", "离岸人民币稳定币试点", title="传闻"),
            ],
            {},
        )
        assert fts_ids(store, "hkma") == {"a"}
        assert fts_ids(store, "離岸人民幣") == {"b"}  # traditional finds simplified
        store.upsert_posts([make_post("a", "Licences went to three firms")], {})
        assert fts_ids(store, "HKMA") == set() and fts_ids(store, "three firms") == {"a"}
        store.upsert_posts([replace(make_post("b", "[deleted]"), deleted=True)], {})
        assert fts_ids(store, "稳定币试点") == {"b"}  # a deleted post keeps its text
        with store.db.conn:
            store.db.execute("DELETE FROM posts WHERE post_id = 'a'")
        assert fts_ids(store, "three firms") == set()
        integrity_ok(store)


def test_a_version_2_database_gets_its_posts_indexed_on_upgrade(tmp_path):
    path = tmp_path / "old.db"
    con = sqlite3.connect(path)
    for version in (1, 2):
        con.executescript(MIGRATIONS[version])
    con.execute("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at TEXT)")
    con.execute("INSERT INTO schema_version VALUES (1, 'x'), (2, 'y')")
    con.execute(
        "INSERT INTO posts (source, post_id, thread_id, kind, created_at, day, title, "
        "body, content_hash, collected_at, updated_at) VALUES ('discourse', '7', '7', "
        "'post', '2026-03-01T00:00:00+00:00', '2026-03-01', '金管局', "
        "'穩定幣發行人牌照', 'h', 'x', 'x')"
    )
    con.commit()
    con.close()
    result = run("--db", path, "search", "稳定币发行人")
    assert result.exit_code == 1 and "schema version 2" in result.output  # read-only: no upgrade
    with Store.open(path) as store:
        assert store.schema_version() >= 3
        assert "稳定币发行人牌照" in store.db.execute("SELECT search_text FROM posts").fetchone()[0]
        assert fts_ids(store, "稳定币发行人") == {"7"}
        integrity_ok(store)


def _scan_count(db_path, term: str) -> int:
    """Posts whose folded title and body contain the folded term: a plain Python scan."""
    con = sqlite3.connect(db_path)
    texts = [f"{t or ''}\n{b or ''}" for t, b in con.execute("SELECT title, body FROM posts")]
    con.close()
    needle = fold(term).lower()
    return sum(needle in fold(text).lower() for text in texts)


@pytest.mark.parametrize("term", ["HKMA", "hkma", "稳定币", "穩定幣", "監管", "牌照", "e-CNY"])
def test_search_finds_what_a_scan_of_every_post_finds(sample_db, term):
    result = search(sample_db.db_path, term, limit=1000)
    assert result.total == len(result.hits) == _scan_count(sample_db.db_path, term)
    assert result.total > 0


def test_both_scripts_find_the_same_posts_and_more_than_like(sample_db):
    simplified = search(sample_db.db_path, "稳定币", limit=1000)
    traditional = search(sample_db.db_path, "穩定幣", limit=1000)
    assert [h["post_id"] for h in simplified.hits] == [h["post_id"] for h in traditional.hits]
    con = sqlite3.connect(sample_db.db_path)
    like = con.execute(
        "SELECT count(*) FROM posts WHERE coalesce(title, '') || body LIKE '%稳定币%'"
    ).fetchone()[0]
    written_traditional = con.execute(
        "SELECT count(*) FROM posts WHERE coalesce(title, '') || body LIKE '%穩定幣%'"
    ).fetchone()[0]
    con.close()
    assert written_traditional > 0 and simplified.total > like


def test_short_terms_use_like_and_terms_combine(sample_db):
    two_chars = search(sample_db.db_path, "监管", limit=1000)  # below the trigram minimum
    assert two_chars.total == _scan_count(sample_db.db_path, "监管") > 0
    both = search(sample_db.db_path, 'HKMA licences "first stablecoin"', limit=1000)
    assert 0 < both.total < search(sample_db.db_path, "HKMA", limit=1).total
    con = sqlite3.connect(sample_db.db_path)
    for hit in both.hits:
        title, body = con.execute(
            "SELECT title, body FROM posts WHERE source = ? AND post_id = ?",
            [hit["source"], hit["post_id"]],
        ).fetchone()
        text = f"{title} {body}".lower()
        assert "hkma" in text and "licences" in text and "first stablecoin" in text
    con.close()


def test_filters_narrow_the_hits(sample_db):
    everything = search(sample_db.db_path, "stablecoin", limit=1000)
    opposed = search(sample_db.db_path, "stablecoin", SearchFilters(stance="opposed"), 1000)
    assert 0 < opposed.total < everything.total
    assert all(h["stance"] == "opposed" for h in opposed.hits)
    window = search(
        sample_db.db_path, "stablecoin", SearchFilters(first="2026-11-19", last="2026-11-20"), 1000
    )
    assert {h["day"] for h in window.hits} == {"2026-11-19", "2026-11-20"}
    hk = search(
        sample_db.db_path,
        "stablecoin",
        SearchFilters(topic="Hong Kong stablecoin regulation"),
        1000,
    )
    assert hk.hits and all(h["topic"] == "Hong Kong stablecoin regulation" for h in hk.hits)


def test_search_command_prints_date_source_stance_speculation_and_link(sample_db):
    result = run("--db", sample_db.db_path, "search", "HKMA", "--limit", "3")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    total = search(sample_db.db_path, "HKMA").total
    assert lines[0] == f"{total} posts match 'HKMA' (the newest 3 shown; --limit for more)"
    blocks = result.output.split("\n\n")[1:]
    assert len(blocks) == 3
    for block in blocks:
        facts, link, text = block.splitlines()
        assert facts[:10] >= "2026-11-12" and "speculation 0." in facts
        assert any(s in facts for s in ("supportive", "neutral", "opposed"))
        assert link.strip().startswith("https://")
        assert "hkma" in fold(text).lower()


def test_search_json_is_newest_first(sample_db):
    result = run("--db", sample_db.db_path, "search", "穩定幣", "--json", "--limit", "50")
    data = json.loads(result.output)
    assert data["terms"] == ["稳定币"] and len(data["hits"]) == min(50, data["total"])
    stamps = [h["created_at"] for h in data["hits"]]
    assert stamps == sorted(stamps, reverse=True)
    assert {"day", "source", "stance", "speculation", "url", "excerpt"} <= set(data["hits"][0])


def test_search_errors_are_one_line_and_create_nothing(tmp_path, sample_db):
    missing = tmp_path / "none.db"
    result = run("--db", missing, "search", "HKMA")
    assert result.exit_code == 1 and "no database at" in result.output
    assert not missing.exists()
    empty = run("--db", sample_db.db_path, "search", '""')
    assert empty.exit_code in USAGE and "empty search" in empty.output
    backwards = run(
        "--db", sample_db.db_path, "search", "x", "--from", "2026-11-20", "--to", "2026-11-19"
    )
    assert backwards.exit_code in USAGE
