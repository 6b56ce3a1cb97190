"""Does giving a reply its parent (or thread title) as context help? Frozen e5 features.

Rows with a ``context`` field are scored two ways in 5-fold CV over all training data:
the reply alone, and the reply with its context before it ("context </s> reply", the
e5 sentence-pair form). Only the context rows are compared; the rest are identical.

    .venv/bin/python benchmarks/context_check.py
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from design_search import ROOT, FeatureCache

from classifier.evaluate import evaluate
from classifier.heads import MLP
from classifier.train import cross_validate_predictions, load_training, summary


def main() -> None:
    rows, _ = load_training(ROOT / "data" / "train")
    raw = {}
    for path in sorted((ROOT / "data" / "train").glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                r = json.loads(line)
                if r.get("context"):
                    raw[str(r["text"]).strip()] = str(r["context"]).strip()
    cache = FeatureCache(Path("/tmp/sw-features"))
    idx = [i for i, r in enumerate(rows) if r["text"] in raw]
    plain = cache.features(["e5", "cues"], [r["text"] for r in rows])
    paired = plain.copy()
    texts = [f"{raw[rows[i]['text']]} </s> {rows[i]['text']}" for i in idx]
    paired[idx] = cache.features(["e5", "cues"], texts)
    out = {"context_rows": len(idx)}
    for name, x in (("reply alone", plain), ("context + reply", paired)):
        predicted = cross_validate_predictions(x, rows, MLP)
        out[name] = summary(evaluate([rows[i] for i in idx], [predicted[i] for i in idx]))["all"]
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
