"""`stablewatch collect/daily --source reddit`: the real praw against a loopback Reddit."""

from __future__ import annotations

import praw
import pytest
from click.testing import CliRunner
from reddit_server import fixture_reddit

from jobs.cli import cli
from jobs.store import Store
from tests.conftest import configure_db

TOPICS = """
[collect]
lookback_days = 30
[reddit]
site = "stablewatch-tests-absent"
oauth_url = "{url}"
reddit_url = "{url}"
max_sleep = 0
[[topics]]
name = "yuan stablecoins"
keywords = ["offshore yuan", "digital yuan", "数字人民币", "yuan stablecoin", "HKMA"]
subreddits = ["China", "HongKong"]
queries = ["yuan stablecoin"]
"""


@pytest.fixture
def fake():
    server = fixture_reddit()
    with server.running():
        yield server


@pytest.fixture
def db(tmp_path, fake, tiny_model_dir, monkeypatch):
    monkeypatch.setattr(praw.config.Config, "CONFIG", None)  # praw caches praw.ini per process
    for name in ("praw_client_id", "praw_client_secret", "praw_user_agent"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no praw.ini here
    return configure_db(tmp_path, tiny_model_dir, TOPICS.format(url=fake.url))


def credentials(monkeypatch):
    monkeypatch.setenv("praw_client_id", "loopback-id")
    monkeypatch.setenv("praw_client_secret", "loopback-secret")
    monkeypatch.setenv("praw_user_agent", "stablewatch-tests/0.1 by u/nobody")


def invoke(db, *args):
    return CliRunner().invoke(cli, ["--db", str(db), *args])


def test_missing_credentials_fail_before_anything_is_written(db, fake):
    result = invoke(db, "collect", "--source", "reddit")
    assert result.exit_code == 1
    assert "praw_client_id" in result.output and "docs/reddit.md" in result.output
    assert not db.exists()
    assert fake.requests_to("/") == []


def test_collect_stores_threads_and_a_rerun_adds_nothing(db, monkeypatch):
    credentials(monkeypatch)
    first = invoke(db, "collect", "--source", "reddit", "--quiet")
    assert first.exit_code == 0, first.output
    with Store.open(db) as store:
        rows = list(store.db["posts"].rows)
        cursors = store.get_cursors("reddit")
    posts = [r for r in rows if r["kind"] == "post"]
    comments = [r for r in rows if r["kind"] == "comment"]
    assert posts and comments
    ids = {r["post_id"] for r in rows}
    assert all(c["parent_id"] in ids for c in comments)
    assert all(r["topic"] == "yuan stablecoins" for r in rows)
    assert set(cursors) >= {"r/China/new", "r/HongKong/new", "search/yuan stablecoin"}
    second = invoke(db, "collect", "--source", "reddit", "--quiet")
    assert second.exit_code == 0 and " 0 new" in second.output


def test_daily_from_reddit_scores_and_digests(db, monkeypatch):
    credentials(monkeypatch)
    result = invoke(db, "daily", "--source", "reddit", "--date", "2026-11-21", "--quiet")
    assert result.exit_code == 0, result.output
    assert "stablewatch daily 2026-11-21" in result.output
    with Store.open(db) as store:
        assert store.db["scores"].count == store.db["posts"].count > 0
    assert (db.parent / "out" / "stablewatch-2026-11-21.eml").exists()
