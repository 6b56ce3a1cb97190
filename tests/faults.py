"""Helpers for fault tests: run the installed `stablewatch` in a child process under a file
size limit, without the power to write read-only folders, or crashing at a chosen call."""

from __future__ import annotations

import ctypes
import os
import resource
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

STABLEWATCH = Path(sys.executable).parent / "stablewatch"  # the installed console script
CRASH_AT = Path(__file__).resolve().parent / "crash_at.py"
PR_CAPBSET_DROP = 24
CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH = 1, 2


def run_cli(
    args: Sequence[Any],
    *,
    cwd: Path,
    preexec: Callable[[], None] | None = None,
    timeout: float = 180,
) -> subprocess.CompletedProcess[str]:
    """`stablewatch ARGS` in a child process; `timeout` only guards against a hang."""
    return subprocess.run(
        [str(STABLEWATCH), *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        preexec_fn=preexec,
        timeout=timeout,
    )


def crash_cli(
    target: str, nth: int, signame: str, args: Sequence[Any], *, cwd: Path
) -> subprocess.CompletedProcess[str]:
    """`stablewatch ARGS`, receiving `signame` at the `nth` call of `target` (crash_at.py)."""
    command = [sys.executable, str(CRASH_AT), target, str(nth), signame, "--", *map(str, args)]
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=300)


def file_size_limit(limit: int) -> Callable[[], None]:
    """A preexec function: files the child writes may not grow past `limit` bytes (writes
    past it fail with EFBIG, as on a full disk; Python ignores SIGXFSZ)."""
    return lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))


def without_write_override() -> None:
    """A preexec function: as root, give up the capabilities that ignore file permissions,
    so a read-only folder is read-only for the child too. Does nothing for other users."""
    if os.geteuid() != 0:
        return
    libc = ctypes.CDLL(None, use_errno=True)
    for cap in (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH):
        if libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP) failed")


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    """The child's error output, checked to be exactly one `Error: ...` line."""
    lines = result.stderr.strip().splitlines()
    assert "Traceback" not in result.stderr, result.stderr
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    return lines[0]


def rows(db: Path, sql: str) -> list[dict[str, Any]]:
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    con.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in con.execute(sql)]
    finally:
        con.close()
