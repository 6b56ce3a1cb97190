"""The schema is documented column by column, and the docs match the code."""

from __future__ import annotations

import json
import sqlite3

from click.testing import CliRunner

from jobs.cli import cli
from jobs.questions import CANNED_QUERIES
from jobs.schema import DESCRIPTIONS, VIEW_DESCRIPTIONS
from jobs.schema_docs import schema_markdown
from jobs.store import Store
from tests.conftest import REPO


def _fts_shadow_tables(db) -> set[str]:
    """The tables FTS5 keeps for each full-text index (documented with the index)."""
    suffixes = ("_data", "_idx", "_docsize", "_config", "_content")
    return {fts + s for fts in db.table_names(fts5=True) for s in suffixes}


def test_every_table_and_column_is_described(tmp_path):
    with Store.open(tmp_path / "a.db") as store:
        shadow = _fts_shadow_tables(store.db)
        assert "posts_fts_data" in shadow
        for table in store.db.table_names():
            if table.startswith("sqlite_") or table in shadow:
                continue
            assert table in DESCRIPTIONS, f"table {table} is undocumented"
            live = [c.name for c in store.db[table].columns]
            assert list(DESCRIPTIONS[table][1]) == live, f"{table}: docs and columns differ"
        assert set(DESCRIPTIONS) - set(store.db.table_names()) == set()


def test_every_view_and_column_is_described(tmp_path):
    with Store.open(tmp_path / "a.db") as store:
        assert set(store.db.view_names()) == set(VIEW_DESCRIPTIONS)
        for view in store.db.view_names():
            live = [c.name for c in store.db[view].columns]
            assert list(VIEW_DESCRIPTIONS[view][1]) == live, f"{view}: docs and columns differ"


def test_docs_schema_md_is_current():
    assert (REPO / "docs" / "schema.md").read_text(encoding="utf-8") == schema_markdown() + "\n"


def test_canned_queries_run_on_an_empty_database(tmp_path):
    with Store.open(tmp_path / "a.db") as store:
        for query in CANNED_QUERIES.values():
            params = {"source": "reddit", "thread_id": "x", "text": "港币"}
            list(store.db.query(query["sql"], params))


def test_metadata_command_is_datasette_shaped(tmp_path):
    result = CliRunner().invoke(cli, ["--db", str(tmp_path / "watch.db"), "metadata"])
    data = json.loads(result.output)
    tables = data["databases"]["watch"]["tables"]
    assert "supportive" in tables["scores"]["columns"]["stance"]
    assert tables["runs"]["hidden"] is True
    assert tables["scored_posts"]["fts_table"] == "posts_fts"
    assert set(data["databases"]["watch"]["queries"]) == set(CANNED_QUERIES)


def test_documented_json_keys_are_the_keys_in_the_data(sample_db):
    from jobs.schema import JSON_KEYS

    con = sqlite3.connect(sample_db.db_path)
    summaries = con.execute("SELECT top_threads, spike_threads, quotes FROM daily_summary "
                            "WHERE volume > 0").fetchall()
    errors = [json.loads(e) for (e,) in con.execute(
        "SELECT errors FROM runs WHERE errors IS NOT NULL")]
    con.close()
    found: dict[str, set[str]] = {"top_threads": set(), "spike_threads": set(), "quotes": set()}
    stances: set[str] = set()
    for top, spike, quotes in summaries:
        for item in json.loads(top):
            found["top_threads"] |= set(item)
        for item in json.loads(spike):
            found["spike_threads"] |= set(item)
        for stance, items in json.loads(quotes).items():
            stances.add(stance)
            for item in items:
                found["quotes"] |= set(item)
    for column, keys in found.items():
        assert keys == set(JSON_KEYS[("daily_summary", column)][1]), column
    assert stances == {"supportive", "neutral", "opposed"}
    assert all(isinstance(m, str) for e in errors for m in e)
