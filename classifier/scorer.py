"""Load a trained artefact and score texts: one encoder pass, three heads, batched."""

from __future__ import annotations

import hashlib
import json
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

from classifier.encoder import DEFAULT_BACKBONE, DEFAULT_BATCH_SIZE, Encoder, resolve_backbone
from classifier.errors import ModelNotFoundError
from classifier.heads import HeadConfig, Heads, load_heads
from classifier.scores import Scores

HEADS_FILE = "heads.safetensors"
META_FILE = "meta.json"
CARD_FILE = "MODEL_CARD.md"


def file_sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def read_meta(model_dir: Path) -> dict:
    """meta.json of an artefact, or ModelNotFoundError when there are no trained heads."""
    model_dir = Path(model_dir)
    meta_path, heads_path = model_dir / META_FILE, model_dir / HEADS_FILE
    if not meta_path.is_file() or not heads_path.is_file():
        raise ModelNotFoundError(
            f"No trained classifier heads in {model_dir} (expected {META_FILE} and {HEADS_FILE}). "
            "Train them first with `stablewatch train`."
        )
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        str(meta["model_id"])
    except (ValueError, KeyError, TypeError) as exc:
        raise ModelNotFoundError(
            f"{meta_path} is not a stablewatch model description ({exc}); "
            "retrain with `stablewatch train`."
        ) from exc
    return meta


def _precision(meta: dict) -> str:
    """int8 heads need the int8 encoder; fp32 and bf16 embeddings agree (cosine 0.9999), so
    either uses what this CPU runs best."""
    return "int8" if meta.get("precision") == "int8" else "auto"


class Scorer:
    """Scores texts for relevance, stance and speculation with one trained artefact."""

    def __init__(self, encoder: Encoder, heads: Heads, model_id: str, meta: dict) -> None:
        self.encoder = encoder
        self.heads = heads
        self.model_id = model_id
        self.meta = meta
        self.batch_size = int(meta.get("batch_size", DEFAULT_BATCH_SIZE))

    @classmethod
    def load(
        cls,
        model_dir: Path,
        backbone: str | None = None,
        *,
        encoder: Encoder | None = None,
    ) -> Scorer:
        """Load heads from model_dir; backbone None means the one recorded at training time.

        ``encoder`` lets callers share one loaded encoder between artefacts built with the
        same backbone, channels and quantisation.
        """
        model_dir = Path(model_dir)
        meta = read_meta(model_dir)
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
        if encoder is None:
            encoder = Encoder(
                chosen,
                channels=channels,
                precision=_precision(meta),
                max_tokens=int(meta.get("max_tokens", 256)),
                max_chunks=int(meta.get("max_chunks", 8)),
            )
        elif encoder.channels != channels or (encoder.precision == "int8") != (
            _precision(meta) == "int8"
        ):
            raise ValueError("the shared encoder does not match the artefact's channels/precision")
        if encoder.dim != int(meta["dim"]):
            raise ValueError(
                f"backbone {chosen!r} gives {encoder.dim} features, heads expect {meta['dim']}; "
                "retrain with `stablewatch train --backbone ...`"
            )
        known = HeadConfig.__dataclass_fields__
        config = HeadConfig(**{k: v for k, v in meta.get("heads", {}).items() if k in known})
        heads = load_heads(model_dir / HEADS_FILE, encoder.dim, config)
        return cls(encoder, heads, model_id, meta)

    def score(
        self,
        texts: Sequence[str],
        progress: Callable[[int, int], None] | None = None,
    ) -> list[Scores]:
        """Scores for each text, in input order."""
        texts = list(texts)
        if not texts:
            return []
        features = self.encoder.encode(texts, self.batch_size, progress)
        rel, stance, spec = self.heads.predict(features)
        return [
            Scores(
                relevance=float(rel[i]),
                stance_probs=(float(stance[i, 0]), float(stance[i, 1]), float(stance[i, 2])),
                speculation=float(spec[i]),
                model_id=self.model_id,
            )
            for i in range(len(texts))
        ]
