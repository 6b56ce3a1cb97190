"""Datasette itself, driven through its test client on the sample: search box, hidden
internal tables, descriptions, canned queries. Runs on Datasette 0.65 (one merged metadata
file) and on 1.x (metadata.yaml plus datasette.yaml)."""

from __future__ import annotations

import asyncio
import inspect
import sqlite3

import pytest
import yaml

from jobs.datasette_files import (
    CONFIG_FILE,
    HIDDEN_TABLES,
    METADATA_FILE,
    _deep_merge,
    config,
    merged,
    metadata,
    split_files,
)
from jobs.questions import ANALYST_QUESTIONS
from jobs.search import search
from tests.conftest import REPO

datasette_app = pytest.importorskip("datasette.app")


@pytest.fixture(scope="module")
def ds(sample_db):
    """Datasette serving the sample as database `sw`, configured from the split files."""
    name = sample_db.db_path.stem
    files = {k: yaml.safe_load(v) for k, v in split_files(name).items()}
    if "config" in inspect.signature(datasette_app.Datasette).parameters:  # Datasette 1.x
        app = datasette_app.Datasette(
            [str(sample_db.db_path)], metadata=files[METADATA_FILE], config=files[CONFIG_FILE]
        )
    else:  # 0.65 reads one metadata document
        app = datasette_app.Datasette(
            [str(sample_db.db_path)], metadata=_deep_merge(files[METADATA_FILE], files[CONFIG_FILE])
        )
    asyncio.run(app.invoke_startup())
    return app


def get(ds, path):
    response = asyncio.run(ds.client.get(path))
    assert response.status_code == 200, (path, response.status_code, response.text[:300])
    return response


def post_ids(ds, path):
    return sorted(r["post_id"] for r in get(ds, path).json())


def test_search_box_on_posts_finds_what_stablewatch_search_finds(ds, sample_db):
    found = post_ids(ds, "/sw/posts.json?_search=HKMA&_shape=array&_size=max")
    expected = search(sample_db.db_path, "HKMA", limit=10_000)
    assert found == sorted(h["post_id"] for h in expected.hits)
    everything = get(ds, "/sw/posts.json?_shape=array&_size=max").json()
    assert 0 < len(found) < len(everything)


def test_search_box_on_scored_posts_folds_the_scripts(ds, sample_db):
    simplified = post_ids(ds, "/sw/scored_posts.json?_search=稳定币&_shape=array&_size=max")
    traditional = post_ids(ds, "/sw/scored_posts.json?_search=穩定幣&_shape=array&_size=max")
    assert simplified == traditional
    assert len(simplified) == search(sample_db.db_path, "稳定币", limit=1).total
    page = get(ds, "/sw/scored_posts").text
    assert 'name="_search"' in page  # the view shows a search box


def test_internal_tables_are_hidden_and_the_data_is_not(ds):
    data = get(ds, "/sw.json").json()
    hidden = {t["name"] for t in data["tables"] if t["hidden"]}
    shown = {t["name"] for t in data["tables"] if not t["hidden"]}
    assert set(HIDDEN_TABLES) <= hidden and "posts_fts" in hidden
    assert {"posts", "scores", "daily_summary"} <= shown
    assert {"scored_posts", "thread_stance", "daily_series", "spikes"} <= {
        v["name"] for v in data["views"]
    }


def test_descriptions_show_on_table_and_view_pages(ds):
    page = get(ds, "/sw/scored_posts").text
    assert "One row per post with its current-model scores" in page
    assert "neutral also for off-topic texts" in page  # a column description
    assert "Every collected post and comment" in get(ds, "/sw/posts").text


@pytest.mark.parametrize("name", list(ANALYST_QUESTIONS))
def test_canned_queries_give_the_rows_sqlite_gives(ds, sample_db, name):
    via_datasette = get(ds, f"/sw/{name}.json?_shape=array").json()
    con = sqlite3.connect(sample_db.db_path)
    con.row_factory = sqlite3.Row
    direct = [dict(r) for r in con.execute(ANALYST_QUESTIONS[name]["sql"])]
    con.close()
    assert via_datasette == direct and direct


def test_mentions_query_finds_two_character_words(ds, sample_db):
    rows = get(ds, "/sw/mentions.json?text=監管&_shape=array").json()
    assert rows and len(rows) == search(sample_db.db_path, "监管", limit=1).total


def test_split_files_in_the_repository_are_current_and_merge_to_the_065_metadata():
    for filename, text in split_files("stablewatch").items():
        assert (REPO / filename).read_text(encoding="utf-8") == text, (
            f"{filename} is stale: run `stablewatch metadata --split .`"
        )
    assert yaml.safe_load((REPO / METADATA_FILE).read_text(encoding="utf-8")) == metadata()
    assert yaml.safe_load((REPO / CONFIG_FILE).read_text(encoding="utf-8")) == config()
    combined = merged()
    assert (
        combined["databases"]["stablewatch"]["queries"]
        == config()["databases"]["stablewatch"]["queries"]
    )
    assert "description" in combined["databases"]["stablewatch"]["tables"]["posts"]
    assert combined["databases"]["stablewatch"]["tables"]["runs"] == {
        **metadata()["databases"]["stablewatch"]["tables"]["runs"],
        "hidden": True,
    }
