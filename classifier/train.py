"""Train the heads from data/train/*.jsonl and write the artefact (weights, meta, card)."""

from __future__ import annotations

import hashlib
import json
import random
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from classifier.encoder import (
    CHANNELS,
    DEFAULT_BACKBONE,
    DEFAULT_PRECISION,
    Encoder,
    backbone_short_name,
)
from classifier.evaluate import evaluate, load_examples
from classifier.heads import IGNORE, MLP, HeadConfig, fit_heads, save_heads
from classifier.model_card import render_card
from classifier.scorer import CARD_FILE, HEADS_FILE, META_FILE, Scorer
from classifier.scores import SPECULATION_LABELS, STANCE_LABELS, Scores

REQUIRED = ("text", "relevant", "stance", "speculation")
DEFAULT_HEADS = replace(MLP, members=5)


def load_training(train_dir: Path) -> tuple[list[dict], dict]:
    """All valid rows of train_dir/*.jsonl (first copy of a repeated text wins) and counts."""
    rows: list[dict] = []
    seen: set[str] = set()
    skipped: Counter[str] = Counter()
    per_file: dict[str, int] = {}
    files = sorted(Path(train_dir).glob("*.jsonl"))
    if not files:
        raise FileNotFoundError(f"no *.jsonl training files in {train_dir}")
    for path in files:
        kept = 0
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                skipped["bad json"] += 1
                continue
            if not isinstance(row, dict) or any(k not in row for k in REQUIRED):
                skipped["missing field"] += 1
                continue
            if row["stance"] not in STANCE_LABELS or row["speculation"] not in SPECULATION_LABELS:
                skipped["unknown label"] += 1
                continue
            text = str(row["text"]).strip()
            if not text or text in seen:
                skipped["empty or duplicate"] += 1
                continue
            seen.add(text)
            rows.append({
                "text": text,
                "lang": str(row.get("lang") or "und"),
                "script": row.get("script"),
                "relevant": bool(row["relevant"]),
                "stance": row["stance"] if row["relevant"] else "neutral",
                "speculation": row["speculation"],
                "source_file": path.name,
            })
            kept += 1
        per_file[path.name] = kept
    return rows, {"files": per_file, "skipped": dict(skipped)}


