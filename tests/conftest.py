"""Shared fixtures: temporary settings and a tiny trained classifier (trained once per run)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings

from jobs.config import Settings

# Property-based tests: no deadlines (the machine is shared; nothing here is timed), a fixed
# seed per test so CI runs are repeatable, no example database left in the checkout.
hypothesis_settings.register_profile(
    "stablewatch", deadline=None, derandomize=True, database=None, max_examples=50
)
hypothesis_settings.load_profile("stablewatch")

FIXTURES = Path(__file__).resolve().parent / "fixtures"
REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Heads trained for real on tests/fixtures/train_tiny (a few dozen texts)."""
    from classifier.train import train

    out = tmp_path_factory.mktemp("tiny-model")
    train(FIXTURES / "train_tiny", out, seed=13, cv_folds=0)
    return out


@pytest.fixture
def settings(tmp_path: Path, tiny_model_dir: Path) -> Settings:
    """Settings for a fresh database in tmp_path that use the tiny model and no SMTP."""
    return Settings(
        db_path=tmp_path / "sw.db",
        model_dir=tiny_model_dir,
        outbox=tmp_path / "outbox",
    )


def configure_db(folder: Path, model_dir: Path, topics: str | None = None) -> Path:
    """Write stablewatch.toml (and topics.toml when given) into folder; return the db path.

    The config points at `model_dir` and an `out` outbox beside the database.
    """
    lines = ["[paths]", f'model_dir = "{model_dir}"', 'outbox = "out"']
    if topics is not None:
        (folder / "topics.toml").write_text(topics, encoding="utf-8")
        lines.append('topics = "topics.toml"')
    (folder / "stablewatch.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder / "sw.db"


@pytest.fixture(scope="session")
def sample_db(tmp_path_factory: pytest.TempPathFactory, tiny_model_dir: Path) -> Settings:
    """The bundled sample through the daily job once per test run, scored by the tiny
    model. Tests read it; the few that write (a digest) leave the data as it was."""
    from jobs.pipeline import run_daily

    folder = tmp_path_factory.mktemp("sample")
    settings = Settings(db_path=folder / "sw.db", model_dir=tiny_model_dir,
                        outbox=folder / "outbox")
    run_daily(settings, sample=True, send=False)
    return settings
