"""Fine-tune the top layers of the backbone together with the three heads.

The encoder reads a text exactly as at scoring time (``Encoder.tokenize_windows``: task
prefix, 256-token windows, mean pooling, L2 normalisation); the heads are the same
``Heads`` module the frozen design uses, with a fixed input scale. Only the top
``train_layers`` transformer layers are trained: the word embeddings (most of a
multilingual model's weights) and the lower layers stay as shipped, so training fits in
minutes on two cores and the artefact stores just the trained layers.

Loss: class-weighted cross-entropy for relevance and speculation, and for stance on
on-topic texts only; AdamW with linear warm-up and decay; batches of similar length.
"""

from __future__ import annotations

import copy
import math
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from classifier.encoder import Encoder, pad_windows, run_backbone, run_layers
from classifier.heads import IGNORE, Heads, _binary, _class_weights, _weighted_loss

FEATURE_SCALE = 0.05  # L2-normalised embeddings are multiplied by 20 before the heads


@dataclass(frozen=True)
class FineTuneConfig:
    """Hyperparameters of fine-tuning (stored in meta.json)."""

    train_layers: int = 4
    epochs: int = 3
    batch_size: int = 32
    lr: float = 8e-5
    head_lr: float = 2e-3
    weight_decay: float = 0.01
    warmup: float = 0.1
    max_tokens: int = 160
    dropout: float = 0.1


def frozen_states(encoder: Encoder, windows: Sequence[list[int]], first_trained: int,
                  batch_size: int = 32) -> list[torch.Tensor]:
    """Each window's hidden states below the first trained layer (computed once).

    The frozen lower layers give the same output in every epoch, so they run once per text
    and training only runs the trained top layers.
    """
    pad = encoder._tokenizer.pad_token_id or 0
    order = sorted(range(len(windows)), key=lambda i: len(windows[i]))
    states: list[torch.Tensor | None] = [None] * len(windows)
    encoder._model.eval()
    with torch.inference_mode():
        for start in range(0, len(order), batch_size):
            idx = order[start : start + batch_size]
            ids, mask = pad_windows([windows[i] for i in idx], pad)
            _, hidden = run_backbone(encoder._model, ids, mask, keep=first_trained)
            for r, i in enumerate(idx):
                states[i] = hidden[r, : len(windows[i])].clone()
    return states  # type: ignore[return-value]


def top_pooled(layers: nn.ModuleList, states: Sequence[torch.Tensor]) -> torch.Tensor:
    """Run the trained top layers on cached states; mean-pool and L2-normalise (with grads)."""
    width = max(len(s) for s in states)
    hidden = torch.zeros((len(states), width, states[0].shape[-1]))
    mask = torch.zeros((len(states), width), dtype=torch.long)
    for r, s in enumerate(states):
        hidden[r, : len(s)] = s
        mask[r, : len(s)] = 1
    hidden = run_layers(layers, hidden, mask)
    m = mask.unsqueeze(-1).float()
    return nn.functional.normalize((hidden * m).sum(1) / m.sum(1), dim=-1)


def first_windows(encoder: Encoder, texts: Sequence[str], max_tokens: int) -> list[list[int]]:
    """The first window of each text (prefix and special tokens included)."""
    saved = encoder.max_tokens, encoder.max_chunks
    encoder.max_tokens, encoder.max_chunks = max_tokens, 2
    try:
        windows, owner = encoder.tokenize_windows(texts)
    finally:
        encoder.max_tokens, encoder.max_chunks = saved
    first: dict[int, list[int]] = {}
    for w, i in zip(windows, owner, strict=True):
        first.setdefault(i, w)
    return [first[i] for i in range(len(texts))]