def label_arrays(rows: Sequence[dict]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """relevant (0/1), stance index (IGNORE for off-topic), speculation (1 = speculative)."""
    rel = np.array([int(r["relevant"]) for r in rows], dtype=np.int64)
    stance = np.array(
        [STANCE_LABELS.index(r["stance"]) if r["relevant"] else IGNORE for r in rows],
        dtype=np.int64,
    )
    spec = np.array([SPECULATION_LABELS.index(r["speculation"]) for r in rows], dtype=np.int64)
    return rel, stance, spec


def label_counts(rows: Sequence[dict]) -> dict:
    """Counts per language, script, file and label."""
    def count(key: Callable[[dict], str]) -> dict[str, int]:
        return dict(sorted(Counter(key(r) for r in rows).items()))

    return {
        "total": len(rows),
        "lang": count(lambda r: r["lang"]),
        "script": count(lambda r: f"{r['lang']}-{r['script']}" if r.get("script") else r["lang"]),
        "file": count(lambda r: r["source_file"]),
        "relevant": count(lambda r: str(r["relevant"]).lower()),
        "stance (on-topic)": count(lambda r: r["stance"] if r["relevant"] else "(off-topic)"),
        "speculation": count(lambda r: r["speculation"]),
    }


def scores_from_probs(rel: np.ndarray, stance: np.ndarray, spec: np.ndarray,
                      model_id: str) -> list[Scores]:
    return [
        Scores(float(rel[i]), (float(stance[i, 0]), float(stance[i, 1]), float(stance[i, 2])),
               float(spec[i]), model_id)
        for i in range(len(rel))
    ]


def cross_validate(features: np.ndarray, rows: Sequence[dict], config: HeadConfig,
                   folds: int = 5, seed: int = 13) -> dict:
    """K-fold estimate on the training data (folds stratified by language and relevance)."""
    rel, stance, spec = label_arrays(rows)
    rng = random.Random(seed)
    fold_of = np.zeros(len(rows), dtype=np.int64)
    groups: dict[tuple, list[int]] = {}
    for i, r in enumerate(rows):
        groups.setdefault((r["lang"], r["relevant"], r["stance"]), []).append(i)
    for key in sorted(groups, key=str):
        idx = groups[key]
        rng.shuffle(idx)
        offset = rng.randrange(folds)
        for k, i in enumerate(idx):
            fold_of[i] = (k + offset) % folds
    predicted: list[Scores | None] = [None] * len(rows)
    for f in range(folds):
        tr, te = np.where(fold_of != f)[0], np.where(fold_of == f)[0]
        heads = fit_heads(features[tr], rel[tr], stance[tr], spec[tr], config, seed)
        for i, s in zip(te, scores_from_probs(*heads.predict(features[te]), "cv"), strict=True):
            predicted[i] = s
    return evaluate(list(rows), predicted)  # type: ignore[arg-type]


def make_model_id(heads_path: Path, settings: dict) -> str:
    """sw-<backbone>[-use][-int8]-<8 hex of heads weights + settings>."""
    digest = hashlib.sha256(Path(heads_path).read_bytes())
    digest.update(json.dumps(settings, sort_keys=True).encode())
    channels = settings["channels"]
    parts = ["sw"]
    if "backbone" in channels:
        parts.append(backbone_short_name(settings["backbone"]))
    if "use" in channels:
        parts.append("use")
    if settings.get("precision") == "int8":
        parts.append("int8")
    parts.append(digest.hexdigest()[:8])
    return "-".join(parts)


def summary(result: dict) -> dict:
    """The headline figures of an evaluate() result, overall and per language."""
    def one(r: dict) -> dict:
        return {"n": r["n"], "relevance_f1": round(r["relevance"]["f1"], 4),
                "stance_macro_f1": round(r["stance"]["macro_f1"], 4),
                "speculation_macro_f1": round(r["speculation"]["macro_f1"], 4)}

    out = {"all": one(result)}
    out.update({lang: one(r) for lang, r in result.get("by_lang", {}).items()})
    return out


def train(
    train_dir: Path,
    out_dir: Path,
    backbone: str | None = None,
    seed: int = 13,
    progress: Callable[[str], None] | None = None,
    *,
    channels: Sequence[str] = CHANNELS,
    precision: str = DEFAULT_PRECISION,
    config: HeadConfig | None = None,
    cv_folds: int = 5,
    dev_path: Path | None = None,
    notes: str = "",
    encoder: Encoder | None = None,
) -> dict:
    """Encode the training texts, fit the heads, write heads + meta.json + MODEL_CARD.md.

    Reproducible: the same data, seed and backbone give the same weights and model id.
    ``cv_folds`` > 1 adds a k-fold estimate; ``dev_path`` adds held-out figures to the card.
    """
    say = progress or (lambda _msg: None)
    started = time.perf_counter()
    config = config or DEFAULT_HEADS
    rng_seed(seed)
    rows, load_info = load_training(Path(train_dir))
    counts = label_counts(rows)
    say(f"loaded {len(rows)} texts from {len(load_info['files'])} files")

    if encoder is None:
        encoder = Encoder(backbone, channels=channels, precision=precision)
    t0 = time.perf_counter()
    features = encoder.encode([r["text"] for r in rows])
    encode_seconds = time.perf_counter() - t0
    say(f"encoded {len(rows)} texts in {encode_seconds:.1f}s ({encoder.dim} features)")

    cv = None
    if cv_folds and cv_folds > 1:
        cv = cross_validate(features, rows, config, cv_folds, seed)
        say(f"{cv_folds}-fold CV: {summary(cv)['all']}")

    rel, stance, spec = label_arrays(rows)
    heads = fit_heads(features, rel, stance, spec, config, seed)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    heads_path = out_dir / HEADS_FILE
    save_heads(heads, heads_path)
    settings = {
        "backbone": encoder.backbone or DEFAULT_BACKBONE,
        "channels": list(encoder.channels),
        "precision": encoder.precision,
        "max_tokens": encoder.max_tokens,
        "max_chunks": encoder.max_chunks,
        "dim": encoder.dim,
        "heads": config.__dict__,
    }
    model_id = make_model_id(heads_path, settings)
    meta = {
        "model_id": model_id,
        **settings,
        "heads_sha256": hashlib.sha256(heads_path.read_bytes()).hexdigest(),
        "seed": seed,
        "label_counts": counts,
        "load_info": load_info,
        "training_seconds": 0.0,
        "encode_seconds": round(encode_seconds, 2),
        "trained_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "cv": summary(cv) if cv else None,
    }
    dev = None
    if dev_path is not None:
        scorer = Scorer(encoder, heads, model_id, meta)
        examples = load_examples(Path(dev_path))
        dev = evaluate(examples, scorer.score([e["text"] for e in examples]))
        meta["dev"] = summary(dev)
        say(f"dev: {meta['dev']['all']}")
    meta["training_seconds"] = round(time.perf_counter() - started, 2)
    (out_dir / META_FILE).write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n",
                                     encoding="utf-8")
    (out_dir / CARD_FILE).write_text(render_card(meta, cv, dev, notes), encoding="utf-8")
    say(f"wrote {model_id} to {out_dir} in {meta['training_seconds']:.1f}s")
    return {"model_id": model_id, "out_dir": str(out_dir), "n_texts": len(rows),
            "label_counts": counts, "training_seconds": meta["training_seconds"],
            "cv": meta["cv"], "dev": meta.get("dev")}


def rng_seed(seed: int) -> None:
    """Seed python, numpy and torch."""
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
