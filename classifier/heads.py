"""Relevance, stance and speculation heads over frozen encoder features.

Features are standardised (train mean/std, stored with the weights). Each ensemble member
is an optional hidden layer (shared by the three outputs) and three linear heads; members
differ only in their random initialisation and dropout, and their probabilities are
averaged. Training is full-batch AdamW with class-balanced cross-entropy, seeded.
Stance is learnt from on-topic texts only (an off-topic text is neutral by definition).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
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
    dropout: float = 0.0
    members: int = 1


MLP = HeadConfig(hidden=256, epochs=200, lr=0.003, dropout=0.3)


class Member(nn.Module):
    """Optional shared hidden layer, then relevance (1 logit), stance (3), speculation (1)."""

    def __init__(self, dim: int, hidden: int, dropout: float) -> None:
        super().__init__()
        if hidden:
            self.trunk: nn.Module = nn.Sequential(
                nn.Linear(dim, hidden), nn.GELU(), nn.Dropout(dropout)
            )
            width = hidden
        else:
            self.trunk = nn.Identity()
            width = dim
        self.relevance = nn.Linear(width, 1)
        self.stance = nn.Linear(width, 3)
        self.speculation = nn.Linear(width, 1)

    def forward(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        h = self.trunk(z)
        return self.relevance(h).squeeze(-1), self.stance(h), self.speculation(h).squeeze(-1)


class Heads(nn.Module):
    """Standardisation plus an ensemble of Members; predict() averages probabilities."""

    mean: torch.Tensor  # buffers (register_buffer), typed for the checker
    scale: torch.Tensor
    temperature: torch.Tensor

    def __init__(self, dim: int, hidden: int = 0, dropout: float = 0.0, members: int = 1) -> None:
        super().__init__()
        self.dim = dim
        self.register_buffer("mean", torch.zeros(dim))
        self.register_buffer("scale", torch.ones(dim))
        # calibration: logits of relevance, stance and speculation are divided by these
        self.register_buffer("temperature", torch.ones(3))
        self.members = nn.ModuleList(Member(dim, hidden, dropout) for _ in range(members))

    @classmethod
    def from_config(cls, dim: int, config: HeadConfig) -> Heads:
        return cls(dim, config.hidden, config.dropout, config.members)

    @torch.inference_mode()
    def logits(self, x: np.ndarray) -> list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
        """Uncalibrated logits of each member: relevance (n,), stance (n, 3), speculation (n,)."""
        self.eval()
        z = (torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32)) - self.mean) / self.scale
        return [member(z) for member in self.members]

    @torch.inference_mode()
    def mean_logits(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Logits averaged over the members (stance as log-probabilities), uncalibrated."""
        members = self.logits(x)
        rel = torch.stack([m[0] for m in members]).mean(0)
        stance = torch.stack([torch.log_softmax(m[1], dim=-1) for m in members]).mean(0)
        spec = torch.stack([m[2] for m in members]).mean(0)
        return rel.numpy(), stance.numpy(), spec.numpy()

    def predict(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Calibrated probabilities: relevance (n,), stance (n, 3), speculation (n,)."""
        return probabilities(self.mean_logits(x), self.temperature.tolist())


def probabilities(logits: tuple[np.ndarray, np.ndarray, np.ndarray],
                  temperature: Sequence[float] = (1.0, 1.0, 1.0)
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Relevance, stance and speculation probabilities from (averaged) logits, each output's
    logits divided by its temperature."""
    rel, stance, spec = (np.asarray(z, dtype=np.float64) for z in logits)
    t_rel, t_stance, t_spec = temperature
    stance = stance / t_stance
    stance = np.exp(stance - stance.max(axis=-1, keepdims=True))
    return (_sigmoid(rel / t_rel), stance / stance.sum(axis=-1, keepdims=True),
            _sigmoid(spec / t_spec))


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))  # overflow-free


