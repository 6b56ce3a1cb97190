"""Load a trained artefact and score texts: one encoder pass, three heads, batched."""

from __future__ import annotations

import hashlib
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from classifier.encoder import (
    DEFAULT_BACKBONE,
    DEFAULT_BATCH_SIZE,
    TEMPLATES,
    Encoder,
    resolve_backbone,
)
from classifier.errors import ModelNotFoundError
from classifier.heads import HeadConfig, Heads, load_heads, probabilities
from classifier.meta import HEADS_FILE, META_FILE, read_meta
from classifier.scores import Scores

__all__ = ["HEADS_FILE", "META_FILE", "Scorer", "read_meta"]

ENCODER_FILE = "encoder.safetensors"  # fine-tuned backbone layers, when the design trains them
TUNED_HEADS_FILE = "tuned_heads.safetensors"  # the heads trained with those layers
CARD_FILE = "MODEL_CARD.md"


def file_sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _precision(meta: dict) -> str:
    """The arithmetic to score with: int8 heads need the int8 encoder; everything else is
    scored in fp32, which keeps a text's scores independent of its batch (bf16 autocast
    moves them by up to 0.0012, and for multilingual-e5-small it is 2.4x slower than fp32
    on 2 cores: benchmarks/results/bench.md)."""
    return "int8" if meta.get("precision") == "int8" else "fp32"


def load_tuned_layers(encoder: Encoder, path: Path) -> None:
    """Attach the fine-tuned top layers stored in ``path`` as the encoder's 'tuned' channel."""
    import copy

    import torch
    from safetensors.torch import load_file

    if not path.is_file():
        raise ModelNotFoundError(f"{path} is missing: the artefact's fine-tuned layers")
    tuned = load_file(str(path))
    indices = sorted({int(k.split(".")[2]) for k in tuned if k.startswith("encoder.layer.")})
    if not indices or len(tuned) != sum(k.startswith("encoder.layer.") for k in tuned):
        raise ValueError(f"{path} holds no fine-tuned layers of a BERT-style encoder")
    first = indices[0]
    layers = copy.deepcopy(encoder._model.encoder.layer[first:])
    if len(layers) != len(indices):
        raise ValueError(f"{path} does not fit backbone {encoder.backbone!r}")
    state = {}
    for key, value in tuned.items():  # encoder.layer.8.attention… -> 0.attention…
        _, _, index, rest = key.split(".", 3)
        state[f"{int(index) - first}.{rest}"] = value
    with torch.no_grad():
        layers.load_state_dict({k: v.float() for k, v in state.items()})
    encoder.attach_tuned(layers, first)


@dataclass(frozen=True)
class HeadSet:
    """Heads that read some of the encoder's channels (an artefact has one or more)."""

    heads: Heads
    channels: tuple[str, ...]

    def mean_logits(self, parts: dict[str, np.ndarray]):
        return self.heads.mean_logits(np.concatenate([parts[c] for c in self.channels], axis=1))


def head_set_specs(meta: dict) -> list[dict]:
    """meta.json's head sets; artefacts from before ensembles have one, over all channels."""
    if meta.get("head_sets"):
        return meta["head_sets"]
    return [{"file": HEADS_FILE, "channels": meta.get("channels", ["backbone", "use"]),
             "config": meta.get("heads", {})}]


def ensemble_logits(head_sets: Sequence[HeadSet], parts: dict[str, np.ndarray]):
    """Relevance, stance and speculation logits averaged over the head sets."""
    outputs = [h.mean_logits(parts) for h in head_sets]
    return tuple(sum(o[k] for o in outputs) / len(outputs) for k in range(3))


def predict(head_sets: Sequence[HeadSet], parts: dict[str, np.ndarray],
            temperature: Sequence[float] = (1.0, 1.0, 1.0)):
    """Calibrated probabilities of the ensemble: relevance, stance (n, 3), speculation."""
    return probabilities(ensemble_logits(head_sets, parts), temperature)


