"""Does fine-tuning the backbone beat frozen-encoder heads? A hold-out comparison.

Splits data/train 80/20 (stratified by language, relevance and stance, seeded), then
  frozen: heads on frozen MiniLM + USE features (what `stablewatch train` ships);
  fine-tuned: MiniLM trained end to end with the same three heads, USE features frozen and
              concatenated, class-balanced loss, AdamW, a few epochs on CPU.
Both are scored on the hold-out part and (optionally) on dev. Writes
benchmarks/results/finetune.md.

    python benchmarks/finetune_experiment.py [--dev ../shared/eval/dev.jsonl] [--epochs 3]
"""

from __future__ import annotations

import argparse
import random
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

from classifier.encoder import Encoder
from classifier.evaluate import evaluate, load_examples
from classifier.heads import IGNORE, HeadConfig, Heads, _class_weights, fit_heads
from classifier.train import (
    DEFAULT_HEADS,
    label_arrays,
    load_training,
    scores_from_probs,
    summary,
)

ROOT = Path(__file__).resolve().parents[1]

RESULTS = ROOT / "benchmarks" / "results"


def split(rows: list[dict], seed: int, share: float = 0.2) -> tuple[list[int], list[int]]:
    rng = random.Random(seed)
    groups: dict[tuple, list[int]] = {}
    for i, r in enumerate(rows):
        groups.setdefault((r["lang"], r["relevant"], r["stance"]), []).append(i)
    train, test = [], []
    for key in sorted(groups, key=str):
        idx = groups[key]
        rng.shuffle(idx)
        k = max(1, round(len(idx) * share))
        test += idx[:k]
        train += idx[k:]
    return sorted(train), sorted(test)


def pooled(encoder: Encoder, texts: list[str], max_tokens: int) -> torch.Tensor:
    """Mean-pooled, normalised backbone embeddings with gradients (head-truncated windows)."""
    tok = encoder._tokenizer
    batch = tok(texts, padding=True, truncation=True, max_length=max_tokens, return_tensors="pt")
    hidden = encoder._model(**batch).last_hidden_state
    mask = batch["attention_mask"].unsqueeze(-1).float()
    emb = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1)
    return nn.functional.normalize(emb, dim=-1)


