"""The daily job: collect, store, score, summarize, digest. Each stage is a function.

Every `run_*` function that writes holds the run lock (`jobs.lock`) for its whole run.
Torch and transformers are imported only when something needs scoring.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from collectors.archive import read_archive
from collectors.cursors import parse_cursor
from collectors.deadline import Deadline, deadline_scope
from collectors.post import Post, Rejection
from collectors.records import horizon, screen
from jobs.config import SAMPLE_ARCHIVE, Settings
from jobs.digest import Digest, build_digest, previous_day, retry_unsent, write_digest
from jobs.lock import run_lock
from jobs.model import load_scorer, model_id_of, model_meta
from jobs.rows import DigestRow, PendingPost, ScoreRow, SummaryRow
from jobs.scoring import (
    Echo,
    ScoreEngine,
    local_engine,
    quiet,
)
from jobs.sources import Collector, SourceError, archive_collectors, live_collectors
from jobs.stop import stop_reason
from jobs.store import Store, UpsertCounts, describe_storage_error
from jobs.summaries import days_between, summarize
from jobs.topics import TopicAssigner, Topics, load_topics
from stablewatch.errors import error_line

if TYPE_CHECKING:
    from classifier.scorer import Scorer

SCORE_PAGE = 5000  # pending posts read from SQLite at a time


@dataclass
class CollectReport:
    counts: UpsertCounts = field(default_factory=UpsertCounts)
    days: set[str] = field(default_factory=set)
    errors: list[str] = field(default_factory=list)
    sources: int = 0  # sources tried (collectors, and sources that could not start)
    failed_sources: int = 0  # of those: raised, or every harvest erred and fetched nothing
    rejected: list[Rejection] = field(default_factory=list)  # records not stored, and why
    run_id: int | None = None
    comments_unexpanded: int = 0  # comments left behind "load more" stubs (Reddit)

    @property
    def all_sources_failed(self) -> bool:
        return self.sources > 0 and self.failed_sources == self.sources


@dataclass
class DailyReport:
    day: str
    model_id: str
    collect: CollectReport
    scored: int
    reused: int
    summaries: list[SummaryRow]
    digest: DigestRow
    seconds: float
    run_id: int

    @property
    def status(self) -> str:
        return "partial" if self.collect.errors or self.digest.get("send_error") else "ok"


def collect(
    store: Store,
    collectors: Sequence[Collector],
    topics: Topics,
    now: datetime,
    echo: Echo = quiet,
    run_deadline: Deadline | None = None,
) -> CollectReport:
    """Run each collector within its deadline, storing each harvest's posts and cursor in
    one transaction.

    Every post is screened first (`collectors.records.screen`): one that cannot be stored
    (a time in the future or before its source existed, an integer out of range) is
    rejected alone and named in `report.rejected`, next to what collectors rejected. A
    cursor more than a day in the future is not saved. A source that fails is recorded and
    the next one runs. A storage failure (a full disk, a damaged file) is not the source's
    fault: it propagates, and the harvest being stored is rolled back whole, its cursor
    with it.
    """
    report = CollectReport()
    clock = datetime.now(UTC)
    assigner = TopicAssigner(topics.topics)
    since = now - timedelta(days=topics.lookback_days)
    revisit_since = (now - timedelta(days=topics.revisit_days)).isoformat()
    run_deadline = run_deadline or Deadline(topics.run_deadline, "run")
    for collector in collectors:
        cursors = store.get_cursors(collector.source)
        revisit = store.recent_thread_ids(collector.source, revisit_since)
        report.sources += 1
        delivered = False
        limit = Deadline(source_deadline(collector, topics), collector.source,
                         parent=run_deadline)
        with deadline_scope(limit):
            for harvest in _harvests(collector, cursors, since, revisit, report, echo):
                name = f"{collector.source} {harvest.key}"

                def where(p: Post, key: str = harvest.key) -> str:
                    return f"{key} id {p.id}"

                posts, screened = screen(harvest.posts, where, clock)
                rejected = [*harvest.rejected, *screened]
                delivered = delivered or bool(posts) or not harvest.error
                topic_of = assigner.assign(posts, store.thread_topics)
                # Collectors only return cursors that cover what they delivered, even after
                # an error part-way, so saving it never skips posts and lets a key progress.
                cursor = harvest.cursor
                parsed = parse_cursor(cursor)
                if parsed is not None and parsed > horizon(clock):
                    report.errors.append(f"{name}: cursor {cursor} is in the future; not saved")
                    cursor = None
                counts = store.save_harvest(collector.source, harvest.key, posts, topic_of,
                                            cursor)
                report.counts.add(counts)
                report.days.update(p.created_utc.astimezone(UTC).date().isoformat() for p in posts)
                unexpanded = sum(int(p.extra.get("comments_not_expanded") or 0) for p in posts)
                report.comments_unexpanded += unexpanded
                if harvest.error:
                    report.errors.append(f"{name}: {harvest.error}")
                if rejected:
                    report.rejected += rejected
                    report.errors.append(
                        f"{name}: {len(rejected)} record(s) rejected, first: {rejected[0]}"
                    )
                echo(
                    f"collected {harvest.key}: {len(harvest.posts)} fetched, {counts.new} new, "
                    f"{counts.updated} updated"
                    + (f", {len(rejected)} rejected" if rejected else "")
                    + (f", {unexpanded} comments not expanded" if unexpanded else "")
                    + (f" (error: {harvest.error})" if harvest.error else "")
                )
        report.failed_sources += not delivered
    return report


def source_deadline(collector: Collector, topics: Topics) -> float:
    """Seconds a source may spend: its own `deadline` setting, else [collect]'s default."""
    own = getattr(getattr(collector, "settings", None), "deadline", None)
    return float(own) if own else topics.source_deadline


