"""Train the shipped artefact (data/models/stablewatch-heads) and write its model card.

Same as `stablewatch train`, plus: held-out dev figures, the VADER baseline on the same dev
file, and the measured comparisons from benchmarks/results/*.md in the card.

    python benchmarks/build_model.py --dev ../shared/eval/dev.jsonl
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from classifier.evaluate import evaluate, load_examples, vader_scores  # noqa: E402
from classifier.model_card import figures_table  # noqa: E402
from classifier.train import summary, train  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
SECTIONS = (
    ("decisions.md", "Summary: what was kept and why"),
    ("compare_heads.md", "What was tried: encoder channels and heads (5-fold CV + dev)"),
    ("style_shift.md", "Style-shift check: social-media texts -> article texts"),
    ("finetune.md", "What was tried: fine-tuning MiniLM vs frozen heads (80/20 hold-out + dev)"),
    ("finetune_frozen.md", "Frozen heads as shipped, on the same hold-out split"),
    ("bench.md", "Speed (benchmarks/bench_scorer.py)"),
    ("error_analysis.md", "Error analysis on the dev set"),
)


def notes(dev_path: Path | None) -> str:
    parts = []
    first, *rest = SECTIONS
    if (RESULTS / first[0]).exists():
        parts.append(f"## {first[1]}\n\n{(RESULTS / first[0]).read_text(encoding='utf-8').strip()}")
    if dev_path is not None:
        examples = load_examples(dev_path)
        baseline = evaluate(examples, vader_scores([e["text"] for e in examples]))
        parts.append("## VADER baseline on the same dev set\n\ncompound > 0.05 supportive, "
                     "< -0.05 opposed, else neutral; every text relevant; speculation by a "
                     "hedge-cue rule.\n\n" + figures_table(summary(baseline)))
    for name, title in rest:
        path = RESULTS / name
        if path.exists():
            parts.append(f"## {title}\n\n{path.read_text(encoding='utf-8').strip()}")
    return "\n\n".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train-dir", type=Path, default=ROOT / "data" / "train")
    parser.add_argument("--out", type=Path, default=ROOT / "data" / "models" / "stablewatch-heads")
    parser.add_argument("--dev", type=Path, default=None)
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args()
    report = train(args.train_dir, args.out, seed=args.seed, progress=print,
                   dev_path=args.dev, notes=notes(args.dev))
    print({k: report[k] for k in ("model_id", "n_texts", "training_seconds")})


if __name__ == "__main__":
    main()
