"""Compare encoder channels and head variants by k-fold CV on the training data (+ dev).

``--split articles`` instead trains on the social-media files and tests on the article
files: a style-shift check that uses training data only.

Selection is by cross-validation on data/train; the dev figures are printed alongside as a
check, never used to fit anything. Writes a markdown table (for the model card) to
benchmarks/results/compare_heads.md.

    python benchmarks/compare_heads.py [--dev ../shared/eval/dev.jsonl] [--int8]
"""

from __future__ import annotations

import argparse
import hashlib
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from classifier.encoder import Encoder
from classifier.evaluate import evaluate, load_examples
from classifier.heads import MLP, HeadConfig, fit_heads
from classifier.train import (
    cross_validate,
    label_arrays,
    load_training,
    scores_from_probs,
    summary,
)

ROOT = Path(__file__).resolve().parents[1]

RESULTS = ROOT / "benchmarks" / "results"


def features_for(encoders: dict, key: str, texts: list[str]) -> tuple[np.ndarray, float]:
    """Encode (cached in the temp dir by channel and text hash, so reruns are quick)."""
    digest = hashlib.sha256("\x00".join([key, *texts]).encode()).hexdigest()[:16]
    cache = Path(tempfile.gettempdir()) / f"sw-features-{digest}.npz"
    if cache.exists():
        with np.load(cache) as z:
            return z["x"], float(z["seconds"])
    start = time.perf_counter()
    x = encoders[key].encode(texts)
    seconds = time.perf_counter() - start
    np.savez(cache, x=x, seconds=seconds)
    return x, seconds


def line(name: str, cv: dict, dev: dict | None, seconds: float) -> str:
    def cells(s: dict) -> list[str]:
        out = []
        for sl in ("all", "en", "zh"):
            r = s.get(sl)
            out.append("-" if r is None else
                       f"{r['relevance_f1']:.3f} / {r['stance_macro_f1']:.3f} / "
                       f"{r['speculation_macro_f1']:.3f}")
        return out

    dev_cells = cells(summary(dev)) if dev else ["-", "-", "-"]
    return "| " + " | ".join([name, *cells(summary(cv)), *dev_cells, f"{seconds:.0f}"]) + " |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train-dir", type=Path, default=ROOT / "data" / "train")
    parser.add_argument("--dev", type=Path, default=None)
    parser.add_argument("--int8", action="store_true", help="also try the int8 backbone")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--split", choices=("cv", "articles"), default="cv")
    parser.add_argument("--only", default="", help="comma-separated substrings of variant names")
    args = parser.parse_args()

    rows, _ = load_training(args.train_dir)
    texts = [r["text"] for r in rows]
    dev = load_examples(args.dev) if args.dev else None
    print(f"{len(rows)} training texts; dev: {len(dev) if dev else 'none'}", flush=True)

    encoders = {
        "backbone": Encoder(channels=("backbone",), precision="fp32"),
        "backbone-bf16": Encoder(channels=("backbone",), precision="bf16"),
        "use": Encoder(channels=("use",)),
        "cues": Encoder(channels=("cues",)),
    }
    if args.int8:
        encoders["backbone-int8"] = Encoder(channels=("backbone",), precision="int8")
    feats, dev_feats, secs = {}, {}, {}
    for key in encoders:
        feats[key], secs[key] = features_for(encoders, key, texts)
        if dev:
            dev_feats[key], _ = features_for(encoders, key, [e["text"] for e in dev])
        print(f"encoded with {key}: {secs[key]:.1f}s", flush=True)

    mlp = MLP
    ens = replace(MLP, members=5)
    variants: list[tuple[str, list[str], HeadConfig]] = [
        ("use, linear", ["use"], HeadConfig()),
        ("minilm, linear", ["backbone"], HeadConfig()),
        ("minilm+use, linear", ["backbone", "use"], HeadConfig()),
        ("minilm+use+cues, linear", ["backbone", "use", "cues"], HeadConfig()),
        ("use, mlp 256", ["use"], mlp),
        ("minilm+use, mlp 256", ["backbone", "use"], mlp),
        ("use+cues, mlp 256", ["use", "cues"], mlp),
        ("minilm+use+cues, mlp 256", ["backbone", "use", "cues"], mlp),
        ("minilm+use+cues, 5 x mlp 256", ["backbone", "use", "cues"], ens),
        ("minilm bf16+use+cues, 5 x mlp 256", ["backbone-bf16", "use", "cues"], ens),
    ]
    if args.int8:
        variants.append(("minilm int8+use+cues, 5 x mlp 256", ["backbone-int8", "use", "cues"],
                         ens))
    if args.only:
        variants = [v for v in variants if any(o in v[0] for o in args.only.split(","))]

    what = "CV" if args.split == "cv" else "articles"
    header = (f"| variant | {what} all (rel F1 / stance / spec) | {what} en | {what} zh | "
              "dev all | dev en | dev zh | encode s |")
    lines = [header, "|" + " --- |" * 8]
    rel, stance, spec = label_arrays(rows)
    articles = np.array(["articles" in r["source_file"] for r in rows])
    for name, keys, config in variants:
        x = np.concatenate([feats[k] for k in keys], axis=1)
        if args.split == "cv":
            cv = cross_validate(x, rows, config, args.folds, args.seed)
        else:  # style shift: learn from the social-media files, test on the article files
            tr, te = np.where(~articles)[0], np.where(articles)[0]
            held = fit_heads(x[tr], rel[tr], stance[tr], spec[tr], config, args.seed)
            cv = evaluate([rows[i] for i in te], scores_from_probs(*held.predict(x[te]), name))
        dev_result = None
        if dev:
            heads = fit_heads(x, rel, stance, spec, config, args.seed)
            xd = np.concatenate([dev_feats[k] for k in keys], axis=1)
            dev_result = evaluate(dev, scores_from_probs(*heads.predict(xd), name))
        lines.append(line(name, cv, dev_result, sum(secs[k] for k in keys)))
        print(lines[-1], flush=True)

    RESULTS.mkdir(parents=True, exist_ok=True)
    stem = "compare_heads" if args.split == "cv" else "style_shift"
    out = RESULTS / (f"{stem}.md" if not args.only else f"{stem}_partial.md")
    setup = (f"{args.folds}-fold CV (seed {args.seed})" if args.split == "cv" else
             f"trained on the {int((~articles).sum())} social-media texts, tested on the "
             f"{int(articles.sum())} article texts (*_articles.jsonl)")
    out.write_text(f"{len(rows)} training texts, {setup}; "
                   "cells are relevance F1 / stance macro-F1 / speculation macro-F1.\n\n"
                   + "\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
