"""Train the heads from data/train/*.jsonl and write the artefact (weights, meta, card)."""

from __future__ import annotations

import hashlib
import json
import os
import random
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from classifier.encoder import (
    DEFAULT_BACKBONE,
    DEFAULT_PRECISION,
    FROZEN_CHANNELS,
    Encoder,
    backbone_short_name,
)
from classifier.errors import TrainingDataError
from classifier.evaluate import REQUIRED_FIELDS as REQUIRED
from classifier.evaluate import evaluate, load_examples, read_utf8, summary
from classifier.finetune import (
    FineTuneConfig,
    expected_calibration_error,
    fine_tune,
    fit_temperature,
)
from classifier.generations import (
    Ignores,
    generation,
    generation_settings,
    generation_weights,
)
from classifier.heads import (
    IGNORE,
    MLP,
    HeadConfig,
    Heads,
    fit_heads,
    probabilities,
    save_heads,
)
from classifier.model_card import render_card
from classifier.scorer import (
    CARD_FILE,
    ENCODER_FILE,
    HEADS_FILE,
    META_FILE,
    TUNED_HEADS_FILE,
    HeadSet,
    Scorer,
    ensemble_logits,
)
from classifier.scores import OUTPUTS, SPECULATION_LABELS, STANCE_LABELS, Scores

DEFAULT_HEADS = replace(MLP, members=5)


def load_training(train_dir: Path) -> tuple[list[dict], dict]:
    """All valid rows of train_dir/*.jsonl (first copy of a repeated text wins) and counts."""
    rows: list[dict] = []
    seen: set[str] = set()
    skipped: Counter[str] = Counter()
    per_file: dict[str, int] = {}
    files = sorted(Path(train_dir).glob("*.jsonl"))
    if not files:
        raise TrainingDataError(f"no *.jsonl training files in {train_dir}")
    for path in files:
        kept = 0
        for line in read_utf8(path, TrainingDataError).splitlines():
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
    if not rows:
        reasons = ", ".join(f"{n} {why}" for why, n in sorted(skipped.items())) or "no lines"
        raise TrainingDataError(f"no usable labelled texts in {train_dir} ({reasons}); each "
                                f"line needs {', '.join(REQUIRED)} with known labels")
    return rows, {"files": per_file, "skipped": dict(skipped)}


def label_arrays(rows: Sequence[dict], ignore: Ignores | None = None
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """relevant (0/1), stance index (IGNORE for off-topic), speculation (1 = speculative).

    ``ignore`` maps a data generation to the outputs whose labels are not learnt from it
    (IGNORE), e.g. ``{"v5": frozenset({"speculation"})}``.
    """
    rel = np.array([int(r["relevant"]) for r in rows], dtype=np.int64)
    stance = np.array(
        [STANCE_LABELS.index(r["stance"]) if r["relevant"] else IGNORE for r in rows],
        dtype=np.int64,
    )
    spec = np.array([SPECULATION_LABELS.index(r["speculation"]) for r in rows], dtype=np.int64)
    if ignore:
        for i, r in enumerate(rows):
            masked = ignore.get(generation(r), frozenset())
            for name, labels in zip(OUTPUTS, (rel, stance, spec), strict=True):
                if name in masked:
                    labels[i] = IGNORE
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
                   folds: int = 5, seed: int = 13, sample_weight: np.ndarray | None = None,
                   ignore: Ignores | None = None) -> dict:
    """K-fold estimate on the training data (folds stratified by language and relevance)."""
    return evaluate(list(rows), cross_validate_predictions(features, rows, config, folds, seed,
                                                           sample_weight, ignore))


def cross_validate_predictions(features: np.ndarray, rows: Sequence[dict], config: HeadConfig,
                               folds: int = 5, seed: int = 13,
                               sample_weight: np.ndarray | None = None,
                               ignore: Ignores | None = None
                               ) -> list[Scores]:
    """Out-of-fold scores for every row (each predicted by heads that did not see it)."""
    rel, stance, spec = label_arrays(rows, ignore)
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
        heads = fit_heads(features[tr], rel[tr], stance[tr], spec[tr], config, seed,
                          None if sample_weight is None else sample_weight[tr])
        for i, s in zip(te, scores_from_probs(*heads.predict(features[te]), "cv"), strict=True):
            predicted[i] = s
    return predicted  # type: ignore[return-value]


def holdout_split(rows: Sequence[dict], fraction: float = 0.15,
                  seed: int = 13) -> tuple[list[int], list[int]]:
    """Indices of a training part and a held-out part, stratified by language and labels."""
    rng = random.Random(seed)
    groups: dict[tuple, list[int]] = {}
    for i, r in enumerate(rows):
        groups.setdefault((r["lang"], r["relevant"], r["stance"], r["speculation"]), []).append(i)
    train_idx, hold_idx = [], []
    for key in sorted(groups, key=str):
        idx = groups[key]
        rng.shuffle(idx)
        cut = round(len(idx) * fraction)
        hold_idx += idx[:cut]
        train_idx += idx[cut:]
    return sorted(train_idx), sorted(hold_idx)


