"""Storage faults end a command with one line and exit 1, never a traceback, and leave
nothing half-written: a full disk (a file size limit in the child), a read-only folder, a
damaged database file, a full outbox. Every command runs in a child process."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from faults import file_size_limit, one_line_error, rows, run_cli, without_write_override

from jobs.config import DEFAULT_MODEL_DIR
from tests.conftest import configure_db

SPIKE_DAY = "2026-11-19"


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """A database path whose config uses the shipped model (nothing here scores)."""
    return configure_db(tmp_path, DEFAULT_MODEL_DIR)


def collect_sample(db: Path, **kwargs) -> subprocess.CompletedProcess[str]:
    return run_cli(["--db", db, "collect", "--sample", "--quiet"], cwd=db.parent, **kwargs)


def test_a_full_disk_during_collect_keeps_nothing_half_written(db: Path) -> None:
    full = collect_sample(db, preexec=file_size_limit(300_000))

    assert full.returncode == 1
    line = one_line_error(full)
    assert "storage error writing" in line and "rolled back" in line
    # the harvest's 554 posts and its cursor are stored together or not at all
    assert rows(db, "SELECT COUNT(*) AS n FROM posts") == [{"n": 0}]
    assert rows(db, "SELECT * FROM cursors") == []
    (run,) = rows(db, "SELECT status, errors FROM runs")
    assert run["status"] == "failed" and run["errors"].startswith('["storage: ')

    again = collect_sample(db)
    assert again.returncode == 0, again.stderr
    assert "collected 554: 554 new" in again.stdout


def test_a_full_outbox_leaves_no_partial_file_and_records_no_digest(db: Path) -> None:
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full here")
    assert collect_sample(db).returncode == 0
    outbox = db.parent / "out"
    outbox.mkdir()
    tmp = outbox / f"stablewatch-{SPIKE_DAY}.eml.tmp"
    tmp.symlink_to("/dev/full")  # writing the digest hits "no space left on device"

    full = run_cli(["--db", db, "digest", "--date", SPIKE_DAY], cwd=db.parent)
    assert full.returncode == 1
    line = one_line_error(full)
    assert f"cannot write the digest {outbox}/stablewatch-{SPIKE_DAY}.eml" in line
    assert "No space left on device" in line
    assert list(outbox.iterdir()) == []  # neither the .eml nor a .eml.tmp
    assert rows(db, "SELECT * FROM digests") == []

    again = run_cli(["--db", db, "digest", "--date", SPIKE_DAY], cwd=db.parent)
    assert again.returncode == 0, again.stderr
    assert [p.name for p in outbox.iterdir()] == [f"stablewatch-{SPIKE_DAY}.eml"]


def test_a_damaged_database_file_is_one_line_for_every_command(db: Path) -> None:
    assert collect_sample(db).returncode == 0
    size = db.stat().st_size
    with open(db, "r+b") as fh:
        fh.truncate(size // 2)

    for args in (["collect", "--sample"], ["status"], ["digest", "--date", SPIKE_DAY]):
        result = run_cli(["--db", db, *args], cwd=db.parent)
        assert result.returncode == 1, args
        line = one_line_error(result)
        assert f"{db} is damaged or not a SQLite database" in line, args
        assert "restore a backup" in line


def _read_only(folder: Path) -> None:
    folder.chmod(0o555)
    probe = subprocess.run(
        ["touch", str(folder / "probe")], preexec_fn=without_write_override, capture_output=True
    )
    if probe.returncode == 0:
        folder.chmod(0o755)
        pytest.skip("this user can write read-only folders here")


def test_a_read_only_folder_is_one_line_and_status_still_reads(db: Path) -> None:
    assert collect_sample(db).returncode == 0
    folder = db.parent
    _read_only(folder)
    try:
        collect = run_cli(
            ["--db", db, "collect", "--sample"], cwd=folder, preexec=without_write_override
        )
        new = run_cli(
            ["--db", folder / "new" / "sw.db", "init"], cwd=folder, preexec=without_write_override
        )
        status = run_cli(["--db", db, "status"], cwd=folder, preexec=without_write_override)
    finally:
        folder.chmod(0o755)

    assert collect.returncode == 1
    line = one_line_error(collect)
    assert f"cannot write {db}" in line and "folder are writable" in line
    assert new.returncode == 1 and "Permission denied" in one_line_error(new)
    assert status.returncode == 0, status.stderr
    assert "posts               554" in status.stdout
    assert not os.path.exists(folder / "new")


def test_read_only_commands_never_create_a_database(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "sw.db"
    for args in (["status"], ["digest", "--date", SPIKE_DAY, "--print", "text"]):
        result = run_cli(["--db", missing, *args], cwd=tmp_path)
        assert result.returncode == 1
        assert f"no database at {missing}" in one_line_error(result)
    assert not (tmp_path / "nowhere").exists()
