"""The SQLite store: schema, idempotent upserts, cursors, locked databases."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

import pytest

from classifier.scores import Scores
from collectors.post import Post
from jobs.schema import SCHEMA_VERSION
from jobs.store import Store, StoreError


def make_post(pid: str = "p1", body: str = "HKMA licences announced", **kw) -> Post:
    fields = dict(
        source="reddit", id=pid, thread_id=kw.pop("thread_id", pid), parent_id=None,
        author="alice", created_utc=datetime(2026, 3, 1, 8, 0, tzinfo=UTC), title=None,
        body=body, score=1,
    )
    fields.update(kw)
    return Post(**fields)


def test_open_creates_schema_with_wal_and_foreign_keys(tmp_path):
    with Store.open(tmp_path / "a.db") as store:
        assert store.schema_version() == SCHEMA_VERSION
        assert store.db.journal_mode == "wal"
        assert store.db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert set(store.counts()) >= {"posts", "scores", "runs", "daily_summary", "digests"}
    with Store.open(tmp_path / "a.db") as store:  # reopening migrates nothing twice
        count = store.db.execute("SELECT COUNT(*) FROM schema_version").fetchone()[0]
        assert count == SCHEMA_VERSION  # one row per migration


def test_a_version_1_database_is_migrated_keeping_its_rows(tmp_path):
    import sqlite3

    from jobs.schema import MIGRATIONS

    con = sqlite3.connect(tmp_path / "old.db")
    con.executescript(MIGRATIONS[1])
    con.execute("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at TEXT)")
    con.execute("INSERT INTO schema_version VALUES (1, '2026-11-01T00:00:00+00:00')")
    con.execute("INSERT INTO daily_summary (day, topic, model_id, volume, posts, comments, "
                "authors, relevant, supportive, neutral, opposed, speculative, top_threads, "
                "quotes, computed_at) VALUES ('2026-11-01', 'all', 'm', 3, 1, 2, 2, 1, 1, 0, 0,"
                " 0, '[]', '{}', '2026-11-02T00:00:00+00:00')")
    con.commit()
    con.close()
    with Store.open(tmp_path / "old.db") as store:
        assert store.schema_version() == SCHEMA_VERSION
        row = store.summaries("2026-11-01")[0]
    assert row["volume"] == 3 and row["spike"] == 0 and row["spike_threads"] == []


def test_upsert_is_idempotent_and_updates_in_place(tmp_path):
    with Store.open(tmp_path / "a.db") as store:
        first = store.upsert_posts([make_post()], {})
        again = store.upsert_posts([make_post()], {})
        edited_post = make_post(body="HKMA licences announced (edited)", score=9)
        edited = store.upsert_posts([edited_post], {})
        rows = list(store.db["posts"].rows)
    assert (first.new, again.unchanged, edited.updated) == (1, 1, 1)
    assert len(rows) == 1
    assert rows[0]["body"].endswith("(edited)") and rows[0]["score"] == 9
    assert rows[0]["day"] == "2026-03-01"


def test_deleted_post_keeps_its_history(tmp_path):
    with Store.open(tmp_path / "a.db") as store:
        store.upsert_posts([make_post(body="original words")], {("reddit", "p1"): "t"})
        store.upsert_posts([make_post(body="[deleted]", author=None, deleted=True)], {})
        row = store.db["posts"].get(("reddit", "p1"))
    assert row["is_deleted"] == 1
    assert row["body"] == "original words"
    assert row["topic"] == "t"


def test_unscored_follows_text_changes_and_model_id(tmp_path):
    with Store.open(tmp_path / "a.db") as store:
        store.upsert_posts([make_post("p1"), make_post("p2", body="other")], {})
        pending = store.unscored("m1")
        assert {p["post_id"] for p in pending} == {"p1", "p2"}
        store.save_scores([(p, Scores(0.9, (0.7, 0.2, 0.1), 0.3, "m1")) for p in pending])
        assert store.unscored("m1") == []
        assert len(store.unscored("m2")) == 2
        store.upsert_posts([make_post("p1", body="changed text")], {})
        assert [p["post_id"] for p in store.unscored("m1")] == ["p1"]
        row = store.db["scores"].get(("reddit", "p2", "m1"))
    assert row["stance"] == "supportive" and row["relevant"] == 1 and row["speculative"] == 0


def test_scores_need_an_existing_post(tmp_path):
    with Store.open(tmp_path / "a.db") as store, pytest.raises(sqlite3.IntegrityError):
        store.save_scores([({"source": "x", "post_id": "nope", "content_hash": "h"},
                            Scores(0.9, (0.1, 0.8, 0.1), 0.1, "m1"))])


def test_cursors_round_trip(tmp_path):
    with Store.open(tmp_path / "a.db") as store:
        assert store.get_cursors("reddit") == {}
        store.set_cursor("reddit", "r/China/new", "2026-03-01T00:00:00+00:00")
        store.set_cursor("reddit", "r/China/new", "2026-03-02T00:00:00+00:00")
        assert store.get_cursors("reddit") == {"r/China/new": "2026-03-02T00:00:00+00:00"}


def test_locked_database_gives_a_clear_error(tmp_path, monkeypatch):
    path = tmp_path / "a.db"
    Store.open(path).close()
    holder = sqlite3.connect(path)
    holder.execute("PRAGMA journal_mode=DELETE")  # needs an exclusive lock; fails in WAL
    holder.execute("BEGIN EXCLUSIVE")
    monkeypatch.setattr("jobs.store.BUSY_TIMEOUT_SECONDS", 0.2)
    try:
        with pytest.raises(StoreError, match="locked by another process"):
            Store.open(path)
    finally:
        holder.rollback()
        holder.close()


def test_not_a_database(tmp_path):
    path = tmp_path / "junk.db"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match="damaged or not a SQLite database"):
        Store.open(path)


def test_posts_by_key_finds_stored_posts_only(tmp_path):
    with Store.open(tmp_path / "a.db") as store:
        store.upsert_posts([make_post("p1"), make_post("p2")], {})
        found = store.posts_by_key([("reddit", "p1"), ("reddit", "nope"), ("hn", "p2")])
    assert list(found) == [("reddit", "p1")]
    assert found[("reddit", "p1")]["body"] == "HKMA licences announced"


def _database_before_the_runs_rebuild(path):
    """A database at the schema version just before the step that rebuilds `runs`."""
    from jobs.fts import register_functions
    from jobs.schema import MIGRATIONS

    step = next(v for v, sql in MIGRATIONS.items() if "RENAME TO runs" in sql)
    con = sqlite3.connect(path)
    register_functions(con)  # the search step fills posts.search_text with them
    con.execute("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at TEXT)")
    for version in range(1, step):
        con.executescript(MIGRATIONS[version])
        con.execute("INSERT INTO schema_version VALUES (?, '2026-11-01T00:00:00+00:00')",
                    [version])
    return con, step


def test_an_older_database_is_migrated_keeping_its_runs(tmp_path):
    """The step that rebuilds `runs` (new statuses, comments_unexpanded, pid) keeps rows."""
    con, _ = _database_before_the_runs_rebuild(tmp_path / "old.db")
    con.execute("INSERT INTO runs (command, day, started_at, status, errors, rejected, "
                "rejected_records) VALUES ('daily', '2026-11-01', '2026-11-02T06:30:00+00:00', "
                "'partial', '[\"e\"]', 1, '[{\"where\": \"a.jsonl:3\"}]')")
    con.commit()
    con.close()
    with Store.open(tmp_path / "old.db") as store:
        assert store.schema_version() == SCHEMA_VERSION
        (old,) = store.recent_runs()
        assert (old["status"], old["errors"], old["rejected"]) == ("partial", ["e"], 1)
        assert old["comments_unexpanded"] == 0 and old["pid"] is None
        new = store.start_run("daily", "2026-11-02")
        assert new == old["run_id"] + 1  # AUTOINCREMENT carried over
        store.finish_run(new, "aborted", ["stopped by SIGTERM"])
        store.db.execute("INSERT INTO runs (command, started_at, status) "
                         "VALUES ('collect', 'x', 'crashed')")
        with pytest.raises(sqlite3.IntegrityError):
            store.db.execute("INSERT INTO runs (command, started_at, status) "
                             "VALUES ('collect', 'x', 'exploded')")


def test_a_schema_step_that_fails_leaves_neither_its_changes_nor_its_version_row(tmp_path):
    con, step = _database_before_the_runs_rebuild(tmp_path / "old.db")
    con.execute("PRAGMA ignore_check_constraints = ON")  # a row the rebuild cannot copy
    con.execute("INSERT INTO runs (command, started_at, status) VALUES ('daily', 'x', 'odd')")
    con.commit()
    con.close()

    with pytest.raises(StoreError, match="CHECK constraint failed"):
        Store.open(tmp_path / "old.db")  # fails after the step created runs_v<step>
    con = sqlite3.connect(tmp_path / "old.db")
    assert con.execute("SELECT MAX(version) FROM schema_version").fetchone()[0] == step - 1
    tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert f"runs_v{step}" not in tables and "runs" in tables
    columns = [r[1] for r in con.execute("PRAGMA table_info(runs)")]
    assert "comments_unexpanded" not in columns and "rejected" in columns
    con.execute("DELETE FROM runs WHERE status = 'odd'")
    con.commit()
    con.close()
    with Store.open(tmp_path / "old.db") as store:
        assert store.schema_version() == SCHEMA_VERSION


@pytest.mark.parametrize(
    ("title", "body"),
    [("HKMA licences", "Two issuers first."), (None, "Only a body."), ("Only a title", "")],
)
def test_the_hashed_text_is_the_text_the_classifier_reads(tmp_path, title, body):
    """content_hash covers exactly what scoring reads for a stored post (one function)."""
    from collectors.post import post_text
    from jobs.scoring import post_text as stored_text
    from jobs.store import content_hash

    post = make_post(title=title, body=body)
    with Store.open(tmp_path / "a.db") as store:
        store.upsert_posts([post], {})
        (pending,) = store.unscored("m1")
    assert stored_text(pending) == post.text == post_text(title, body)
    assert pending["content_hash"] == content_hash(stored_text(pending))