Labels = tuple[np.ndarray, np.ndarray, np.ndarray]  # what label_arrays returns


def fit_temperatures(logits: tuple, labels: Labels) -> list[float]:
    """One temperature per output (relevance, stance, speculation) for these logits."""
    rel, stance, spec = logits
    two = [np.stack([np.zeros_like(rel), rel], 1), stance,
           np.stack([np.zeros_like(spec), spec], 1)]
    return [fit_temperature(z, y) for z, y in zip(two, labels, strict=True)]


def calibration_error(probs: tuple, labels: Labels) -> dict:
    """Expected calibration error of each output's top-class probability."""
    out = {}
    for name, p, y in zip(OUTPUTS, probs, labels, strict=True):
        p = np.stack([1 - p, p], 1) if p.ndim == 1 else p
        keep = y != IGNORE
        out[name] = round(expected_calibration_error(
            p[keep].max(1), p[keep].argmax(1) == y[keep]), 4)
    return out


def calibrate(heads: Heads, features: np.ndarray, rows: Sequence[dict]) -> dict:
    """Fit one temperature per output on held-out rows; return them with ECE before/after."""
    import torch

    labels = label_arrays(rows)
    logits = heads.mean_logits(features)
    before = calibration_error(probabilities(logits), labels)
    temps = fit_temperatures(logits, labels)
    heads.temperature.copy_(torch.tensor(temps, dtype=torch.float32))
    return {"temperature": temps, "ece_before": before,
            "ece_after": calibration_error(heads.predict(features), labels), "n": len(rows)}


def make_model_id(out_dir: Path, settings: dict) -> str:
    """sw-<backbone>[-ft][-use][-int8]-<8 hex of the weights + settings>."""
    digest = hashlib.sha256()
    for spec in settings.get("head_sets") or [{"file": HEADS_FILE}]:
        digest.update(Path(out_dir, spec["file"]).read_bytes())
    if settings.get("encoder_weights"):
        digest.update(Path(out_dir, settings["encoder_weights"]).read_bytes())
    digest.update(json.dumps(settings, sort_keys=True).encode())
    channels = settings["channels"]
    parts = ["sw"]
    if "backbone" in channels:
        parts.append(backbone_short_name(settings["backbone"]))
    if settings.get("encoder_weights"):
        parts.append("ft")
    if "use" in channels:
        parts.append("use")
    if settings.get("precision") == "int8":
        parts.append("int8")
    parts.append(digest.hexdigest()[:8])
    return "-".join(parts)