def _harvests(collector: Collector, cursors: dict[str, str], since: datetime,
              revisit: Sequence[str], report: CollectReport, echo: Echo) -> Iterator[Any]:
    """The collector's harvests; an exception from the collector (not from storing what it
    delivered) ends this source with an error, and the run goes on with the next."""
    harvests = iter(collector.harvest(cursors, since, revisit))
    while True:
        try:
            harvest = next(harvests)
        except StopIteration:
            return
        except Exception as exc:  # one broken source must not stop the others
            message = error_line(exc)
            report.errors.append(f"{collector.source}: {message}")
            echo(f"collector {collector.source} failed: {message}")
            return
        yield harvest


def score(
    store: Store,
    model_id: str,
    get_scorer: Callable[[], Scorer] | None = None,
    echo: Echo = quiet,
    engine: ScoreEngine | None = None,
    limit: int | None = None,
) -> tuple[int, int]:
    """Score posts that lack a score for `model_id` on their current text.

    Pending posts are read a page at a time. A text already scored under the same model
    (an identical text, in this run or an earlier one) is copied, not rescored; the rest go
    to ``engine`` (default: this process) and each chunk of results is stored as it
    arrives. ``limit`` caps how many texts are scored. Returns (scored, reused).
    """
    pending = store.count_unscored(model_id)
    if not pending:
        return 0, 0
    if engine is None:
        if get_scorer is None:
            raise ValueError("score() needs get_scorer or an engine")
        engine = local_engine(get_scorer, model_id, echo)
    echo(f"{pending} texts without a score for {model_id}")
    waiting: dict[str, list[PendingPost]] = {}  # content hash -> identical texts' rows
    reused = 0

    def todo() -> Iterator[PendingPost]:
        nonlocal reused
        sent = 0
        for page in store.unscored_pages(model_id, SCORE_PAGE):
            cached = store.cached_scores(
                (p["content_hash"] for p in page if p["content_hash"] not in waiting), model_id)
            copies: list[ScoreRow] = []
            fresh: list[PendingPost] = []
            for row in page:  # every twin in the page is known before any row is yielded
                digest = row["content_hash"]
                if digest in cached:
                    copies.append({**cached[digest], "source": row["source"],
                                   "post_id": row["post_id"]})
                elif digest in waiting:
                    waiting[digest].append(row)
                elif limit is None or sent < limit:
                    waiting[digest] = []
                    fresh.append(row)
                    sent += 1
            if copies:
                store.save_score_rows(copies)
                reused += len(copies)
            yield from fresh
            if limit is not None and sent >= limit:
                return

    scored = 0
    for chunk in engine(todo()):
        store.save_scores(chunk)
        twins = [(twin, s) for row, s in chunk for twin in waiting.pop(row["content_hash"], [])]
        if twins:
            store.save_scores(twins)
            reused += len(twins)
        scored += len(chunk)
        echo(f"scored {scored} ({scored + reused}/{pending} pending)")
    return scored, reused


