"""The shipped training data: its card is current, and the shipped model was trained on
exactly these files with the data's own generation settings (so `stablewatch train`
reproduces it)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from classifier.generations import read_generation_settings

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "scripts" / "data_card.py"
TRAIN = REPO / "data" / "train"


def test_committed_data_card_is_current():
    result = subprocess.run([sys.executable, str(SCRIPT), "--check"], capture_output=True,
                            text=True, cwd=REPO)
    assert result.returncode == 0, result.stderr


def test_card_counts_every_training_file():
    card = (TRAIN / "DATA_CARD.md").read_text(encoding="utf-8")
    for path in sorted(TRAIN.glob("*.jsonl")):
        assert f"| {path.name} |" in card


def test_shipped_model_was_trained_on_this_data_with_its_generation_settings():
    meta = json.loads((REPO / "data" / "models" / "stablewatch-heads" / "meta.json")
                      .read_text(encoding="utf-8"))
    weights, ignore = read_generation_settings(TRAIN)
    assert sorted(meta["load_info"]["files"]) == sorted(p.name for p in TRAIN.glob("*.jsonl"))
    assert meta.get("ignored_labels", {}) == {g: sorted(o) for g, o in ignore.items()}
    assert meta.get("generation_weights", {}) == weights
