"""Finding the trained classifier without loading it, and loading it when needed.

Only `load_scorer` imports torch and transformers, so commands that do not score (collect,
status, digest) start without them. A run reads meta.json once (`model_meta`): the model
id it scores and summarises under and the scorer it loads come from the same read, even
if the artefact is replaced meanwhile.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from classifier.meta import read_meta
from jobs.config import Settings

if TYPE_CHECKING:
    from classifier.scorer import Scorer


def model_meta(model_dir: Path) -> dict[str, Any]:
    """The artefact's meta.json, read without loading any weights."""
    return read_meta(model_dir)


def model_id_of(model_dir: Path) -> str:
    """The model id recorded with trained heads, read without loading any weights."""
    return str(model_meta(model_dir)["model_id"])


def scoring_threads(cores: int | None = None, load: float | None = None, own: int = 0) -> int:
    """Torch threads to score with: STABLEWATCH_THREADS when set, else the cores that other
    processes leave idle (cores minus the whole cores the 1-minute load average keeps
    busy, not counting the ``own`` threads this process already scores with), at least 1.
    Threads that wait on busy cores cost more than they give: under a load of 8 on 2
    cores, 2 threads scored 3.3 texts/s and 1 thread 16 (docs/scale.md)."""
    if os.environ.get("STABLEWATCH_THREADS", "").strip():
        return max(1, int(os.environ["STABLEWATCH_THREADS"]))
    cores = cores or os.cpu_count() or 1
    load = os.getloadavg()[0] if load is None else load
    others = max(0.0, load - own)
    return max(1, min(cores, cores - int(others)))


def retune_threads(scorer: Scorer) -> int:
    """Re-read the load between chunks of a long scoring run and follow it: a run that
    started while another job was busy takes the freed core once that job ends."""
    from classifier.encoder import configure_threads

    threads = scoring_threads(own=scorer.encoder.threads)
    if threads != scorer.encoder.threads:
        scorer.encoder.threads = configure_threads(threads)
    return threads


def load_scorer(settings: Settings, meta: dict[str, Any] | None = None) -> Scorer:
    """The configured scorer, scoring with `scoring_threads`; `meta` is the meta.json the
    run read (read again if None)."""
    from classifier.encoder import configure_threads
    from classifier.scorer import Scorer

    scorer = Scorer.load(settings.model_dir, backbone=settings.backbone, meta=meta)
    scorer.encoder.threads = configure_threads(scoring_threads())
    return scorer
