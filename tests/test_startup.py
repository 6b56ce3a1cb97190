"""Commands that do not score start without torch and transformers (about 7 s saved per
start). Each command runs in a fresh interpreter that reports what it imported."""

from __future__ import annotations

import subprocess
import sys

import pytest

from jobs.config import DEFAULT_MODEL_DIR
from tests.conftest import configure_db

HEAVY = ("torch", "transformers", "safetensors", "classifier.scorer")
REPORT = f"""
import sys
from jobs.cli import cli
try:
    cli.main(sys.argv[1:], prog_name="stablewatch")
except SystemExit as exc:
    code = exc.code
print("loaded:", sorted(m for m in {HEAVY!r} if m in sys.modules), "exit:", code)
"""


def loaded_by(*args: str, cwd) -> str:
    result = subprocess.run(
        [sys.executable, "-c", REPORT, *args], cwd=cwd, text=True, capture_output=True, timeout=180
    )
    return result.stdout.strip().splitlines()[-1]


@pytest.fixture
def db(tmp_path):
    return str(configure_db(tmp_path, DEFAULT_MODEL_DIR))


def test_collect_status_and_digest_do_not_import_torch(db, tmp_path):
    assert loaded_by("--db", db, "collect", "--sample", "--quiet", cwd=tmp_path) == (
        "loaded: [] exit: 0"
    )
    assert loaded_by("--db", db, "status", cwd=tmp_path) == "loaded: [] exit: 0"
    assert (
        loaded_by("--db", db, "digest", "--date", "2026-11-19", "--print", "text", cwd=tmp_path)
        == "loaded: [] exit: 0"
    )


def test_the_check_sees_torch_when_the_scorer_is_imported(tmp_path):
    code = f"import sys, classifier.scorer; print(sorted(m for m in {HEAVY!r} if m in sys.modules))"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, text=True, capture_output=True, timeout=180
    ).stdout
    assert "'torch'" in out and "'classifier.scorer'" in out