def fine_tune(
    encoder: Encoder,
    texts: Sequence[str],
    relevant: np.ndarray,
    stance: np.ndarray,
    speculation: np.ndarray,
    config: FineTuneConfig = FineTuneConfig(),
    seed: int = 13,
    progress: Callable[[str], None] | None = None,
    sample_weight: np.ndarray | None = None,
) -> tuple[Heads, dict[str, torch.Tensor]]:
    """Train copies of the top layers of ``encoder`` and fresh linear heads.
    ``sample_weight`` (one per text, default 1) scales each text's share of the loss.

    The backbone itself is not changed: the trained copies are attached to the encoder
    as its 'tuned' channel. Returns the heads and the trained layers' weights, named as in
    the backbone (``encoder.layer.N…``), which is what an artefact stores.
    """
    say = progress or (lambda _msg: None)
    random.seed(seed)
    torch.manual_seed(seed)
    model = encoder._model
    first_trained = int(model.config.num_hidden_layers) - config.train_layers
    layers = copy.deepcopy(model.encoder.layer[first_trained:])
    for param in layers.parameters():
        param.requires_grad = True
    trained = list(layers.parameters())
    heads = Heads(encoder.backbone_dim, hidden=0, dropout=0.0, members=1)
    heads.scale.fill_(FEATURE_SCALE)
    drop = nn.Dropout(config.dropout)

    y_rel = torch.as_tensor(relevant, dtype=torch.long)
    y_stance = torch.as_tensor(stance, dtype=torch.long)
    y_spec = torch.as_tensor(speculation, dtype=torch.long)
    w = torch.ones(len(texts)) if sample_weight is None else torch.as_tensor(
        sample_weight, dtype=torch.float32)
    cw_rel, cw_stance, cw_spec = (_class_weights(y_rel, 2), _class_weights(y_stance, 3),
                                  _class_weights(y_spec, 2))

    windows = first_windows(encoder, texts, config.max_tokens)
    t0 = time.perf_counter()
    states = frozen_states(encoder, windows, first_trained)
    say(f"ran the {first_trained} frozen layers on {len(texts)} texts in "
        f"{time.perf_counter() - t0:.0f}s")
    batches = length_batches(windows, config.batch_size, seed)
    steps = config.epochs * len(batches)
    opt = torch.optim.AdamW(
        [{"params": trained, "lr": config.lr},
         {"params": list(heads.members.parameters()), "lr": config.head_lr}],
        weight_decay=config.weight_decay,
    )
    warm = max(1, int(config.warmup * steps))
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min((s + 1) / warm, max(0.0, (steps - s) / max(1, steps - warm)))
    )
    layers.train()
    heads.train()
    started, step = time.perf_counter(), 0
    for epoch in range(config.epochs):
        order = list(batches)
        random.Random(seed + epoch).shuffle(order)
        total = 0.0
        for done, idx in enumerate(order, 1):
            emb = top_pooled(layers, [states[i] for i in idx])
            z = drop((emb - heads.mean) / heads.scale)
            rel, st, spec = heads.members[0](z)
            ix = torch.as_tensor(idx)
            loss = (_weighted_loss(cw_rel, y_rel[ix], w[ix])(_binary(rel))
                    + _weighted_loss(cw_spec, y_spec[ix], w[ix])(_binary(spec)))
            if bool((y_stance[ix] != IGNORE).any()):
                loss = loss + _weighted_loss(cw_stance, y_stance[ix], w[ix])(st)
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(trained, 1.0)
            opt.step()
            sched.step()
            total += float(loss.detach())
            step += 1
            if step % 20 == 0 or step == steps:
                rate = step / (time.perf_counter() - started)
                say(f"fine-tune epoch {epoch + 1}/{config.epochs} step {step}/{steps} "
                    f"loss {total / done:.3f} "
                    f"(~{(steps - step) / rate:.0f}s left)")
    heads.eval()
    for param in layers.parameters():
        param.requires_grad = False
    encoder.attach_tuned(layers, first_trained)
    state = {f"encoder.layer.{first_trained + int(k.split('.')[0])}.{k.split('.', 1)[1]}":
             v.detach().clone() for k, v in layers.state_dict().items()}
    return heads, state


def length_batches(windows: Sequence[Sequence[int]], size: int, seed: int) -> list[list[int]]:
    """Indices grouped into batches of similar length (less padding), in random order."""
    rng = random.Random(seed)
    idx = list(range(len(windows)))
    rng.shuffle(idx)
    pool = size * 20  # sort within pools so batches still mix the data
    batches = []
    for start in range(0, len(idx), pool):
        chunk = sorted(idx[start : start + pool], key=lambda i: len(windows[i]))
        batches += [chunk[i : i + size] for i in range(0, len(chunk), size)]
    return batches


def fit_temperature(logits: np.ndarray, labels: np.ndarray) -> float:
    """Temperature T minimising the NLL of softmax(logits / T) (grid + refinement)."""
    z = torch.as_tensor(logits, dtype=torch.float64)
    y = torch.as_tensor(labels, dtype=torch.long)
    keep = y != IGNORE
    z, y = z[keep], y[keep]
    if len(y) == 0:
        return 1.0

    def nll(t: float) -> float:
        return float(nn.functional.cross_entropy(z / t, y))

    grid = [math.exp(x / 20) for x in range(-40, 61)]  # 0.14 … 20
    best = min(grid, key=nll)
    lo, hi = best / 1.2, best * 1.2
    for _ in range(30):  # golden-section refinement
        a, b = lo + (hi - lo) * 0.382, lo + (hi - lo) * 0.618
        lo, hi = (lo, b) if nll(a) < nll(b) else (a, hi)
    return round((lo + hi) / 2, 4)


def expected_calibration_error(confidence: np.ndarray, correct: np.ndarray,
                               bins: int = 10) -> float:
    """ECE: mean |accuracy − confidence| over equal-width confidence bins, weighted by size."""
    confidence = np.asarray(confidence, dtype=np.float64)
    correct = np.asarray(correct, dtype=np.float64)
    if len(confidence) == 0:
        return 0.0
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1]), 0, bins - 1)
    ece = 0.0
    for b in range(bins):
        sel = which == b
        if sel.any():
            ece += sel.mean() * abs(correct[sel].mean() - confidence[sel].mean())
    return float(ece)