class Scorer:
    """Scores texts for relevance, stance and speculation with one trained artefact."""

    def __init__(self, encoder: Encoder, head_sets: Sequence[HeadSet], model_id: str,
                 meta: dict) -> None:
        self.encoder = encoder
        self.head_sets = list(head_sets)
        self.model_id = model_id
        self.meta = meta
        self.batch_size = int(meta.get("batch_size", DEFAULT_BATCH_SIZE))
        # the ensemble's calibration (artefacts from before it: 1, each Heads calibrates)
        self.temperature = tuple(meta.get("temperature") or (1.0, 1.0, 1.0))

    @classmethod
    def load(
        cls,
        model_dir: Path,
        backbone: str | None = None,
        *,
        encoder: Encoder | None = None,
        precision: str | None = None,
        meta: dict | None = None,
    ) -> Scorer:
        """Load heads from model_dir; backbone None means the one recorded at training time.

        ``encoder`` lets callers share one loaded encoder between artefacts built with the
        same backbone, channels and quantisation; ``precision`` overrides the arithmetic
        (for benchmarks: 'fp32', 'bf16', 'int8'); ``meta`` is model_dir's meta.json when
        the caller has read it already (`read_meta`), so a run reads it once.
        """
        model_dir = Path(model_dir)
        meta = read_meta(model_dir) if meta is None else meta
        recorded = meta.get("backbone") or DEFAULT_BACKBONE
        chosen = backbone or recorded
        model_id = meta["model_id"]
        if chosen != recorded and resolve_backbone(chosen) != resolve_backbone(recorded):
            warnings.warn(
                f"heads were trained on backbone {recorded!r}, scoring with {chosen!r}",
                stacklevel=2,
            )
            model_id += "+bb-" + hashlib.sha256(chosen.encode()).hexdigest()[:8]
        channels = tuple(meta.get("channels", ("backbone", "use")))
        tuned = meta.get("encoder_weights")
        if encoder is None:
            encoder = Encoder(
                chosen,
                channels=channels,
                precision=precision or _precision(meta),
                max_tokens=int(meta.get("max_tokens", 256)),
                max_chunks=int(meta.get("max_chunks", 8)),
                prefix=meta.get("prefix"),
                templates=meta.get("templates") or TEMPLATES,
                depth=meta.get("depth"),
            )
            if tuned:
                load_tuned_layers(encoder, model_dir / tuned)
        elif tuned:
            raise ValueError("an artefact with fine-tuned layers cannot share an encoder")
        elif encoder.channels != channels or (encoder.precision == "int8") != (
            _precision(meta) == "int8"
        ) or encoder.depth != meta.get("depth"):
            raise ValueError(
                "the shared encoder does not match the artefact's channels/precision/depth")
        if encoder.dim != int(meta["dim"]):
            raise ValueError(
                f"backbone {chosen!r} gives {encoder.dim} features, heads expect {meta['dim']}; "
                "retrain with `stablewatch train --backbone ...`"
            )
        known = HeadConfig.__dataclass_fields__
        head_sets = []
        for spec in head_set_specs(meta):
            config = HeadConfig(**{k: v for k, v in spec["config"].items() if k in known})
            dim = sum(encoder.channel_dim(c) for c in spec["channels"])
            head_sets.append(HeadSet(load_heads(model_dir / spec["file"], dim, config),
                                     tuple(spec["channels"])))
        return cls(encoder, head_sets, model_id, meta)

    def score(
        self,
        texts: Sequence[str],
        progress: Callable[[int, int], None] | None = None,
    ) -> list[Scores]:
        """Scores for each text, in input order."""
        texts = list(texts)
        if not texts:
            return []
        parts = self.encoder.encode_channels(texts, self.batch_size, progress)
        rel, stance, spec = predict(self.head_sets, parts, self.temperature)
        return [
            Scores(
                relevance=float(rel[i]),
                stance_probs=(float(stance[i, 0]), float(stance[i, 1]), float(stance[i, 2])),
                speculation=float(spec[i]),
                model_id=self.model_id,
            )
            for i in range(len(texts))
        ]
