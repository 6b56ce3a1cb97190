"""Train the shipped artefact (data/models/stablewatch-heads) and write its model card.

Same as `stablewatch train`, plus: held-out dev figures, the VADER baseline on the same dev
file, and the measured comparisons from benchmarks/results/*.md in the card.

    python benchmarks/build_model.py --dev ../shared/eval/dev.jsonl
    python benchmarks/build_model.py --dev ../shared/eval/dev.jsonl --card-only  # re-render
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from classifier.encoder import E5_BACKBONE
from classifier.evaluate import evaluate, load_examples, vader_scores
from classifier.finetune import FineTuneConfig
from classifier.generations import parse_generation_ignores, parse_generation_weights
from classifier.model_card import figures_table, render_card
from classifier.scorer import CARD_FILE, META_FILE, Scorer
from classifier.train import summary, train

ROOT = Path(__file__).resolve().parents[1]

RESULTS = ROOT / "benchmarks" / "results"
SECTIONS = (
    ("decisions.md", "Summary: what was kept and why"),
    ("candidates.md", "Candidates: data mix x backbone x heads (own data and dev)"),
    ("context.md", "Replies with their parent as context"),
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
    parser.add_argument("--weight", action="append", default=[], metavar="GEN=W",
                        help="training weight of a data generation, e.g. v1=0.5 (repeatable)")
    parser.add_argument("--ignore", action="append", default=[], metavar="GEN=OUTPUT",
                        help="do not learn an output's labels from a data generation, e.g. "
                        "v5=speculation (repeatable)")
    parser.add_argument("--depth", type=int,
                        help="run only the backbone's first DEPTH layers (default: all)")
    parser.add_argument("--layers", type=int, default=FineTuneConfig.train_layers,
                        help="top layers (of DEPTH) to fine-tune")
    parser.add_argument("--cv-folds", type=int, default=5,
                        help="k-fold CV of the frozen heads (0: skip it, for a quicker seed run)")
    parser.add_argument("--card-only", action="store_true",
                        help="re-render MODEL_CARD.md from meta.json without training")
    args = parser.parse_args()
    if args.card_only:
        rerender_card(args.out, args.dev)
        return
    report = train(args.train_dir, args.out, backbone=E5_BACKBONE, seed=args.seed,
                   progress=print, dev_path=args.dev, notes=notes(args.dev),
                   finetune=FineTuneConfig(train_layers=args.layers), depth=args.depth,
                   weights=parse_generation_weights(args.weight),
                   ignore=parse_generation_ignores(args.ignore), cv_folds=args.cv_folds)
    print({k: report[k] for k in ("model_id", "n_texts", "training_seconds")})


def rerender_card(model_dir: Path, dev_path: Path | None) -> None:
    """Card from the stored meta.json, dev re-measured with the stored model, fresh notes."""
    meta = json.loads((model_dir / META_FILE).read_text(encoding="utf-8"))
    dev = None
    if dev_path is not None:
        examples = load_examples(dev_path)
        scores = Scorer.load(model_dir).score([e["text"] for e in examples])
        dev = evaluate(examples, scores)
    (model_dir / CARD_FILE).write_text(render_card(meta, None, dev, notes(dev_path)),
                                       encoding="utf-8")
    print(f"wrote {model_dir / CARD_FILE}")


if __name__ == "__main__":
    main()