def _class_weights(y: torch.Tensor, n_classes: int) -> torch.Tensor:
    """Inverse-frequency weights over the labelled (non-ignored) entries."""
    y = y[y != IGNORE]
    counts = torch.bincount(y, minlength=n_classes).float().clamp(min=1.0)
    return counts.sum() / (n_classes * counts)


def _weighted_loss(class_weight: torch.Tensor, y: torch.Tensor, w: torch.Tensor
                   ) -> Callable[[torch.Tensor], torch.Tensor]:
    """Cross-entropy against ``y`` with class weights times per-text weights, averaged over
    the labelled texts like ``nn.CrossEntropyLoss(weight=...)`` (equal to it when w == 1)."""
    keep = y != IGNORE
    target = y.clamp(min=0)
    per_text = torch.where(keep, class_weight[target] * w, torch.zeros_like(w))
    total = per_text.sum().clamp(min=1e-12)

    def loss(logits: torch.Tensor) -> torch.Tensor:
        ce = nn.functional.cross_entropy(logits, target, reduction="none")
        return (ce * per_text).sum() / total
    return loss


def _binary(z: torch.Tensor) -> torch.Tensor:
    """One logit as a two-logit softmax [0, z] (== sigmoid(z)), so class weights apply."""
    return torch.stack([torch.zeros_like(z), z], 1)


def fit_heads(
    x: np.ndarray,
    relevant: np.ndarray,
    stance: np.ndarray,
    speculation: np.ndarray,
    config: HeadConfig = HeadConfig(),
    seed: int = 13,
    sample_weight: np.ndarray | None = None,
) -> Heads:
    """Train heads; ``stance`` uses IGNORE for texts whose stance should not be learnt.
    ``sample_weight`` (one per text, default 1) scales each text's share of the loss."""
    torch.manual_seed(seed)
    xt = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))
    y_rel = torch.as_tensor(relevant, dtype=torch.long)
    y_stance = torch.as_tensor(stance, dtype=torch.long)
    y_spec = torch.as_tensor(speculation, dtype=torch.long)

    heads = Heads.from_config(xt.shape[1], config)
    heads.mean.copy_(xt.mean(0))
    heads.scale.copy_(xt.std(0).clamp(min=1e-4))
    z = (xt - heads.mean) / heads.scale  # standardise once, not every step

    w = torch.ones(len(xt)) if sample_weight is None else torch.as_tensor(
        sample_weight, dtype=torch.float32)
    loss_rel = _weighted_loss(_class_weights(y_rel, 2), y_rel, w)
    loss_stance = _weighted_loss(_class_weights(y_stance, 3), y_stance, w)
    loss_spec = _weighted_loss(_class_weights(y_spec, 2), y_spec, w)
    has_stance = bool((y_stance != IGNORE).any())
    opt = torch.optim.AdamW(heads.parameters(), lr=config.lr, weight_decay=config.weight_decay)

    heads.train()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny matrices: extra threads only add contention
    try:
        for _ in range(config.epochs):
            opt.zero_grad()
            loss = torch.zeros(())
            for member in heads.members:  # members are independent: the sum trains each
                rel, st, spec = member(z)
                loss = loss + loss_rel(_binary(rel)) + loss_spec(_binary(spec))
                if has_stance:
                    loss = loss + loss_stance(st)
            loss.backward()
            opt.step()
    finally:
        torch.set_num_threads(threads)
    heads.eval()
    return heads


def save_heads(heads: Heads, path: Path) -> None:
    """Write the weights as safetensors."""
    from safetensors.torch import save_file

    save_file({k: v.contiguous() for k, v in heads.state_dict().items()}, str(path))


def load_heads(path: Path, dim: int, config: HeadConfig) -> Heads:
    """Read weights written by save_heads."""
    from safetensors.torch import load_file

    heads = Heads.from_config(dim, config)
    state = load_file(str(path))
    state.setdefault("temperature", torch.ones(3))  # artefacts from before calibration
    heads.load_state_dict(state)
    heads.eval()
    return heads
