"""The daily job: collect, store, score, summarize, digest. Each stage is a function."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import Any

from classifier.scorer import Scorer
from collectors.archive import read_archive
from collectors.cursors import parse_cursor
from collectors.post import Rejection
from collectors.records import horizon, screen
from jobs.config import SAMPLE_ARCHIVE, Settings, Topics
from jobs.digest import Digest, build_digest, previous_day, retry_unsent, write_digest
from jobs.lock import run_lock
from jobs.model import load_scorer, model_id_of
from jobs.sources import Collector, archive_collectors, live_collectors
from jobs.store import Store, UpsertCounts
from jobs.summaries import days_between, summarize
from jobs.topics import TopicAssigner

Echo = Callable[[str], None]
SCORE_CHUNK = 256


def _quiet(_: str) -> None:
    pass


@dataclass
class CollectReport:
    counts: UpsertCounts = field(default_factory=UpsertCounts)
    days: set[str] = field(default_factory=set)
    errors: list[str] = field(default_factory=list)
    sources: int = 0  # sources tried (collectors, and sources that could not start)
    failed_sources: int = 0  # of those: raised, or every harvest erred and fetched nothing
    rejected: list[Rejection] = field(default_factory=list)  # records not stored, and why
    run_id: int | None = None

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
    summaries: list[dict[str, Any]]
    digest: dict[str, Any]
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
    echo: Echo = _quiet,
) -> CollectReport:
    """Run each collector, storing its posts before saving its cursor.

    Every post is screened first (`collectors.records.screen`): one that cannot be stored
    (a time in the future or before its source existed, an integer out of range) is
    rejected alone and named in `report.rejected`, next to what collectors rejected. A
    cursor more than a day in the future is not saved.
    """
    report = CollectReport()
    clock = datetime.now(UTC)
    assigner = TopicAssigner(topics.topics)
    since = now - timedelta(days=topics.lookback_days)
    revisit_since = (now - timedelta(days=topics.revisit_days)).isoformat()
    for collector in collectors:
        cursors = store.get_cursors(collector.source)
        revisit = store.recent_thread_ids(collector.source, revisit_since)
        report.sources += 1
        delivered = False
        try:
            for harvest in collector.harvest(cursors, since, revisit):
                name = f"{collector.source} {harvest.key}"
                posts, screened = screen(
                    harvest.posts, lambda p, key=harvest.key: f"{key} id {p.id}", clock
                )
                rejected = [*harvest.rejected, *screened]
                delivered = delivered or bool(posts) or not harvest.error
                topic_of = assigner.assign(posts, store.thread_topics)
                counts = store.upsert_posts(posts, topic_of)
                report.counts.add(counts)
                report.days.update(p.created_utc.astimezone(UTC).date().isoformat() for p in posts)
                # Collectors only return cursors that cover what they delivered, even after
                # an error part-way, so saving it never skips posts and lets a key progress.
                cursor = parse_cursor(harvest.cursor)
                if cursor is not None and cursor > horizon(clock):
                    report.errors.append(f"{name}: cursor {harvest.cursor} is in the future; "
                                         "not saved")
                else:
                    store.set_cursor(collector.source, harvest.key, harvest.cursor)
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
                    + (f" (error: {harvest.error})" if harvest.error else "")
                )
        except Exception as exc:  # one broken source must not stop the others
            report.errors.append(f"{collector.source}: {type(exc).__name__}: {exc}")
            echo(f"collector {collector.source} failed: {exc}")
        report.failed_sources += not delivered
    return report


def score(
    store: Store,
    model_id: str,
    get_scorer: Callable[[], Scorer],
    echo: Echo = _quiet,
) -> tuple[int, int]:
    """Score posts that lack a score for `model_id` on their current text.

    Identical texts already scored under the same model are copied, not rescored. The
    model is loaded only when something needs scoring. Returns (scored, reused).
    """
    pending = store.unscored(model_id)
    if not pending:
        return 0, 0
    cached = store.cached_scores((p["content_hash"] for p in pending), model_id)
    reused = [
        dict(cached[p["content_hash"]], source=p["source"], post_id=p["post_id"])
        for p in pending
        if p["content_hash"] in cached
    ]
    if reused:
        store.save_score_rows(reused)
    todo = [p for p in pending if p["content_hash"] not in cached]
    if not todo:
        return 0, len(reused)
    echo(f"loading classifier for {len(todo)} texts")
    scorer = get_scorer()
    if scorer.model_id != model_id:
        raise RuntimeError(
            f"loaded model {scorer.model_id} but meta.json names {model_id}; retrain the heads"
        )
    done = 0
    for i in range(0, len(todo), SCORE_CHUNK):
        chunk = todo[i : i + SCORE_CHUNK]
        texts = [post_text(p) for p in chunk]
        store.save_scores(list(zip(chunk, scorer.score(texts), strict=True)))
        done += len(chunk)
        echo(f"scored {done}/{len(todo)}")
    return done, len(reused)


def post_text(row: dict[str, Any]) -> str:
    """The text the classifier sees, as `Post.text` builds it."""
    title, body = row.get("title"), row.get("body") or ""
    return f"{title}\n\n{body}" if title and body else (title or body)


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


def rejection_columns(report: CollectReport) -> dict[str, Any]:
    """The `runs` columns that count and name every rejected record."""
    records = [r.to_dict() for r in report.rejected]
    return {
        "rejected": len(records),
        "rejected_records": json.dumps(records, ensure_ascii=False) if records else None,
    }


class SourceError(Exception):
    """A requested live source cannot start (e.g. missing Reddit credentials)."""


def run_collect(
    settings: Settings,
    sources: Sequence[str] | None = None,
    archives: Sequence[Path] = (),
    echo: Echo = _quiet,
) -> CollectReport:
    """Collect only. Raises SourceError, before writing anything, if a source cannot start."""
    topics = settings.topics()
    if archives:
        collectors = archive_collectors([Path(a) for a in archives], until=None)
    else:
        collectors, errors = live_collectors(topics, sources)
        if errors:
            raise SourceError("; ".join(errors))
    with run_lock(settings.db_path), Store.open(settings.db_path) as store:
        run_id = store.start_run("collect", None)
        try:
            report = collect(store, collectors, topics, datetime.now(UTC), echo)
        except BaseException as exc:
            store.finish_run(run_id, "failed", [f"{type(exc).__name__}: {exc}"])
            raise
        store.finish_run(
            run_id,
            "partial" if report.errors else "ok",
            report.errors,
            collected=report.counts.total,
            new_posts=report.counts.new,
            updated_posts=report.counts.updated,
            **rejection_columns(report),
        )
    report.run_id = run_id
    return report


def run_score(settings: Settings, echo: Echo = _quiet) -> tuple[str, int, int]:
    """Score only. Returns (model id, scored, reused)."""
    model_id = model_id_of(settings.model_dir)
    with run_lock(settings.db_path), Store.open(settings.db_path) as store:
        scored, reused = score(store, model_id, lambda: load_scorer(settings), echo)
    return model_id, scored, reused


def topic_names(topics: Topics) -> list[str]:
    """The configured topic names (every summarised day gets a row for each)."""
    return [t.name for t in topics.topics]


def run_summarize(settings: Settings, first: str | None = None,
                  last: str | None = None) -> list[dict[str, Any]]:
    """Recompute the summaries of every day from ``first`` to ``last`` (default: all days
    with posts), plus any stale day, then the zero-filled series and its baselines."""
    with run_lock(settings.db_path), Store.open(settings.db_path) as store:
        span = store.post_day_range()
        if span is None:
            return []
        days = days_between(first or span[0], last or span[1])
        topics = topic_names(settings.topics())
        return summarize(store, model_id_of(settings.model_dir), topics, days)


def run_digest(settings: Settings, day: str, send: bool = False) -> tuple[Digest, dict[str, Any]]:
    """Recompute the summaries of `day` and the day before, then write its digest."""
    with Store.open(settings.db_path) as store:
        summarize(store, model_id_of(settings.model_dir), topic_names(settings.topics()),
                  [day, previous_day(day)])
        digest = build_digest(store, day)
        return digest, write_digest(store, settings, digest, send=send)


def run_daily(
    settings: Settings,
    day: str | None = None,
    sample: bool = False,
    archives: Sequence[Path] = (),
    sources: Sequence[str] | None = None,
    send: bool = True,
    echo: Echo = _quiet,
    get_scorer: Callable[[], Scorer] | None = None,
) -> DailyReport:
    """Collect, store, score, summarize and digest for `day` (YYYY-MM-DD, UTC)."""
    started = time.monotonic()
    archives = [Path(a) for a in archives] + ([SAMPLE_ARCHIVE] if sample else [])
    topics = settings.topics()  # a config mistake stops the run before anything else
    day = day or default_day(sample, archives)
    end_of_day = datetime.combine(date.fromisoformat(day), dtime.max, tzinfo=UTC)
    model_id = model_id_of(settings.model_dir)
    with run_lock(settings.db_path), Store.open(settings.db_path) as store:
        run_id = store.start_run("daily", day)
        try:
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
                store, model_id, get_scorer or (lambda: load_scorer(settings)), echo
            )
            days = collected.days | {day, previous_day(day)}
            summaries = summarize(store, model_id, topic_names(topics), days)
            # a replayed archive is all there is; live sources that all failed mean a gap
            missing = not archives and collected.all_sources_failed
            retried = retry_unsent(store, settings, day) if send else []
            digest = write_digest(
                store, settings, build_digest(store, day, collected.errors, missing), send=send
            )
        except BaseException as exc:
            store.finish_run(run_id, "failed", [f"{type(exc).__name__}: {exc}"], model_id=model_id)
            raise
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
        errors = collected.errors + ([digest["send_error"]] if digest.get("send_error") else [])
        errors += [f"digest {r['day']} still not sent: {r['send_error']}"
                   for r in retried if r["send_error"]]
        store.finish_run(
            run_id,
            report.status,
            errors,
            collected=collected.counts.total,
            new_posts=collected.counts.new,
            updated_posts=collected.counts.updated,
            scored=scored,
            model_id=model_id,
            missing_data=int(missing),
            **rejection_columns(collected),
        )
        collected.run_id = run_id
    return report
