"""`stablewatch daily --source hackernews`: topics.toml forums wired to a loopback Algolia."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from loopback import Loopback
from test_hackernews import FakeAlgolia

from jobs.cli import cli
from jobs.store import Store
from tests.conftest import configure_db

TOPICS = """
[collect]
lookback_days = 3650
[[topics]]
name = "Hong Kong stablecoin regulation"
keywords = ["HKMA", "stablecoin", "稳定币", "offshore yuan"]
[[forums]]
kind = "hackernews"
name = "Hacker News"
url = "{url}"
queries = ["stablecoin"]
max_stories = 10
"""


@pytest.fixture
def db(tmp_path, tiny_model_dir):
    with Loopback() as server:
        FakeAlgolia(server)
        yield configure_db(tmp_path, tiny_model_dir, TOPICS.format(url=server.url))


def test_daily_collects_hacker_news_threads(db):
    result = CliRunner().invoke(cli, ["--db", str(db), "daily", "--source", "hackernews",
                                      "--quiet"])
    assert result.exit_code == 0, result.output
    with Store.open(db) as store:
        kinds = {r["kind"] for r in store.db["posts"].rows}
        cursors = store.get_cursors("hackernews")
        unscored = store.unscored(next(iter(store.db["scores"].rows))["model_id"])
    assert kinds == {"post", "comment"}
    assert "hn/search/stablecoin" in cursors
    assert unscored == []
    again = CliRunner().invoke(cli, ["--db", str(db), "daily", "--source", "hackernews",
                                     "--quiet"])
    assert again.exit_code == 0 and "0 new" in again.output


def test_a_day_when_every_source_failed_says_missing_data(tmp_path, tiny_model_dir):
    """Nothing listens on the forum's port: the digest must not read like a quiet day."""
    import socket

    with socket.socket() as sock:  # a free loopback port, closed again: connections refused
        sock.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{sock.getsockname()[1]}"
    db = configure_db(tmp_path, tiny_model_dir, TOPICS.format(url=dead))
    result = CliRunner().invoke(cli, ["--db", str(db), "daily", "--source", "hackernews",
                                      "--date", "2026-11-20", "--no-send"])
    assert result.exit_code == 2, result.output
    eml = (tmp_path / "out" / "stablewatch-2026-11-20.eml").read_text(encoding="utf-8")
    assert "Subject: stablewatch 2026-11-20: MISSING DATA, every source failed" in eml
    assert "Missing data: nothing could be collected" in eml
    printed = CliRunner().invoke(cli, ["--db", str(db), "digest", "--date", "2026-11-20",
                                       "--print", "text"])
    assert printed.output.startswith("MISSING DATA for 2026-11-20: every source failed")
    assert printed.output.index("Missing data") < printed.output.index("All topics")
