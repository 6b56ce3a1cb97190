"""Measure per-token int8 scoring (W8A8) against the shipped fp32 scorer: speed, change in
scores, and whether a text's scores depend on its batch.

Each chosen ``nn.Linear`` of the backbone and the tuned layers becomes an int8 matmul
(``torch._int_mm``): weights int8 per output channel, activations int8 per token (so no
activation scale is shared across a batch, unlike torch's dynamic quantisation), optionally
SmoothQuant-style smoothing (activation outliers moved into the weights, ``--alpha``,
calibrated on every 20th training text). Nothing here is used by stablewatch itself: the
results are in benchmarks/results/scale.md.

    python benchmarks/int8_levers.py --layers qkv intermediate --alpha 0.5
    python benchmarks/int8_levers.py --layers all --alpha 0
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch

from classifier.evaluate import evaluate, load_examples, summary
from classifier.scorer import Scorer
from classifier.scores import Scores
from classifier.train import load_training, scores_from_probs
from jobs.scoring import post_text

ROOT = Path(__file__).resolve().parents[1]
DEV = ROOT.parent / "shared" / "eval" / "dev.jsonl"
KINDS = ("qkv", "attention.output", "intermediate", "output")


class RowInt8Linear(torch.nn.Module):
    """y = x W^T + b with int8 weights (per output channel) and int8 tokens (per row)."""

    def __init__(self, linear: torch.nn.Linear, act_max: torch.Tensor | None,
                 alpha: float) -> None:
        super().__init__()
        w = linear.weight.detach().float()
        self.inv_smooth = None
        if act_max is not None and alpha > 0:
            smooth = act_max.clamp(min=1e-5) ** alpha / (
                w.abs().amax(0).clamp(min=1e-5) ** (1 - alpha))
            self.inv_smooth, w = 1.0 / smooth, w * smooth
        self.w_scale = w.abs().amax(1).clamp(min=1e-12) / 127.0
        self.w_q = torch.round(w / self.w_scale[:, None]).to(torch.int8).t().contiguous()
        self.bias = linear.bias.detach().float()
        self.k = w.shape[1]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shape, rows = x.shape, x.reshape(-1, self.k)
        if self.inv_smooth is not None:
            rows = rows * self.inv_smooth
        scale = rows.abs().amax(1, keepdim=True).clamp_(min=1e-12) / 127.0
        q = torch.round(rows / scale).to(torch.int8)
        m = q.shape[0]
        if m <= 16:  # _int_mm wants more than 16 rows
            q = torch.cat([q, q.new_zeros(17 - m, self.k)])
        y = torch._int_mm(q, self.w_q)[:m].float().mul_(scale)
        return torch.addcmul(self.bias, y, self.w_scale).reshape(*shape[:-1], -1)


def kind(name: str) -> str:
    """'3.attention.self.query' -> 'qkv'; '3.output.dense' -> 'output'."""
    parts = [p for p in name.split(".") if not p.isdigit() and p not in ("layer", "dense")]
    if parts[-1] in ("query", "key", "value"):
        return "qkv"
    return ".".join(parts)


def linears(scorer: Scorer) -> dict[tuple[str, str], tuple[torch.nn.Module, str]]:
    """Every Linear of the backbone and tuned layers: (root, name) -> (parent, attribute)."""
    roots = {"backbone": scorer.encoder._model.encoder, "tuned": scorer.encoder.tuned}
    found = {}
    for root_name, root in roots.items():
        if root is None:
            continue
        for name, module in root.named_modules():
            for attr, child in module.named_children():
                if isinstance(child, torch.nn.Linear):
                    full = f"{name}.{attr}" if name else attr
                    found[(root_name, full)] = (module, attr)
    return found


def activation_maxima(scorer: Scorer, texts: list[str]) -> dict:
    """Per-input-channel |x| maximum of every Linear over ``texts``."""
    maxima: dict = {}
    hooks = []
    for key, (parent, attr) in linears(scorer).items():
        def keep(_module, args, key=key):
            a = args[0].detach().reshape(-1, args[0].shape[-1]).abs().amax(0)
            maxima[key] = torch.maximum(maxima[key], a) if key in maxima else a
        hooks.append(getattr(parent, attr).register_forward_pre_hook(keep))
    try:
        scorer.score(texts)
    finally:
        for h in hooks:
            h.remove()
    return maxima


def quantise(scorer: Scorer, kinds: set[str], alpha: float, calibration: list[str]) -> int:
    maxima = activation_maxima(scorer, calibration) if alpha > 0 else {}
    swapped = 0
    for key, (parent, attr) in linears(scorer).items():
        if kind(key[1]) in kinds:
            setattr(parent, attr, RowInt8Linear(getattr(parent, attr), maxima.get(key), alpha))
            swapped += 1
    return swapped


def as_array(scores: list[Scores]) -> np.ndarray:
    return np.array([[s.relevance, *s.stance_probs, s.speculation] for s in scores])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model-dir", type=Path,
                    default=ROOT / "data" / "models" / "stablewatch-heads")
    ap.add_argument("--layers", nargs="+", default=["all"], choices=("all", *KINDS))
    ap.add_argument("--alpha", type=float, default=0.5, help="SmoothQuant alpha (0: none)")
    ap.add_argument("--alone", type=int, default=120, help="texts also scored one at a time")
    args = ap.parse_args()
    kinds = set(KINDS) if "all" in args.layers else set(args.layers)
    sample = [post_text(json.loads(line)) for line in
              (ROOT / "data" / "sample" / "posts.jsonl").read_text(encoding="utf-8").splitlines()
              if line.strip()]
    dev = load_examples(DEV) if DEV.exists() else []
    texts = sample + [e["text"] for e in dev]
    rows, _ = load_training(ROOT / "data" / "train")
    calibration = [r["text"] for r in rows[::20]]

    results = {}
    for mode in ("fp32", "int8"):
        scorer = Scorer.load(args.model_dir)
        swapped = quantise(scorer, kinds, args.alpha, calibration) if mode == "int8" else 0
        scorer.score(sample[:32])  # warm-up
        started = time.perf_counter()
        scorer.score(sample)
        seconds = time.perf_counter() - started
        batched = as_array(scorer.score(texts))
        alone = as_array([s for t in texts[: args.alone] for s in scorer.score([t])])
        results[mode] = {"texts_per_s": len(sample) / seconds, "linears": swapped,
                         "scores": batched,
                         "alone_max": float(np.abs(alone - batched[: args.alone]).max())}
    fp32, int8 = results["fp32"]["scores"], results["int8"]["scores"]
    diff = np.abs(fp32 - int8)
    labels = [(x[:, 0] >= 0.5, x[:, 1:4].argmax(1), x[:, 4] >= 0.5) for x in (fp32, int8)]
    changes = [int((a != b).sum()) for a, b in zip(*labels, strict=True)]
    report = {
        "layers": sorted(kinds), "alpha": args.alpha, "linears": results["int8"]["linears"],
        "texts_per_s": {m: round(r["texts_per_s"], 1) for m, r in results.items()},
        "alone_vs_batch_max": {m: r["alone_max"] for m, r in results.items()},
        "int8_vs_fp32": {"max": round(float(diff.max()), 4), "mean": round(float(diff.mean()), 5),
                         "label_changes": changes,
                         "texts": len(texts)},
        "load_average": os.getloadavg(),
    }
    if dev:
        def dev_f1(x: np.ndarray) -> dict:
            x = x[-len(dev):]
            scores = scores_from_probs(x[:, 0], x[:, 1:4], x[:, 4], "int8_levers")
            return summary(evaluate(dev, scores))["all"]
        report["dev"] = {m: dev_f1(results[m]["scores"]) for m in results}
    print(json.dumps(report, indent=1), file=sys.stdout)


if __name__ == "__main__":
    main()
