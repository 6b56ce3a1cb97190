"""Scoring on a Ray cluster: Ray Data fans the texts out to a pool of scorer actors.

The driver (the `stablewatch score --engine ray` process) reads the pending rows from
SQLite a page at a time and puts each page into Ray's object store as an Arrow table;
`map_batches` runs them through a pool of actors, each of which loads the classifier once
(from a copy of the model directory the driver ships with the job, so workers need
stablewatch installed but not the artefact); results stream back to the driver, which
stores them through the single SQLite writer as they arrive. `ray` is an optional extra:
``pip install 'stablewatch[ray]'``.
"""

from __future__ import annotations

import importlib.util
import io
import itertools
import logging
import os
import tarfile
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

from classifier.scores import Scores
from jobs.config import Settings
from jobs.rows import PendingPost, ScoreKey
from jobs.scoring import Echo, ScoredChunk, ScoreEngine, batched, check_model_id, post_text
from stablewatch.errors import StablewatchError

PAGE_ROWS = 5000  # rows the driver takes from the pending rows at a time
# texts per block and actor call (the scorer length-sorts and batches within it, as the
# local engine does with SCORE_CHUNK); a smaller job is split evenly over the actors
BLOCK_ROWS = 1024
MIN_BLOCK_ROWS = 32
KEY_COLUMNS = ("source", "post_id", "content_hash")
SCORE_COLUMNS = ("relevance", "p_supportive", "p_neutral", "p_opposed", "speculation")


class RayUnavailable(StablewatchError):
    """The Ray engine was asked for but Ray is not installed."""


def require_ray() -> None:
    """Raise RayUnavailable, naming the install command, when Ray Data is missing."""
    if importlib.util.find_spec("ray") is None or importlib.util.find_spec("pyarrow") is None:
        raise RayUnavailable(
            "--engine ray needs Ray: pip install 'stablewatch[ray]' "
            "(or score in this process with --engine local)"
        )


def pack_model_dir(model_dir: Path) -> bytes:
    """The artefact's files (not subfolders) as an in-memory tar, to ship to the workers."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for path in sorted(Path(model_dir).iterdir()):
            if path.is_file():
                tar.add(path, arcname=path.name)
    return buf.getvalue()


def unpack_model_dir(packed: bytes, into: Path) -> Path:
    with tarfile.open(fileobj=io.BytesIO(packed), mode="r") as tar:
        tar.extractall(into, filter="data")
    return into


class ScoreActor:
    """A Ray Data actor: loads the classifier once, then scores batches of rows."""

    def __init__(
        self, artefact: list[Any], backbone: str | None, model_id: str, threads: int
    ) -> None:
        """``artefact``: [object ref of pack_model_dir's bytes] (wrapped so that Ray passes
        the reference, and each actor fetches the 16 MB once)."""
        import ray

        os.environ["STABLEWATCH_THREADS"] = str(threads)
        from classifier.scorer import Scorer

        self._dir = tempfile.TemporaryDirectory(prefix="stablewatch-model-")
        model_dir = unpack_model_dir(ray.get(artefact[0]), Path(self._dir.name))
        self.scorer = Scorer.load(model_dir, backbone=backbone)
        check_model_id(self.scorer.model_id, model_id)

    def __call__(self, batch: dict[str, Any]) -> dict[str, Any]:
        import numpy as np

        scores = self.scorer.score([str(t) for t in batch["text"]])
        out = {c: batch[c] for c in KEY_COLUMNS}
        out["relevance"] = np.array([s.relevance for s in scores], dtype=np.float64)
        for i, name in enumerate(("p_supportive", "p_neutral", "p_opposed")):
            out[name] = np.array([s.stance_probs[i] for s in scores], dtype=np.float64)
        out["speculation"] = np.array([s.speculation for s in scores], dtype=np.float64)
        return out


def ray_engine(
    settings: Settings,
    model_id: str,
    address: str | None = None,
    workers: int | None = None,
    worker_cpus: int = 1,
    echo: Echo = lambda _msg: None,
) -> ScoreEngine:
    """A scoring engine (see jobs.scoring.ScoreEngine) that runs on Ray.

    ``address``: a running cluster (``auto``, ``HOST:6379``, ``ray://HOST:10001``); None
    joins the Ray instance this process already started, else starts a local one. A pool
    of ``workers`` actors (default: the cluster's CPUs // ``worker_cpus``) with
    ``worker_cpus`` CPUs and as many torch threads each.
    """
    require_ray()
    artefact = pack_model_dir(settings.model_dir)

    def run(rows: Iterator[PendingPost]) -> Iterator[ScoredChunk]:
        import pyarrow as pa
        import ray

        pages = batched(rows, PAGE_ROWS)
        first = next(pages, None)
        if first is None:
            return
        started = not ray.is_initialized()
        if started:
            ray.init(
                address=address,
                include_dashboard=False,
                log_to_driver=False,
                logging_level=logging.WARNING,
            )
        try:
            ctx = ray.data.DataContext.get_current()
            ctx.enable_progress_bars = False
            ctx.print_on_execution_start = False
            pool = workers or max(1, int(ray.cluster_resources().get("CPU", 1)) // worker_cpus)
            block = BLOCK_ROWS
            if len(first) < PAGE_ROWS:  # the whole job is in hand: one block per actor
                block = max(MIN_BLOCK_ROWS, min(BLOCK_ROWS, -(-len(first) // pool)))
            refs, total = [], 0
            for page in itertools.chain([first], pages):
                for chunk in batched(page, block):
                    table = pa.table(
                        {
                            **{c: [r[c] for r in chunk] for c in KEY_COLUMNS},
                            "text": [post_text(r) for r in chunk],
                        }
                    )
                    refs.append(ray.put(table))
                total += len(page)
            pool = max(1, min(pool, len(refs)))
            echo(
                f"scoring {total} texts on Ray: {pool} actor(s) x {worker_cpus} CPU, "
                f"{len(refs)} blocks"
            )
            artefact_ref = ray.put(artefact)
            # ray.put's refs are what from_arrow_refs takes; ray types them as two classes
            tables = cast("list[ray.types.ObjectRef[Any]]", refs)
            results = ray.data.from_arrow_refs(tables).map_batches(
                ScoreActor,
                batch_size=block,
                batch_format="numpy",
                compute=ray.data.ActorPoolStrategy(size=pool),
                num_cpus=worker_cpus,
                fn_constructor_kwargs={
                    "artefact": [artefact_ref],
                    "backbone": settings.backbone,
                    "model_id": model_id,
                    "threads": worker_cpus,
                },
            )
            for batch in results.iter_batches(batch_size=None, batch_format="numpy"):
                yield _scored_rows(batch, model_id)
        finally:
            if started:
                ray.shutdown()

    return run


def _scored_rows(batch: dict[str, Any], model_id: str) -> ScoredChunk:
    """(row, Scores) pairs from one batch of actor output."""
    keys = [batch[c] for c in KEY_COLUMNS]
    values = [batch[c] for c in SCORE_COLUMNS]
    out: ScoredChunk = []
    for i in range(len(keys[0])):
        row = cast(ScoreKey, {c: str(k[i]) for c, k in zip(KEY_COLUMNS, keys, strict=True)})
        rel, sup, neu, opp, spec = (float(v[i]) for v in values)
        out.append(
            (
                row,
                Scores(
                    relevance=rel, stance_probs=(sup, neu, opp), speculation=spec, model_id=model_id
                ),
            )
        )
    return out
