"""Finding the trained classifier without loading it, and loading it when needed."""

from __future__ import annotations

import json
from pathlib import Path

from classifier.errors import ModelNotFoundError
from classifier.scorer import Scorer
from jobs.config import Settings


def model_id_of(model_dir: Path) -> str:
    """The model id recorded with trained heads, read without loading any weights."""
    meta = Path(model_dir) / "meta.json"
    try:
        return str(json.loads(meta.read_text(encoding="utf-8"))["model_id"])
    except FileNotFoundError:
        raise ModelNotFoundError(
            f"no trained classifier in {model_dir} (meta.json missing); "
            "run `stablewatch train` first"
        ) from None
    except (ValueError, KeyError) as exc:
        raise ModelNotFoundError(f"{meta} is not a stablewatch model description: {exc}") from exc


def load_scorer(settings: Settings) -> Scorer:
    return Scorer.load(settings.model_dir, backbone=settings.backbone)