def train(
    train_dir: Path,
    out_dir: Path,
    backbone: str | None = None,
    seed: int = 13,
    progress: Callable[[str], None] | None = None,
    *,
    channels: Sequence[str] = FROZEN_CHANNELS,
    precision: str = DEFAULT_PRECISION,
    config: HeadConfig | None = None,
    cv_folds: int = 5,
    dev_path: Path | None = None,
    notes: str = "",
    encoder: Encoder | None = None,
    finetune: FineTuneConfig | None = None,
    weights: dict[str, float] | None = None,
    ignore: Ignores | None = None,
    depth: int | None = None,
) -> dict:
    """Train on 85% of the texts, calibrate on the held-out 15%, write the artefact
    (heads, fine-tuned layers if any, meta.json, MODEL_CARD.md).

    Two designs: frozen encoder features with MLP heads (``config``), or, with
    ``finetune``, the backbone's top layers trained together with linear heads.
    Reproducible: the same data, seed and settings give the same weights and model id.
    ``cv_folds`` > 1 adds a k-fold estimate (frozen design); ``dev_path`` adds dev figures.
    ``weights`` scales the loss of each data generation (e.g. ``{"v1": 0.5}``); ``ignore``
    names outputs whose labels are not learnt from a generation (``{"v5": {"speculation"}}``:
    held-out calibration skips them too). Both are laid over ``train_dir/generations.toml``.
    ``depth`` runs only the backbone's first layers (a cheaper model; None: all of them);
    with ``encoder`` given, that encoder's depth is the one recorded.
    """
    say = progress or (lambda _msg: None)
    started = time.perf_counter()
    config = config or DEFAULT_HEADS
    rng_seed(seed)
    rows, load_info = load_training(Path(train_dir))
    weights, ignore = generation_settings(Path(train_dir), weights, ignore)
    counts = label_counts(rows)
    say(f"loaded {len(rows)} texts from {len(load_info['files'])} files")
    train_idx, hold_idx = holdout_split(rows, seed=seed)
    train_rows, hold_rows = [rows[i] for i in train_idx], [rows[i] for i in hold_idx]
    sample_weight = generation_weights(rows, weights) if weights else None
    train_weight = None if sample_weight is None else sample_weight[train_idx]

    if finetune is not None:  # the ensemble: fine-tuned layers + frozen features
        channels = ("backbone", "tuned", "tmpl", "cues")
    if encoder is None:
        encoder = Encoder(backbone, channels=channels,
                          precision="fp32" if finetune else precision, depth=depth)
    t0 = time.perf_counter()
    # (file, channels, config, heads) of each head set; their logits are averaged
    sets: list[tuple[str, list[str], dict, Heads]] = []
    tuned_layers = None
    if finetune is not None:
        tuned_heads, tuned_layers = fine_tune(encoder, [r["text"] for r in train_rows],
                                              *label_arrays(train_rows, ignore), finetune,
                                              seed, say, train_weight)
        sets.append((TUNED_HEADS_FILE, ["tuned"], heads_config(tuned_heads), tuned_heads))
    parts = encoder.encode_channels([r["text"] for r in rows])
    say(f"encoded {len(rows)} texts in {time.perf_counter() - t0:.1f}s ({encoder.dim} features)")
    frozen = [c for c in encoder.channels if c != "tuned"]
    features = np.concatenate([parts[c] for c in frozen], axis=1)
    cv = None
    if cv_folds and cv_folds > 1:
        cv = cross_validate(features, rows, config, cv_folds, seed, sample_weight, ignore)
        say(f"{cv_folds}-fold CV of the frozen heads: {summary(cv)['all']}")
    heads = fit_heads(features[train_idx], *label_arrays(train_rows, ignore), config, seed,
                      train_weight)
    sets.insert(0, (HEADS_FILE, frozen, config.__dict__, heads))
    head_sets = [HeadSet(h, tuple(ch)) for _, ch, _, h in sets]
    fit_seconds = time.perf_counter() - t0

    calibration = holdout = None
    if hold_rows:  # too little data leaves nothing to hold out: uncalibrated (T = 1)
        logits = ensemble_logits(head_sets, {c: v[hold_idx] for c, v in parts.items()})
        hold_labels = label_arrays(hold_rows, ignore)
        temperature = fit_temperatures(logits, hold_labels)
        probs = probabilities(logits, temperature)
        calibration = {"temperature": temperature, "n": len(hold_rows),
                       "ece_before": calibration_error(probabilities(logits), hold_labels),
                       "ece_after": calibration_error(probs, hold_labels)}
        holdout = evaluate(hold_rows, scores_from_probs(*probs, "hold"))
        say(f"held-out 15%: {summary(holdout)['all']}; ECE {calibration['ece_after']}")

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for file, _, _, h in sets:
        save_heads(h, out_dir / file)
    settings = {
        "backbone": encoder.backbone or DEFAULT_BACKBONE,
        "channels": list(encoder.channels),
        "precision": encoder.precision,
        "max_tokens": encoder.max_tokens,
        "max_chunks": encoder.max_chunks,
        "prefix": encoder.prefix,
        "templates": list(encoder.templates) if "tmpl" in encoder.channels else None,
        "dim": encoder.dim,
        "heads": config.__dict__,
        "head_sets": [{"file": f, "channels": ch, "config": cfg} for f, ch, cfg, _ in sets],
    }
    if encoder.depth is not None:
        settings["depth"] = encoder.depth
    if weights:
        settings["generation_weights"] = dict(sorted(weights.items()))
    if ignore:
        settings["ignored_labels"] = {g: sorted(o) for g, o in sorted(ignore.items())}
    if tuned_layers is not None:
        from safetensors.torch import save_file

        save_file({k: v.half().contiguous() for k, v in tuned_layers.items()},
                  str(out_dir / ENCODER_FILE))
        settings["encoder_weights"] = ENCODER_FILE
        settings["finetune"] = finetune.__dict__
    model_id = make_model_id(out_dir, settings)
    meta: dict[str, Any] = {
        "model_id": model_id,
        **settings,
        "heads_sha256": hashlib.sha256((out_dir / HEADS_FILE).read_bytes()).hexdigest(),
        "seed": seed,
        "label_counts": counts,
        "load_info": load_info,
        "training_seconds": 0.0,
        "fit_seconds": round(fit_seconds, 2),
        "cpu_count": os.cpu_count(),
        "trained_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "cv": summary(cv) if cv else None,
        "cv_folds": cv_folds if cv else None,
        "holdout": summary(holdout) if holdout else None,
        "calibration": calibration,
        "temperature": calibration["temperature"] if calibration else None,
    }
    dev = None
    if dev_path is not None:
        scorer = Scorer(encoder, head_sets, model_id, meta)
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


def heads_config(heads: Heads) -> dict:
    """The HeadConfig fields that rebuild ``heads`` (for heads trained by fine-tuning)."""
    from torch import nn

    trunk: Any = heads.members[0].trunk  # nn.Identity, or nn.Sequential(Linear, ...)
    hidden = 0 if isinstance(trunk, nn.Identity) else trunk[0].out_features
    return {"hidden": hidden, "members": len(heads.members), "dropout": 0.0}


def rng_seed(seed: int) -> None:
    """Seed python, numpy and torch."""
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