def default_day(sample: bool, archives: Sequence[Path]) -> str:
    """Yesterday (UTC) for live runs; the newest day in the archive for replays."""
    if sample or archives:
        newest = _newest_day(list(archives) or [SAMPLE_ARCHIVE])
        if newest:
            return newest
    return (datetime.now(UTC).date() - timedelta(days=1)).isoformat()


def _newest_day(paths: Sequence[Path]) -> str | None:
    """The newest UTC day of the archives' valid records (rejected ones never count)."""
    days = [
        post.created_utc.astimezone(UTC).date().isoformat()
        for path in paths
        for post in read_archive(Path(path)).posts
    ]
    return max(days, default=None)


def collect_columns(report: CollectReport, missing: bool) -> dict[str, Any]:
    """The `runs` columns a collection fills: what it stored, what it left unexpanded,
    every rejected record, and `missing_data` (`missing`: live sources that all failed)."""
    records = [r.to_dict() for r in report.rejected]
    return {
        "collected": report.counts.total,
        "new_posts": report.counts.new,
        "updated_posts": report.counts.updated,
        "comments_unexpanded": report.comments_unexpanded,
        "missing_data": int(missing),
        "rejected": len(records),
        "rejected_records": json.dumps(records, ensure_ascii=False) if records else None,
    }


@contextmanager
def recorded_run(store: Store, command: str, day: str | None, echo: Echo = quiet,
                 model_id: str | None = None) -> Iterator[int]:
    """A `runs` row for the block: 'running' while it runs, 'aborted' when a signal stops
    it, 'failed' when it raises. Runs left 'running' by dead processes are marked
    'crashed' first (the caller holds the run lock, so none of them is alive)."""
    run_id = store.start_run(command, day)
    for crashed in store.mark_crashed_runs(by_run=run_id):
        echo(f"run #{crashed} was left unfinished by a process that is gone: marked crashed")
    try:
        yield run_id
    except BaseException as exc:
        reason = stop_reason(exc)
        status = "aborted" if reason else "failed"
        if isinstance(exc, sqlite3.Error):  # storage, not a source: say so
            reason = "storage: " + describe_storage_error(exc, store.path)
        message = reason or error_line(exc)
        # On a full disk this fails too; the next run then marks this one crashed.
        with suppress(Exception):
            store.finish_run(run_id, status, [message], model_id=model_id)
        raise


def run_collect(
    settings: Settings,
    sources: Sequence[str] | None = None,
    archives: Sequence[Path] = (),
    echo: Echo = quiet,
) -> CollectReport:
    """Collect only. Raises SourceError, before writing anything, if a source cannot start."""
    topics = load_topics(settings.topics_path)
    if archives:
        collectors = archive_collectors([Path(a) for a in archives], until=None)
    else:
        collectors, errors = live_collectors(topics, sources)
        if errors:
            raise SourceError("; ".join(errors))
    with (
        run_lock(settings.db_path),
        Store.open(settings.db_path) as store,
        recorded_run(store, "collect", None, echo) as run_id,
    ):
        report = collect(store, collectors, topics, datetime.now(UTC), echo)
        missing = not archives and report.all_sources_failed
        store.finish_run(run_id, "partial" if report.errors else "ok", report.errors,
                         **collect_columns(report, missing))
    report.run_id = run_id
    return report


ENGINES = ("local", "ray")


def run_score(
    settings: Settings,
    echo: Echo = quiet,
    engine: str = "local",
    address: str | None = None,
    workers: int | None = None,
    limit: int | None = None,
) -> tuple[str, int, int]:
    """Score only, in this process (``engine='local'``) or on a Ray cluster (``'ray'``, at
    ``address``; default: a local one). Returns (model id, scored, reused)."""
    meta = model_meta(settings.model_dir)  # read once: the id and the scorer agree
    model_id = str(meta["model_id"])
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {', '.join(ENGINES)}, got {engine!r}")
    chosen: ScoreEngine | None = None
    if engine == "ray":
        from jobs.ray_engine import ray_engine

        chosen = ray_engine(settings, model_id, address=address, workers=workers, echo=echo)
    with run_lock(settings.db_path), Store.open(settings.db_path) as store:
        scored, reused = score(store, model_id, lambda: load_scorer(settings, meta), echo,
                               engine=chosen, limit=limit)
    return model_id, scored, reused


