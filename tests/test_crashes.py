"""Crashes and stops. A daily run killed with SIGKILL mid-score and mid-digest, and stopped
by SIGTERM while summarizing, then rerun, ends where a clean run ends (tests/test_summaries.py
kills one after collecting); SIGTERM marks the run aborted and exits 143, also while it waits
on a host that never answers; a run left 'running' by a dead process is marked crashed;
first opens racing each other migrate once.

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

DAY = "2026-03-03"  # the newest day of the archive below: what `daily --archive` summarizes
WORDS = [
    "HKMA",
    "licence",
    "offshore yuan",
    "stablecoin",
    "pilot",
    "reserves",
    "rumour",
    "bank",
    "e-CNY",
    "issuer",
    "ban",
    "fees",
]


@pytest.fixture(scope="module")
def archive(tmp_path_factory) -> Path:
    """300 short posts and comments over three days (two score chunks of 256, cheaply)."""
    lines = []
    for i in range(300):
        day, hour = 1 + i // 100, (i % 100) // 5
        words = " ".join(WORDS[(i * k) % len(WORDS)] for k in (1, 3, 5, 7))
        thread = f"p{i - i % 5}"
        lines.append(
            json.dumps(
                {
                    "source": "forum",
                    "id": f"p{i}",
                    "thread_id": thread,
                    "parent_id": None if i % 5 == 0 else thread,
                    "author": f"user{i % 17}",
                    "created_utc": f"2026-03-0{day}T{hour:02d}:{i % 60:02d}:00Z",
                    "title": f"Note {i} on {words}" if i % 5 == 0 else None,
                    "body": f"Post {i}: {words}, said user{i % 17}.",
                }
            )
        )
    path = tmp_path_factory.mktemp("crash-archive") / "posts.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def snapshot(db: Path) -> dict[str, Any]:
    """Everything a run produces, without the times it was produced at."""
    summaries = rows(db, "SELECT * FROM daily_summary ORDER BY day, topic")
    return {
        "posts": rows(
            db,
            "SELECT source, post_id, thread_id, parent_id, kind, title, body, "
            "topic, day, content_hash FROM posts ORDER BY source, post_id",
        ),
        "scores": rows(
            db,
            "SELECT source, post_id, model_id, content_hash, relevant, stance, "
            "speculative FROM scores ORDER BY source, post_id",
        ),
        "cursors": rows(db, "SELECT collector, key, value FROM cursors ORDER BY key"),
        "summaries": [{k: v for k, v in r.items() if k != "computed_at"} for r in summaries],
        "digest": rows(db, "SELECT day, subject, body_hash FROM digests"),
    }


@pytest.fixture(scope="module")
def clean(archive: Path, tiny_model_dir: Path, tmp_path_factory) -> dict[str, Any]:
    """The archive through one uninterrupted daily run."""
    from jobs.pipeline import run_daily

    folder = tmp_path_factory.mktemp("clean")
    settings = Settings(
        db_path=folder / "sw.db", model_dir=tiny_model_dir, outbox=folder / "outbox"
    )
    run_daily(settings, archives=[archive], send=False)
    return snapshot(settings.db_path)


def statuses(db: Path) -> list[str]:
    return [r["status"] for r in rows(db, "SELECT status FROM runs ORDER BY run_id")]


def test_a_run_stopped_at_each_stage_in_turn_then_rerun_ends_as_a_clean_run(
    archive, clean, tmp_path, tiny_model_dir
):
    db = configure_db(tmp_path, tiny_model_dir)
    daily = ["--db", db, "daily", "--archive", archive, "--no-send", "--quiet"]

    # SIGKILL mid-score: the first chunk of 256 scores is stored, the rest is not
    killed = crash_cli("jobs.store:Store.save_scores", 2, "SIGKILL", daily, cwd=tmp_path)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    left = snapshot(db)
    assert left["posts"] == clean["posts"] and len(left["scores"]) == 256
    assert left["summaries"] == [] and statuses(db) == ["running"]

    # SIGKILL mid-digest (rerun): the .eml is written, its digests row is not
    killed = crash_cli("jobs.store:Store.save_digest", 1, "SIGKILL", daily, cwd=tmp_path)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    left = snapshot(db)
    assert left["scores"] == clean["scores"] and left["summaries"] == clean["summaries"]
    assert left["digest"] == [] and statuses(db) == ["crashed", "running"]

    # SIGTERM while summarizing (rerun): marked aborted, one line, exit 143, lock released
    stopped = crash_cli("jobs.store:Store.save_summaries", 1, "SIGTERM", daily, cwd=tmp_path)
    assert stopped.returncode == 143
    assert stopped.stderr.strip() == (
        "stablewatch: stopped by SIGTERM; a run in progress is marked aborted"
    )
    assert statuses(db) == ["crashed", "crashed", "aborted"]

    rerun = run_cli(daily, cwd=tmp_path)
    assert rerun.returncode == 0, rerun.stderr
    assert snapshot(db) == clean
    assert not list((tmp_path / "out").glob("*.tmp"))
    runs = rows(db, "SELECT status, errors, finished_at FROM runs ORDER BY run_id")
    assert [r["status"] for r in runs] == ["crashed", "crashed", "aborted", "ok"]
    assert "ended without finishing the run" in json.loads(runs[0]["errors"])[0]
    assert "found by run #2" in json.loads(runs[0]["errors"])[0]
    assert json.loads(runs[2]["errors"]) == ["stopped by SIGTERM"] and runs[2]["finished_at"]


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
        db = configure_db(tmp_path, DEFAULT_MODEL_DIR, FORUM.format(url=host.url, deadline=300))
        proc = subprocess.Popen(
            [str(STABLEWATCH), "--db", str(db), "daily", "--source", "hackernews", "--no-send"],
            cwd=tmp_path,
            text=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
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
    procs = [
        subprocess.Popen([sys.executable, "-c", code], stderr=subprocess.PIPE, text=True)
        for _ in range(6)
    ]
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
