"""Relevance, stance and speculation heads over frozen encoder features.

One module, three outputs: features are standardised (train mean/std, stored with the
weights), go through an optional shared hidden layer, then three linear heads. Training is
full-batch AdamW with class-balanced cross-entropy, seeded and deterministic on CPU.
Stance is learnt from on-topic texts only (an off-topic text is neutral by definition).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

IGNORE = -100


@dataclass(frozen=True)
class HeadConfig:
    """Hyperparameters of the heads (stored in meta.json)."""

    hidden: int = 0
    epochs: int = 300
    lr: float = 0.01
    weight_decay: float = 0.05
    dropout: float = 0.1


class Heads(nn.Module):
    """Standardise features, then relevance (1 logit), stance (3), speculation (1)."""

    def __init__(self, dim: int, hidden: int = 0, dropout: float = 0.1) -> None:
        super().__init__()
        self.dim = dim
        self.hidden = hidden
        self.register_buffer("mean", torch.zeros(dim))
        self.register_buffer("scale", torch.ones(dim))
        if hidden:
            self.trunk: nn.Module = nn.Sequential(
                nn.Dropout(dropout), nn.Linear(dim, hidden), nn.GELU(), nn.Dropout(dropout)
            )
            width = hidden
        else:
            self.trunk = nn.Dropout(dropout)
            width = dim
        self.relevance = nn.Linear(width, 1)
        self.stance = nn.Linear(width, 3)
        self.speculation = nn.Linear(width, 1)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        h = self.trunk((x - self.mean) / self.scale)
        return self.relevance(h).squeeze(-1), self.stance(h), self.speculation(h).squeeze(-1)

    @torch.inference_mode()
    def predict(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Probabilities: relevance (n,), stance (n, 3), speculation (n,)."""
        self.eval()
        rel, stance, spec = self(torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32)))
        return (
            torch.sigmoid(rel).numpy(),
            torch.softmax(stance, dim=-1).numpy(),
            torch.sigmoid(spec).numpy(),
        )


def _class_weights(y: torch.Tensor, n_classes: int) -> torch.Tensor:
    """Inverse-frequency weights over the labelled (non-ignored) entries."""
    y = y[y != IGNORE]
    counts = torch.bincount(y, minlength=n_classes).float().clamp(min=1.0)
    return counts.sum() / (n_classes * counts)


def fit_heads(
    x: np.ndarray,
    relevant: np.ndarray,
    stance: np.ndarray,
    speculation: np.ndarray,
    config: HeadConfig = HeadConfig(),
    seed: int = 13,
) -> Heads:
    """Train heads; ``stance`` uses IGNORE for texts whose stance should not be learnt."""
    torch.manual_seed(seed)
    xt = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))
    y_rel = torch.as_tensor(relevant, dtype=torch.long)
    y_stance = torch.as_tensor(stance, dtype=torch.long)
    y_spec = torch.as_tensor(speculation, dtype=torch.long)

    heads = Heads(xt.shape[1], config.hidden, config.dropout)
    heads.mean.copy_(xt.mean(0))
    heads.scale.copy_(xt.std(0).clamp(min=1e-4))

    loss_rel = nn.CrossEntropyLoss(weight=_class_weights(y_rel, 2))
    loss_stance = nn.CrossEntropyLoss(weight=_class_weights(y_stance, 3), ignore_index=IGNORE)
    loss_spec = nn.CrossEntropyLoss(weight=_class_weights(y_spec, 2))
    opt = torch.optim.AdamW(heads.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    has_stance = bool((y_stance != IGNORE).any())

    heads.train()
    for _ in range(config.epochs):
        opt.zero_grad()
        rel, st, spec = heads(xt)
        # binary heads as two-logit softmax [0, z] == sigmoid(z), so class weights apply
        loss = loss_rel(torch.stack([torch.zeros_like(rel), rel], 1), y_rel)
        loss = loss + loss_spec(torch.stack([torch.zeros_like(spec), spec], 1), y_spec)
        if has_stance:
            loss = loss + loss_stance(st, y_stance)
        loss.backward()
        opt.step()
    heads.eval()
    return heads


def save_heads(heads: Heads, path: Path) -> None:
    """Write the weights as safetensors."""
    from safetensors.torch import save_file

    save_file({k: v.contiguous() for k, v in heads.state_dict().items()}, str(path))


def load_heads(path: Path, dim: int, hidden: int, dropout: float = 0.1) -> Heads:
    """Read weights written by save_heads."""
    from safetensors.torch import load_file

    heads = Heads(dim, hidden, dropout)
    heads.load_state_dict(load_file(str(path)))
    heads.eval()
    return heads
