"""Where a model errs on a labelled file: confusions per language, and speculation errors
split by whether the text has a hedge word. Prints counts only (no texts), so it can be
run on held-out data whose texts must not be copied.

    .venv/bin/python benchmarks/error_analysis.py ../shared/eval/dev.jsonl
"""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path

from classifier.evaluate import evaluate, language_slices, load_examples, speculation_rule
from classifier.scorer import Scorer

ROOT = Path(__file__).resolve().parents[1]


def confusion_lines(name: str, confusion: dict) -> list[str]:
    labels = list(confusion)
    lines = [f"| {name}: gold \\ predicted | " + " | ".join(labels) + " |",
             "| --- |" + " ---: |" * len(labels)]
    for gold in labels:
        lines.append(f"| {gold} | " + " | ".join(str(confusion[gold][p]) for p in labels) + " |")
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("path", type=Path)
    ap.add_argument("--model", type=Path, default=ROOT / "data" / "models" / "stablewatch-heads")
    args = ap.parse_args()
    examples = load_examples(args.path)
    scores = Scorer.load(args.model).score([e["text"] for e in examples])
    result = evaluate(examples, scores)
    out = [f"model {result['model_id']}, {len(examples)} texts", ""]
    for lang, r in [("all", result), *result["by_lang"].items()]:
        out.append(f"### {lang} (n={r['n']})")
        out.append("")
        out += confusion_lines("stance", r["stance"]["confusion"])
        out.append("")
        out += confusion_lines("speculation", r["speculation"]["confusion"])
        out.append("")
        out += confusion_lines("relevance", r["relevance"]["confusion"])
        out.append("")
    hedged: Counter[tuple[str, str, bool]] = Counter()
    for e, s in zip(examples, scores, strict=True):
        hedged[(e["speculation"], s.speculation_label, bool(speculation_rule(e["text"])))] += 1
    out += ["### speculation by hedge word (gold, predicted, has a hedge word: count)", ""]
    out += [f"- {g} -> {p}, hedge word {h}: {n}" for (g, p, h), n in sorted(hedged.items())]
    slices = language_slices(examples)
    out += ["", "slices: " + ", ".join(f"{k} {len(v)}" for k, v in slices.items())]
    print("\n".join(out))


if __name__ == "__main__":
    main()
