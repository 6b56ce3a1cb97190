"""A trained artefact's description (meta.json), read without loading torch or weights."""

from __future__ import annotations

import json
from pathlib import Path

from classifier.errors import ModelNotFoundError

HEADS_FILE = "heads.safetensors"
META_FILE = "meta.json"


def read_meta(model_dir: Path) -> dict:
    """meta.json of an artefact, or ModelNotFoundError when there are no trained heads."""
    model_dir = Path(model_dir)
    meta_path, heads_path = model_dir / META_FILE, model_dir / HEADS_FILE
    if not meta_path.is_file() or not heads_path.is_file():
        raise ModelNotFoundError(
            f"No trained classifier heads in {model_dir} (expected {META_FILE} and {HEADS_FILE}). "
            "Train them first with `stablewatch train`."
        )
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        str(meta["model_id"])
    except (ValueError, KeyError, TypeError) as exc:
        raise ModelNotFoundError(
            f"{meta_path} is not a stablewatch model description ({exc}); "
            "retrain with `stablewatch train`."
        ) from exc
    return meta