def finetune(encoder: Encoder, texts: list[str], use: np.ndarray, labels: tuple, seed: int,
             epochs: int, batch_size: int = 16, max_tokens: int = 128) -> Heads:
    torch.manual_seed(seed)
    rel, stance, spec = (torch.as_tensor(a) for a in labels)
    dim = encoder.backbone_dim + use.shape[1]
    # initialise standardisation from the frozen features
    with torch.no_grad():
        start = np.concatenate([encoder.encode_backbone(texts), use], axis=1)
    heads = Heads(dim)
    member = heads.members[0]
    heads.mean.copy_(torch.from_numpy(start.mean(0)))
    heads.scale.copy_(torch.from_numpy(start.std(0)).clamp(min=1e-4))
    model = encoder._model
    model.train()
    opt = torch.optim.AdamW([
        {"params": model.parameters(), "lr": 3e-5, "weight_decay": 0.01},
        {"params": heads.parameters(), "lr": 2e-3, "weight_decay": 0.05},
    ])
    steps = epochs * ((len(texts) + batch_size - 1) // batch_size)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: max(0.0, 1 - s / steps))
    l_rel = nn.CrossEntropyLoss(weight=_class_weights(rel, 2))
    l_st = nn.CrossEntropyLoss(weight=_class_weights(stance, 3), ignore_index=IGNORE)
    l_sp = nn.CrossEntropyLoss(weight=_class_weights(spec, 2))
    use_t = torch.from_numpy(use)
    order = list(range(len(texts)))
    rng = random.Random(seed)
    for epoch in range(epochs):
        rng.shuffle(order)
        heads.train()
        total = 0.0
        for b in range(0, len(order), batch_size):
            idx = order[b : b + batch_size]
            x = torch.cat([pooled(encoder, [texts[i] for i in idx], max_tokens), use_t[idx]], 1)
            r, s, p = member((x - heads.mean) / heads.scale)
            loss = l_rel(torch.stack([torch.zeros_like(r), r], 1), rel[idx])
            loss = loss + l_sp(torch.stack([torch.zeros_like(p), p], 1), spec[idx])
            if (stance[idx] != IGNORE).any():
                loss = loss + l_st(s, stance[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += float(loss.detach()) * len(idx)
        print(f"epoch {epoch + 1}: loss {total / len(texts):.3f}", flush=True)
    model.eval()
    heads.eval()
    return heads


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train-dir", type=Path, default=ROOT / "data" / "train")
    parser.add_argument("--dev", type=Path, default=None)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--skip-finetune", action="store_true", help="frozen rows only")
    args = parser.parse_args()
    torch.manual_seed(args.seed)

    rows, _ = load_training(args.train_dir)
    tr, te = split(rows, args.seed)
    texts = [r["text"] for r in rows]
    rel, stance, spec = label_arrays(rows)
    dev = load_examples(args.dev) if args.dev else None
    enc = Encoder(precision="fp32")  # fine-tuning needs float weights
    use = enc.encode_use(texts)
    dev_use = enc.encode_use([e["text"] for e in dev]) if dev else None

    def judge(name: str, predict, seconds: float) -> str:
        held = evaluate([rows[i] for i in te], scores_from_probs(*predict(texts, use, te), name))
        cells = [summary(held)]
        if dev:
            dev_texts = [e["text"] for e in dev]
            probs = predict(dev_texts, dev_use, list(range(len(dev))))
            cells.append(summary(evaluate(dev, scores_from_probs(*probs, name))))
        out = [name]
        for s in cells:
            for sl in ("all", "en", "zh"):
                r = s.get(sl)
                out.append("-" if r is None else f"{r['relevance_f1']:.3f} / "
                           f"{r['stance_macro_f1']:.3f} / {r['speculation_macro_f1']:.3f}")
        out.append(f"{seconds:.0f}")
        return "| " + " | ".join(out) + " |"

    lines = ["| variant | hold-out all (rel F1 / stance / spec) | hold-out en | hold-out zh | "
             "dev all | dev en | dev zh | train s |", "|" + " --- |" * 8]

    start = time.perf_counter()
    frozen_x = np.concatenate([enc.encode_backbone(texts), use], axis=1)
    labels = (rel[tr], stance[tr], spec[tr])
    frozen = fit_heads(frozen_x[tr], *labels, HeadConfig(), args.seed)
    frozen_s = time.perf_counter() - start

    def frozen_predict(t, u, idx):
        x = np.concatenate([enc.encode_backbone([t[i] for i in idx]), u[idx]], axis=1)
        return frozen.predict(x)

    lines.append(judge("frozen MiniLM + USE, linear heads", frozen_predict, frozen_s))
    print(lines[-1], flush=True)

    start = time.perf_counter()
    enc8 = Encoder()  # as shipped: MiniLM (bf16 where native) + USE + cues, MLP ensemble
    shipped_x = enc8.encode(texts)
    shipped = fit_heads(shipped_x[tr], *labels, DEFAULT_HEADS, args.seed)
    shipped_s = time.perf_counter() - start

    def shipped_predict(t, u, idx):
        return shipped.predict(enc8.encode([t[i] for i in idx]))

    name = f"frozen {enc8.precision} MiniLM + USE + cues, 5 x MLP (shipped)"
    lines.append(judge(name, shipped_predict, shipped_s))
    print(lines[-1], flush=True)
    if args.skip_finetune:
        print("\n".join(lines))
        return

    start = time.perf_counter()
    tuned = finetune(enc, [texts[i] for i in tr], use[tr], labels, args.seed, args.epochs)
    tuned_s = time.perf_counter() - start

    def tuned_predict(t, u, idx):
        x = np.concatenate([enc.encode_backbone([t[i] for i in idx]), u[idx]], axis=1)
        return tuned.predict(x)

    lines.append(judge(f"fine-tuned MiniLM ({args.epochs} epochs) + USE", tuned_predict,
                       tuned_s))
    print(lines[-1], flush=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / "finetune.md"
    out.write_text(f"{len(tr)} train / {len(te)} hold-out texts (seed {args.seed}); cells are "
                   "relevance F1 / stance macro-F1 / speculation macro-F1.\n\n"
                   + "\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
