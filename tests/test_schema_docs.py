"""The schema is documented column by column, and the docs match the code."""

from __future__ import annotations

import json

from click.testing import CliRunner

from jobs.cli import cli
from jobs.schema import DESCRIPTIONS
from jobs.schema_docs import CANNED_QUERIES, schema_markdown
from jobs.store import Store
from tests.conftest import REPO


def test_every_table_and_column_is_described(tmp_path):
    with Store.open(tmp_path / "a.db") as store:
        for table in store.db.table_names():
            if table.startswith("sqlite_"):
                continue
            assert table in DESCRIPTIONS, f"table {table} is undocumented"
            live = [c.name for c in store.db[table].columns]
            assert list(DESCRIPTIONS[table][1]) == live, f"{table}: docs and columns differ"


def test_docs_schema_md_is_current():
    assert (REPO / "docs" / "schema.md").read_text(encoding="utf-8") == schema_markdown() + "\n"


def test_canned_queries_run(tmp_path):
    with Store.open(tmp_path / "a.db") as store:
        for query in CANNED_QUERIES.values():
            params = {"source": "reddit", "thread_id": "x"} if ":source" in query["sql"] else {}
            list(store.db.query(query["sql"], params))


def test_metadata_command_is_datasette_shaped(tmp_path):
    result = CliRunner().invoke(cli, ["--db", str(tmp_path / "watch.db"), "metadata"])
    data = json.loads(result.output)
    tables = data["databases"]["watch"]["tables"]
    assert "supportive" in tables["scores"]["columns"]["stance"]
    assert set(data["databases"]["watch"]["queries"]) == set(CANNED_QUERIES)
