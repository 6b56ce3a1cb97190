"""`score --engine ray` gives the local engine's scores, row by row, on the bundled sample.

A real Ray cluster is started on this machine only (127.0.0.1, two CPUs, no dashboard);
the test skips where Ray is not installed (`pip install 'stablewatch[ray]'`).
"""

from __future__ import annotations

import dataclasses

import pytest

from jobs.config import SAMPLE_ARCHIVE, Settings
from jobs.exitcodes import EX_USAGE
from jobs.pipeline import run_collect, run_score
from jobs.store import Store

COLUMNS = ("relevance", "p_supportive", "p_neutral", "p_opposed", "speculation")
LABELS = ("relevant", "stance", "speculative")


@pytest.fixture(scope="module")
def ray_cluster():
    ray = pytest.importorskip("ray")
    pytest.importorskip("pyarrow")
    ray.init(num_cpus=2, include_dashboard=False, _node_ip_address="127.0.0.1", log_to_driver=False)
    yield ray
    ray.shutdown()


def _scores(settings) -> dict[tuple[str, str], dict]:
    with Store.open(settings.db_path) as store:
        return {(r["source"], r["post_id"]): r for r in store.db.query("SELECT * FROM scores")}


@pytest.mark.slow
def test_ray_engine_scores_the_sample_like_the_local_engine(tmp_path, ray_cluster,
                                                           tiny_model_dir):
    """With the test model (MiniLM + USE + cues, packed and shipped to the actors like any
    artefact; fp32, like every non-int8 model: a text's scores do not depend on the texts
    batched with it). Ray only moves rows: the model's size does not change what is tested,
    and the shipped model would take a minute more."""
    local = Settings(
        db_path=tmp_path / "local" / "sw.db",
        model_dir=tiny_model_dir,
        outbox=tmp_path / "outbox",
    )
    remote = dataclasses.replace(local, db_path=tmp_path / "ray" / "sw.db")
    for s in (local, remote):
        run_collect(s, archives=[SAMPLE_ARCHIVE])

    model_id, local_scored, local_reused = run_score(local, engine="local")
    messages: list[str] = []
    ray_model, ray_scored, ray_reused = run_score(remote, messages.append, engine="ray")

    assert ray_model == model_id
    assert (ray_scored, ray_reused) == (local_scored, local_reused)
    assert local_scored + local_reused == 554
    assert any("2 actor(s)" in m for m in messages)
    mine, theirs = _scores(local), _scores(remote)
    assert mine.keys() == theirs.keys() and len(mine) == 554
    for key, row in mine.items():
        other = theirs[key]
        assert other["model_id"] == model_id and other["content_hash"] == row["content_hash"]
        for column in COLUMNS:  # stored rounded to 4 places: at most one unit in the last
            assert other[column] == pytest.approx(row[column], abs=1.01e-4), (key, column)
        if min(abs(row["relevance"] - 0.5), abs(row["speculation"] - 0.5)) > 1e-3:
            assert [other[c] for c in LABELS] == [row[c] for c in LABELS], key
    # nothing left: a second Ray run finds no work and starts nothing
    assert run_score(remote, engine="ray")[1:] == (0, 0)


def test_missing_ray_is_one_clear_line(tmp_path, tiny_model_dir, monkeypatch):
    """Where Ray is absent, `score --engine ray` names the extra to install, writes nothing."""
    import sys

    from click.testing import CliRunner

    from jobs.cli import cli
    from tests.conftest import configure_db

    monkeypatch.setitem(sys.modules, "ray", None)  # as if not installed: import fails
    db = configure_db(tmp_path, tiny_model_dir)
    result = CliRunner().invoke(cli, ["--db", str(db), "score", "--engine", "ray"])
    assert result.exit_code == 1
    assert "Error: --engine ray needs Ray: pip install 'stablewatch[ray]'" in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not db.exists()


def test_ray_options_need_the_ray_engine(tmp_path, tiny_model_dir):
    from click.testing import CliRunner

    from jobs.cli import cli
    from tests.conftest import configure_db

    db = configure_db(tmp_path, tiny_model_dir)
    result = CliRunner().invoke(cli, ["--db", str(db), "score", "--address", "auto"])
    assert result.exit_code == EX_USAGE
    assert "--address and --workers need --engine ray" in result.output
