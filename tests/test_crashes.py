"""Crashes and stops. A daily run killed with SIGKILL at any stage, then rerun, ends where
a clean run ends; SIGTERM marks the run aborted and exits 143 (also while it waits on a
host that never answers); a run left 'running' by a dead process is marked crashed; first
opens racing each other migrate once.

Child processes run the real CLI; tests/crash_at.py delivers the signal at the N-th call of
a chosen function (the code runs for real up to that point).
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from faults import STABLEWATCH, crash_cli, rows, run_cli
from loopback import SilentHost

from jobs.config import DEFAULT_MODEL_DIR, Settings
from jobs.schema import SCHEMA_VERSION
from tests.conftest import configure_db

DAY = "2026-11-23"  # the sample's newest day: what `daily --sample` summarizes
DAILY = ["daily", "--sample", "--no-send", "--quiet"]


def snapshot(db: Path) -> dict[str, Any]:
    """Everything a run produces, without the times it was produced at."""
    summaries = rows(db, "SELECT * FROM daily_summary ORDER BY day, topic")
    return {
        "posts": rows(db, "SELECT source, post_id, thread_id, parent_id, kind, title, body, "
                          "topic, day, content_hash FROM posts ORDER BY source, post_id"),
        "scores": rows(db, "SELECT source, post_id, model_id, content_hash, relevant, stance, "
                           "speculative FROM scores ORDER BY source, post_id"),
        "cursors": rows(db, "SELECT collector, key, value FROM cursors ORDER BY key"),
        "summaries": [{k: v for k, v in r.items() if k != "computed_at"} for r in summaries],
        "digest": rows(db, f"SELECT day, subject, body_hash FROM digests WHERE day = '{DAY}'"),
    }


@pytest.fixture(scope="module")
def clean(sample_db: Settings) -> dict[str, Any]:
    return snapshot(sample_db.db_path)


def rerun_and_compare(db: Path, clean: dict[str, Any]) -> list[dict[str, Any]]:
    rerun = run_cli(["--db", db, *DAILY], cwd=db.parent)
    assert rerun.returncode == 0, rerun.stderr
    assert snapshot(db) == clean
    assert not list((db.parent / "out").glob("*.tmp"))
    return rows(db, "SELECT run_id, status, errors FROM runs ORDER BY run_id")


@pytest.mark.parametrize(
    ("stage", "target", "nth"),
    [
        ("mid-score", "jobs.store:Store.save_scores", 2),  # the first 256 scores are stored
        ("mid-digest", "jobs.store:Store.save_digest", 1),  # the .eml is written, not its row
    ],
)
def test_kill_9_then_rerun_equals_a_clean_run(stage, target, nth, tmp_path, sample_db, clean):
    db = configure_db(tmp_path, sample_db.model_dir)
    killed = crash_cli(target, nth, "SIGKILL", ["--db", db, *DAILY], cwd=tmp_path)
    assert killed.returncode == -signal.SIGKILL, killed.stderr

    left = snapshot(db)
    if stage == "mid-score":
        assert len(left["scores"]) == 256 and left["summaries"] == []
    else:
        assert left["summaries"] == clean["summaries"] and left["digest"] == []
    assert [r["status"] for r in rows(db, "SELECT status FROM runs")] == ["running"]

    runs = rerun_and_compare(db, clean)
    assert [r["status"] for r in runs] == ["crashed", "ok"]
    (note,) = json.loads(runs[0]["errors"])
    assert "ended without finishing the run" in note and "found by run #2" in note


def test_sigterm_marks_the_run_aborted_and_exits_143(tmp_path, sample_db, clean):
    db = configure_db(tmp_path, sample_db.model_dir)
    stopped = crash_cli("jobs.store:Store.save_scores", 1, "SIGTERM", ["--db", db, *DAILY],
                        cwd=tmp_path)

    assert stopped.returncode == 143
    assert stopped.stderr.strip() == (
        "stablewatch: stopped by SIGTERM; a run in progress is marked aborted")
    (run,) = rows(db, "SELECT status, errors, finished_at FROM runs")
    assert run["status"] == "aborted" and json.loads(run["errors"]) == ["stopped by SIGTERM"]
    assert run["finished_at"] is not None
    assert [r["status"] for r in rerun_and_compare(db, clean)] == ["aborted", "ok"]


FORUM = """
[[topics]]
name = "yuan stablecoins"
keywords = ["yuan"]
[[forums]]
kind = "hackernews"
name = "Hacker News"
url = "{url}"
queries = ["yuan stablecoin", "digital yuan"]
deadline = {deadline}
"""


def test_sigterm_while_waiting_on_a_host_that_never_answers(tmp_path):
    with SilentHost() as host:
        db = configure_db(tmp_path, DEFAULT_MODEL_DIR,
                          FORUM.format(url=host.url, deadline=300))
        proc = subprocess.Popen([str(STABLEWATCH), "--db", str(db), "daily", "--source",
                                 "hackernews", "--no-send"], cwd=tmp_path, text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            while host.connections == 0 and proc.poll() is None:
                time.sleep(0.05)  # until the first request is out and hanging
            proc.send_signal(signal.SIGTERM)
            out, err = proc.communicate(timeout=60)
        finally:
            proc.kill()
    assert proc.returncode == 143, err
    assert "Traceback" not in err and "stopped by SIGTERM" in err
    (run,) = rows(db, "SELECT status, errors FROM runs")
    assert run["status"] == "aborted"


def test_first_opens_racing_each_other_migrate_once(tmp_path):
    """What `digest` racing a first `daily` did: UNIQUE constraint failed on schema_version."""
    db = tmp_path / "race.db"
    code = f"from jobs.store import Store; Store.open({str(db)!r}).close()"
    procs = [subprocess.Popen([sys.executable, "-c", code], stderr=subprocess.PIPE, text=True)
             for _ in range(6)]
    errors = [p.communicate(timeout=120)[1] for p in procs]
    assert [p.returncode for p in procs] == [0] * 6, errors
    versions = [r["version"] for r in rows(db, "SELECT version FROM schema_version")]
    assert versions == list(range(1, SCHEMA_VERSION + 1))


def test_a_writer_waits_for_no_one_and_says_who_holds_the_lock(tmp_path):
    from jobs.lock import run_lock

    db = configure_db(tmp_path, DEFAULT_MODEL_DIR)
    assert run_cli(["--db", db, "init"], cwd=tmp_path).returncode == 0
    with run_lock(db):  # a daily run in progress
        for args in (["digest", "--date", DAY], ["score"], ["summarize"], ["init"]):
            result = run_cli(["--db", db, *args], cwd=tmp_path)
            assert result.returncode == 1, args
            assert "another stablewatch run" in result.stderr and "Traceback" not in result.stderr