def topic_names(topics: Topics) -> list[str]:
    """The configured topic names (every summarised day gets a row for each)."""
    return [t.name for t in topics.topics]


def run_summarize(settings: Settings, first: str | None = None,
                  last: str | None = None) -> list[SummaryRow]:
    """Recompute the summaries of every day from ``first`` to ``last`` (default: all days
    with posts), plus any stale day, then the zero-filled series and its baselines."""
    with run_lock(settings.db_path), Store.open(settings.db_path) as store:
        span = store.post_day_range()
        if span is None:
            return []
        days = days_between(first or span[0], last or span[1])
        topics = topic_names(load_topics(settings.topics_path))
        return summarize(store, model_id_of(settings.model_dir), topics, days)


def run_digest(settings: Settings, day: str, send: bool = False,
               write: bool = True) -> tuple[Digest, DigestRow | None]:
    """Recompute the summaries of `day` and the day before, then write its digest (with
    `write`; else only build it). The database must exist: this never creates one."""
    Store.open(settings.db_path, readonly=True).close()  # NoDatabase, before any lock file
    with run_lock(settings.db_path), Store.open(settings.db_path, create=False) as store:
        topics = topic_names(load_topics(settings.topics_path))
        summarize(store, model_id_of(settings.model_dir), topics, [day, previous_day(day)])
        digest = build_digest(store, day)
        return digest, (write_digest(store, settings, digest, send=send) if write else None)


def run_daily(
    settings: Settings,
    day: str | None = None,
    sample: bool = False,
    archives: Sequence[Path] = (),
    sources: Sequence[str] | None = None,
    send: bool = True,
    echo: Echo = quiet,
    get_scorer: Callable[[], Scorer] | None = None,
) -> DailyReport:
    """Collect, store, score, summarize and digest for `day` (YYYY-MM-DD, UTC)."""
    started = time.monotonic()
    archives = [Path(a) for a in archives] + ([SAMPLE_ARCHIVE] if sample else [])
    topics = load_topics(settings.topics_path)  # a config mistake stops the run first
    day = day or default_day(sample, archives)
    end_of_day = datetime.combine(date.fromisoformat(day), dtime.max, tzinfo=UTC)
    meta = model_meta(settings.model_dir)  # read once: the id and the scorer agree
    model_id = str(meta["model_id"])
    with (
        run_lock(settings.db_path),
        Store.open(settings.db_path) as store,
        recorded_run(store, "daily", day, echo, model_id) as run_id,
    ):
        start_errors: list[str]
        if archives:
            collectors, start_errors = archive_collectors(archives, until=end_of_day), []
        else:
            collectors, start_errors = live_collectors(topics, sources)
        now = min(datetime.now(UTC), end_of_day) if archives else datetime.now(UTC)
        collected = collect(store, collectors, topics, now, echo)
        collected.errors[:0] = start_errors
        collected.sources += len(start_errors)
        collected.failed_sources += len(start_errors)
        scored, reused = score(
            store, model_id, get_scorer or (lambda: load_scorer(settings, meta)), echo
        )
        days = collected.days | {day, previous_day(day)}
        echo(f"summarizing {len(days)} days")
        summaries = summarize(store, model_id, topic_names(topics), days)
        # a replayed archive is all there is; live sources that all failed mean a gap
        missing = not archives and collected.all_sources_failed
        retried = retry_unsent(store, settings, day) if send else []
        echo(f"writing the digest of {day}")
        digest = write_digest(
            store, settings, build_digest(store, day, collected.errors, missing), send=send
        )
        report = DailyReport(
            day=day,
            model_id=model_id,
            collect=collected,
            scored=scored,
            reused=reused,
            summaries=[s for s in summaries if s["day"] == day],
            digest=digest,
            seconds=time.monotonic() - started,
            run_id=run_id,
        )
        send_error = digest.get("send_error")
        errors = collected.errors + ([send_error] if send_error else [])
        errors += [f"digest {r['day']} still not sent: {r['send_error']}"
                   for r in retried if r["send_error"]]
        store.finish_run(run_id, report.status, errors, scored=scored, model_id=model_id,
                         **collect_columns(collected, missing))
        collected.run_id = run_id
    return report
