"""Paired bootstrap of two designs on a labelled file: is B better than A, or seed noise?

    python benchmarks/paired_bootstrap.py --data ../shared/eval/dev.jsonl \
        --a MODEL_A [MODEL_A2 ...] --b MODEL_B [MODEL_B2 ...] [--resamples 1000]

Each side is one or more built artefacts (seeds of one design); a side's figure is the mean
macro-F1 of its models. Texts are resampled with replacement, the same indices for both
sides, and the report gives, per output and language slice: A, B, B - A with a 95% interval
and the shares of resamples in which B is better and worse. Scores are cached per model and file
under --cache, so adding a model to a comparison scores only that model.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
from dataclasses import asdict
from pathlib import Path

from classifier.evaluate import language_slices, load_examples, output_metrics
from classifier.meta import read_meta
from classifier.scorer import Scorer
from classifier.scores import OUTPUTS, Scores


def cached_scores(model_dir: Path, texts: list[str], digest: str, cache: Path) -> list[Scores]:
    """The model's scores for ``texts``, read from ``cache`` when this model has scored the
    file whose digest is ``digest``."""
    meta = read_meta(model_dir)
    path = cache / f"{meta['model_id']}-{digest}.json"
    if path.exists():
        rows = json.loads(path.read_text(encoding="utf-8"))
        return [Scores(**{**r, "stance_probs": tuple(r["stance_probs"])}) for r in rows]
    print(f"scoring {len(texts)} texts with {model_dir} ...", file=sys.stderr)
    scores = Scorer.load(model_dir, meta=meta).score(texts)
    cache.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps([asdict(s) for s in scores]), encoding="utf-8")
    return scores


def side_f1(examples: list[dict], side: list[list[Scores]], idx: list[int]) -> dict[str, float]:
    """Mean macro-F1 over a side's models, per output, on the texts at ``idx``."""
    sums = dict.fromkeys(OUTPUTS, 0.0)
    chosen = [examples[i] for i in idx]
    for scores in side:
        m = output_metrics(chosen, [scores[i] for i in idx])
        for out in OUTPUTS:
            sums[out] += m[out]["macro_f1"] / len(side)
    return sums


def compare(examples: list[dict], a: list[list[Scores]], b: list[list[Scores]],
            idx: list[int], resamples: int, rng: random.Random) -> dict[str, dict]:
    """Per output: A, B, the difference, its 95% interval and the shares of resamples in
    which B is better and worse (the rest are ties)."""
    base_a, base_b = side_f1(examples, a, idx), side_f1(examples, b, idx)
    diffs: dict[str, list[float]] = {out: [] for out in OUTPUTS}
    for _ in range(resamples):
        sample = [idx[rng.randrange(len(idx))] for _ in idx]
        fa, fb = side_f1(examples, a, sample), side_f1(examples, b, sample)
        for out in OUTPUTS:
            diffs[out].append(fb[out] - fa[out])
    result = {}
    for out in OUTPUTS:
        d = sorted(diffs[out])
        result[out] = {
            "a": base_a[out], "b": base_b[out], "diff": base_b[out] - base_a[out],
            "low": d[int(0.025 * len(d))], "high": d[min(len(d) - 1, int(0.975 * len(d)))],
            "b_better": sum(x > 0 for x in d) / len(d),
            "b_worse": sum(x < 0 for x in d) / len(d),
        }
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="labelled JSONL")
    parser.add_argument("--a", type=Path, nargs="+", required=True, help="baseline models")
    parser.add_argument("--b", type=Path, nargs="+", required=True, help="candidate models")
    parser.add_argument("--resamples", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cache", type=Path, default=Path(".cache/bootstrap"))
    args = parser.parse_args()

    examples = load_examples(args.data)
    texts = [e["text"] for e in examples]
    digest = hashlib.sha256(args.data.read_bytes()).hexdigest()[:12]
    a = [cached_scores(m, texts, digest, args.cache) for m in args.a]
    b = [cached_scores(m, texts, digest, args.cache) for m in args.b]
    rng = random.Random(args.seed)
    slices = {"all": list(range(len(examples))), **language_slices(examples)}
    print(f"A = mean of {len(a)} model(s), B = mean of {len(b)}; "
          f"{args.resamples} paired resamples of {args.data.name}\n")
    print("| slice | output | A | B | B - A [95% interval] | B better / worse in |")
    print("| --- | --- | --- | --- | --- | --- |")
    for name, idx in slices.items():
        for out, r in compare(examples, a, b, idx, args.resamples, rng).items():
            print(f"| {name} ({len(idx)}) | {out} | {r['a']:.3f} | {r['b']:.3f} | "
                  f"{r['diff']:+.3f} [{r['low']:+.3f}, {r['high']:+.3f}] | "
                  f"{r['b_better']:.0%} / {r['b_worse']:.0%} |")


if __name__ == "__main__":
    main()
