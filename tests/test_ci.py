"""`.ci/run` passes pytest's verdict through: no tests collected (exit 5) fails CI loudly."""

from __future__ import annotations

import shutil
import stat
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def _executable(path: Path, script: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(script, encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


def run_ci(
    tmp_path: Path, pytest_exit: int, mypy_exit: int = 0
) -> subprocess.CompletedProcess[str]:
    """.ci/run in a copy of the checkout whose setup and install check do nothing, whose
    pytest exits with `pytest_exit` and whose mypy with `mypy_exit`."""
    shutil.copytree(REPO / ".ci", tmp_path / ".ci")
    _executable(tmp_path / "scripts" / "setup.sh", "exit 0\n")
    _executable(tmp_path / "scripts" / "check_install.sh", "exit 0\n")
    _executable(tmp_path / ".venv" / "bin" / "python", f"#!/bin/sh\nexit {pytest_exit}\n")
    _executable(tmp_path / ".venv" / "bin" / "mypy", f"#!/bin/sh\nexit {mypy_exit}\n")
    return subprocess.run(["bash", str(tmp_path / ".ci" / "run")], capture_output=True,
                          text=True, timeout=60)


@pytest.mark.parametrize("pytest_exit", [0, 1, 5])
def test_ci_exits_with_pytests_status(tmp_path: Path, pytest_exit: int) -> None:
    done = run_ci(tmp_path, pytest_exit)
    assert done.returncode == pytest_exit
    assert ("collected no tests" in done.stderr) == (pytest_exit == 5)


def test_a_type_error_fails_ci_after_passing_tests(tmp_path: Path) -> None:
    assert run_ci(tmp_path, pytest_exit=0, mypy_exit=1).returncode == 1
