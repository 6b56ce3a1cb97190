"""Finding the trained classifier without loading it, and loading it when needed.

Only `load_scorer` imports torch and transformers, so commands that do not score (collect,
status, digest) start without them.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from classifier.meta import read_meta
from jobs.config import Settings

if TYPE_CHECKING:
    from classifier.scorer import Scorer


def model_id_of(model_dir: Path) -> str:
    """The model id recorded with trained heads, read without loading any weights."""
    return str(read_meta(model_dir)["model_id"])


def load_scorer(settings: Settings) -> Scorer:
    from classifier.scorer import Scorer

    return Scorer.load(settings.model_dir, backbone=settings.backbone)
