"""`stablewatch query` is read-only; `stablewatch export` writes CSV, JSON and Parquet."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import sqlite3
import sys

import pytest
from click.testing import CliRunner

from jobs.cli import cli

USAGE = (2, 64)  # a command-line mistake: click's usage exit code, or EX_USAGE


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def count(db_path, sql, params=()):
    con = sqlite3.connect(db_path)
    try:
        return con.execute(sql, params).fetchone()[0]
    finally:
        con.close()


def test_query_prints_a_table_csv_and_json(sample_db):
    db = sample_db.db_path
    sql = "SELECT day, volume, net_stance FROM daily_series WHERE topic = 'all' ORDER BY day"
    table = run("--db", db, "query", sql)
    assert table.exit_code == 0, table.output
    lines = table.output.splitlines()
    assert lines[0].split() == ["day", "volume", "net_stance"] and set(lines[1]) <= {"-", " "}
    assert len(lines) == 2 + count(db, "SELECT count(*) FROM daily_series WHERE topic = 'all'")
    as_csv = list(csv.DictReader(io.StringIO(run("--db", db, "query", sql, "--csv").output)))
    as_json = json.loads(run("--db", db, "query", sql, "--json").output)
    assert (
        [r["day"] for r in as_csv]
        == [r["day"] for r in as_json]
        == [line.split()[0] for line in lines[2:]]
    )
    assert as_json[0]["volume"] == int(as_csv[0]["volume"])
    both = run("--db", db, "query", sql, "--csv", "--json")
    assert both.exit_code in USAGE


@pytest.mark.parametrize(
    "sql",
    [
        "DELETE FROM posts",
        "UPDATE scores SET stance = 'opposed'",
        "DROP VIEW scored_posts",
        "CREATE TABLE notes (x)",
        "PRAGMA query_only = 0",
        "ATTACH DATABASE 'other.db' AS other",
        "VACUUM INTO 'copy.db'",
    ],
)
def test_query_refuses_every_write_and_leaves_the_file_as_it_was(
    sample_db, sql, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    db = sample_db.db_path
    before = digest(db)
    result = run("--db", db, "query", sql)
    assert result.exit_code == 1
    assert result.output.startswith("Error: refused: the database is opened read-only")
    assert len(result.output.strip().splitlines()) == 1
    assert digest(db) == before and list(tmp_path.iterdir()) == []


def test_query_errors_are_one_line(sample_db, tmp_path):
    missing = tmp_path / "missing.db"
    result = run("--db", missing, "query", "SELECT 1")
    assert result.exit_code == 1 and "no database at" in result.output
    assert not missing.exists()
    two = run("--db", sample_db.db_path, "query", "SELECT 1; SELECT 2")
    assert two.exit_code == 1 and "one statement" in two.output
    bad = run("--db", sample_db.db_path, "query", "SELECT nope FROM posts")
    assert bad.exit_code == 1 and "no such column: nope" in bad.output
    junk = tmp_path / "junk.db"
    junk.write_text("not sqlite " * 100)
    result = run("--db", junk, "query", "SELECT 1")
    assert result.exit_code == 1 and "not a usable SQLite database" in result.output


def test_export_formats_hold_the_same_rows(sample_db, tmp_path):
    import pyarrow.parquet as pq

    db = sample_db.db_path
    window = ["--from", "2026-11-19", "--to", "2026-11-20"]
    expected = count(
        db,
        "SELECT count(*) FROM scored_posts WHERE day BETWEEN ? AND ?",
        ["2026-11-19", "2026-11-20"],
    )
    outputs = {}
    for fmt in ("csv", "json", "parquet"):
        out = tmp_path / f"posts.{fmt}"
        result = run("--db", db, "export", "--out", out, *window)  # format from the name
        assert result.exit_code == 0, result.output
        assert result.output.strip() == f"exported {expected} rows of scored_posts to {out}"
        outputs[fmt] = out
    from_csv = list(csv.DictReader(outputs["csv"].open(encoding="utf-8")))
    from_json = json.loads(outputs["json"].read_text(encoding="utf-8"))
    from_parquet = pq.read_table(outputs["parquet"]).to_pylist()
    assert len(from_csv) == len(from_json) == len(from_parquet) == expected
    assert {r["day"] for r in from_json} == {"2026-11-19", "2026-11-20"}
    assert (
        [r["post_id"] for r in from_csv]
        == [r["post_id"] for r in from_json]
        == [r["post_id"] for r in from_parquet]
    )
    assert from_parquet[0] == from_json[0]  # types survive: numbers stay numbers
    assert any("穩定幣" in (r["body"] or "") for r in from_parquet)


def test_export_other_tables(sample_db, tmp_path):
    out = tmp_path / "series.json"
    result = run(
        "--db",
        sample_db.db_path,
        "export",
        "--table",
        "daily_series",
        "--format",
        "json",
        "--out",
        out,
    )
    assert result.exit_code == 0
    assert len(json.loads(out.read_text())) == count(
        sample_db.db_path, "SELECT count(*) FROM daily_series"
    )
    threads = tmp_path / "threads.csv"
    run(
        "--db",
        sample_db.db_path,
        "export",
        "--table",
        "thread_stance",
        "--out",
        threads,
        "--from",
        "2026-11-23",
        "--to",
        "2026-11-23",
    )
    rows = list(csv.DictReader(threads.open(encoding="utf-8")))
    assert rows and all(r["last_day"] >= "2026-11-23" for r in rows)


def test_export_without_pyarrow_says_how_to_get_it_and_keeps_the_old_file(
    sample_db, tmp_path, monkeypatch
):
    out = tmp_path / "posts.parquet"
    out.write_bytes(b"earlier export")
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # as if it were not installed
    result = run("--db", sample_db.db_path, "export", "--out", out)
    assert result.exit_code == 1
    assert "pip install 'stablewatch[parquet]'" in result.output
    assert out.read_bytes() == b"earlier export"
    assert [p.name for p in tmp_path.iterdir()] == ["posts.parquet"]


def test_export_needs_a_known_format(sample_db, tmp_path):
    result = run("--db", sample_db.db_path, "export", "--out", tmp_path / "posts.xlsx")
    assert result.exit_code in USAGE and "--format csv, json or parquet" in result.output
    assert not (tmp_path / "posts.xlsx").exists()
