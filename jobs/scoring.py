"""Scoring engines: what the pipeline's scoring stage hands texts to.

A `ScoreEngine` takes the rows to score and yields (row, Scores) chunks; the pipeline
(`jobs.pipeline.score`) stores each chunk as it arrives, so SQLite keeps a single writer
whatever the engine. `local_engine` scores in this process; `jobs.ray_engine` on Ray.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from classifier.scores import Scores
from collectors.post import post_text as text_of
from jobs.rows import PendingPost, ScoreKey

if TYPE_CHECKING:
    from classifier.scorer import Scorer

Echo = Callable[[str], None]
# Texts per call to the local scorer, which sorts them by length into batches; results
# are committed after each call. 1024 would pad 3% of the tokens instead of 14% on the
# sample's texts, but commit a quarter as often (docs/scale.md); kept at 256.
SCORE_CHUNK = 256


def quiet(_: str) -> None:
    pass


ScoredChunk = list[tuple[ScoreKey, Scores]]
# A scoring engine takes the rows to score (dicts with source, post_id, content_hash, title
# and body; each text distinct) and yields (row, Scores) chunks as they are done, in any
# order. The caller stores each chunk: SQLite keeps a single writer whatever the engine.
ScoreEngine = Callable[[Iterator[PendingPost]], Iterator[ScoredChunk]]


def local_engine(get_scorer: Callable[[], Scorer], model_id: str,
                 echo: Echo = quiet) -> ScoreEngine:
    """Score in this process, SCORE_CHUNK texts at a time; the model loads on first use and
    the number of threads follows the load between chunks (`jobs.model.retune_threads`)."""
    from jobs.model import retune_threads

    def run(rows: Iterator[PendingPost]) -> Iterator[ScoredChunk]:
        scorer: Scorer | None = None
        for chunk in batched(rows, SCORE_CHUNK):
            if scorer is None:
                echo("loading classifier")
                scorer = get_scorer()
                check_model_id(scorer.model_id, model_id)
            else:
                retune_threads(scorer)
            yield list(zip(chunk, scorer.score([post_text(r) for r in chunk]), strict=True))

    return run


def check_model_id(loaded: str, expected: str) -> None:
    if loaded != expected:
        raise RuntimeError(
            f"loaded model {loaded} but meta.json names {expected}; retrain the heads"
        )


def batched(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    """Lists of ``size`` items (the last may be shorter) from any iterable."""
    chunk: list[Any] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def post_text(row: Mapping[str, Any]) -> str:
    """The text the classifier reads for a stored post: `collectors.post.post_text`, the
    text its content hash covers."""
    return text_of(row.get("title"), row.get("body"))
