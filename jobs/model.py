"""Finding the trained classifier without loading it, and loading it when needed."""

from __future__ import annotations

from pathlib import Path

from classifier.scorer import Scorer, read_meta
from jobs.config import Settings


def model_id_of(model_dir: Path) -> str:
    """The model id recorded with trained heads, read without loading any weights."""
    return str(read_meta(model_dir)["model_id"])


def load_scorer(settings: Settings) -> Scorer:
    return Scorer.load(settings.model_dir, backbone=settings.backbone)
