"""Texts/second for all three outputs: naive pipelines vs the batched Scorer, same texts.

Naive: three ``transformers`` text-classification pipelines built from the same backbone
(classification heads randomly initialised: this is a speed comparison), each called one
text at a time. Scorer: one encoder pass (+ USE channel) and three heads, batched with
length sorting and dynamic padding. Each mode runs in its own subprocess so that peak
memory (``ru_maxrss``) is per mode.

    python benchmarks/bench_scorer.py [--model-dir data/models/stablewatch-heads] [--n 256]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

DEFAULT_MODEL = ROOT / "data" / "models" / "stablewatch-heads"
RESULTS = ROOT / "benchmarks" / "results"


def load_texts(n: int, source: Path | None) -> list[str]:
    """n texts from a JSONL file (default: the training data), cycled if short."""
    files = [source] if source else sorted((ROOT / "data" / "train").glob("*.jsonl"))
    texts: list[str] = []
    for path in files:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                # training files have "text"; archives (data/sample) have title and body
                texts.append(row.get("text") or post_text(row))
    if not texts:
        raise SystemExit("no texts found: pass --texts FILE.jsonl")
    # interleave files so short and long, en and zh texts are all represented
    texts = texts[:: max(1, len(texts) // n)] if len(texts) > n else texts
    while len(texts) < n:
        texts = texts + texts
    return texts[:n]


def post_text(row: dict) -> str:
    from jobs.scoring import post_text as text_of

    return text_of(row)


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_naive(texts: list[str], backbone: str | None) -> dict:
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer, pipeline

    from classifier.encoder import configure_threads, resolve_backbone

    configure_threads()
    path = resolve_backbone(backbone)
    torch.manual_seed(0)
    tok = AutoTokenizer.from_pretrained(path)
    pipes = [
        pipeline("text-classification", device=-1, tokenizer=tok,
                 model=AutoModelForSequenceClassification.from_pretrained(path, num_labels=k))
        for k in (2, 3, 2)
    ]
    for p in pipes:  # warm-up
        p(texts[0], truncation=True)
    start = time.perf_counter()
    for text in texts:
        for p in pipes:
            p(text, truncation=True, top_k=None)
    seconds = time.perf_counter() - start
    return {"mode": "naive", "texts": len(texts), "seconds": seconds,
            "texts_per_s": len(texts) / seconds, "peak_mb": peak_mb()}


def run_scorer(texts: list[str], model_dir: Path, batch_size: int | None,
               precision: str | None = None) -> dict:
    from classifier.scorer import Scorer

    # precision: speed only, the same weights on another arithmetic
    scorer = Scorer.load(model_dir, precision=precision)
    if batch_size:
        scorer.batch_size = batch_size
    scorer.score(texts[:8])  # warm-up
    start = time.perf_counter()
    scores = scorer.score(texts)
    seconds = time.perf_counter() - start
    assert len(scores) == len(texts)
    return {"mode": "scorer", "model_id": scorer.model_id, "batch_size": scorer.batch_size,
            "precision": scorer.encoder.precision, "threads": scorer.encoder.threads,
            "texts": len(texts), "seconds": seconds, "texts_per_s": len(texts) / seconds,
            "peak_mb": peak_mb()}


def child(args: argparse.Namespace, mode: str, batch_size: int | None = None,
          precision: str | None = None) -> dict:
    cmd = [sys.executable, __file__, "--child", mode, "--n", str(args.n),
           "--model-dir", str(args.model_dir)]
    if precision:
        cmd += ["--precision", precision]
    if args.texts:
        cmd += ["--texts", str(args.texts)]
    if batch_size:
        cmd += ["--batch-size", str(batch_size)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-dir", type=Path, default=DEFAULT_MODEL)
    parser.add_argument("--texts", type=Path, default=None, help="JSONL with a text field")
    parser.add_argument("--n", type=int, default=256)
    parser.add_argument("--batch-sizes", default="", help="also time these, e.g. 8,16,64")
    parser.add_argument("--batch-size", type=int, default=None)
    parser.add_argument("--write", action="store_true", help="write benchmarks/results/bench.md")
    parser.add_argument("--precisions", default="", help="also time these, e.g. fp32,int8")
    parser.add_argument("--precision", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--child", choices=("naive", "scorer"), default=None)
    args = parser.parse_args()

    if args.child:
        texts = load_texts(args.n, args.texts)
        if args.child == "naive":
            result = run_naive(texts, json.loads((args.model_dir / "meta.json").read_text())
                               .get("backbone"))
        else:
            result = run_scorer(texts, args.model_dir, args.batch_size, args.precision)
        print(json.dumps(result))
        return

    load = os.getloadavg()
    texts = load_texts(args.n, args.texts)
    chars = sum(len(t) for t in texts) / len(texts)
    print(f"{len(texts)} texts, mean {chars:.0f} characters; model {args.model_dir}")
    naive = child(args, "naive")
    scorer = child(args, "scorer")
    rows = [naive, scorer]
    for precision in filter(None, (p.strip() for p in args.precisions.split(","))):
        rows.append(child(args, "scorer", None, precision))
    for bs in filter(None, (int(b) for b in args.batch_sizes.split(",") if b.strip())):
        rows.append(child(args, "scorer", bs))
    print(f"{'mode':<24}{'texts/s':>10}{'seconds':>10}{'peak MB':>10}")
    table = ["| mode | texts/s (all three outputs) | seconds | peak RSS MB |",
             "| --- | --- | --- | --- |"]
    for r in rows:
        name = "naive: 3 pipelines, 1 text at a time" if r["mode"] == "naive" else (
            f"Scorer, batch {r['batch_size']}, {r['precision']}")
        print(f"{name:<24}{r['texts_per_s']:>10.1f}{r['seconds']:>10.2f}{r['peak_mb']:>10.0f}")
        table.append(f"| {name} | {r['texts_per_s']:.1f} | {r['seconds']:.2f} | "
                     f"{r['peak_mb']:.0f} |")
    speedup = scorer["texts_per_s"] / naive["texts_per_s"]
    print(f"speed-up (all three outputs): {speedup:.1f}x (target >= 8x)")
    if args.write:
        RESULTS.mkdir(parents=True, exist_ok=True)
        (RESULTS / "bench.md").write_text(
            f"{len(texts)} texts from {args.texts or 'the training data'} (mean {chars:.0f} "
            f"characters), {os.cpu_count()} CPU cores, load average "
            f"{', '.join(f'{x:.2f}' for x in load)} when it started, each mode in its own "
            f"process. Speed-up of the default Scorer over the naive way: **{speedup:.1f}x**."
            "\n\n" + "\n".join(table) + "\n", encoding="utf-8")
    print(json.dumps({"naive": naive, "scorer": scorer, "speedup": speedup,
                      "extra": rows[2:]}))


if __name__ == "__main__":
    main()
