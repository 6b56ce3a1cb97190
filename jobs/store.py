"""The one SQLite file: posts, scores, cursors, runs, summaries and digests."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, cast, get_args

import sqlite_utils

from classifier.scores import Scores
from collectors.post import Post
from jobs.fts import register_functions, search_text
from jobs.rows import (
    DaySummary,
    DigestRow,
    PendingPost,
    PostRow,
    RunRow,
    ScoredPost,
    ScoreKey,
    ScoreRow,
    SeriesPoint,
    SeriesRow,
    SummaryRow,
)
from jobs.schema import MIGRATIONS, SCHEMA_VERSION
from stablewatch.errors import StablewatchError

BUSY_TIMEOUT_SECONDS = 30.0


class StoreError(StablewatchError):
    """The database cannot be used; the message says why and what to do."""


class NoDatabase(StoreError):
    """A command that only reads was pointed at a database that does not exist."""


def utcnow() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", errors="replace")).hexdigest()[:32]


@dataclass
class UpsertCounts:
    new: int = 0
    updated: int = 0
    unchanged: int = 0

    @property
    def total(self) -> int:
        return self.new + self.updated + self.unchanged

    def add(self, other: UpsertCounts) -> None:
        self.new += other.new
        self.updated += other.updated
        self.unchanged += other.unchanged


class Store:
    """A stablewatch database. `Store.open(path)` creates and migrates it (writers hold the
    run lock, `jobs.lock`); `Store.open(path, readonly=True)` only reads an existing one."""

    def __init__(self, db: sqlite_utils.Database, path: Path) -> None:
        self.db = db
        self.path = path

    @classmethod
    def open(cls, path: Path | str, *, create: bool = True, readonly: bool = False) -> Store:
        """Open (with `create`, create) and migrate the database at `path`.

        `readonly` opens an existing file for reading only: no migration, no journal
        change, writes refused. Raises `NoDatabase` when the file is absent and may not be
        created, `StoreError` (one line) for every other database or storage fault.
        """
        path = Path(path)
        if (readonly or not create) and not path.exists():
            raise NoDatabase(
                f"no database at {path}; run `stablewatch init` or `stablewatch daily` first"
            )
        try:
            if readonly:
                return cls(sqlite_utils.Database(read_only_connection(path)), path)
            path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_SECONDS)
            register_functions(conn)
            db = sqlite_utils.Database(conn)
            db.execute("PRAGMA foreign_keys = ON")
            store = cls(db, path)
            if db.journal_mode != "wal":
                db.enable_wal()
            store.migrate()
        except OSError as exc:
            raise StoreError(f"cannot create the folder of database {path}: "
                             f"{exc.strerror or exc}") from exc
        except sqlite3.Error as exc:
            raise StoreError(describe_storage_error(exc, path)) from exc
        return store

    def close(self) -> None:
        self.db.conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- schema ---------------------------------------------------------------
    def schema_version(self) -> int:
        if not self.db["schema_version"].exists():
            return 0
        row = self.db.execute("SELECT MAX(version) FROM schema_version").fetchone()
        return int(row[0] or 0)

    def migrate(self) -> None:
        """Apply the missing schema steps, each with its schema_version row in one
        transaction: a step is applied wholly or not at all, and a process that loses a
        race to another one applying the same step finds it done and skips it."""
        if self.schema_version() == SCHEMA_VERSION:
            return  # the common case: nothing to do, no write lock taken
        conn = self.db.conn
        with self.db.atomic():
            self.db.execute(
                "CREATE TABLE IF NOT EXISTS schema_version "
                "(version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)"
            )
        for version in sorted(MIGRATIONS):
            conn.execute("BEGIN IMMEDIATE")  # the write lock first, then read the version
            try:
                current = self.schema_version()
                if current > SCHEMA_VERSION:
                    raise StoreError(
                        f"{self.path} has schema version {current}, newer than this "
                        f"stablewatch ({SCHEMA_VERSION}); upgrade stablewatch"
                    )
                if version > current:
                    for statement in _statements(MIGRATIONS[version]):
                        conn.execute(statement)
                    conn.execute(
                        "INSERT INTO schema_version (version, applied_at) VALUES (?, ?)",
                        [version, utcnow()],
                    )
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise

    def counts(self) -> dict[str, int]:
        names = ["posts", "scores", "cursors", "runs", "daily_summary", "digests"]
        return {name: self.db[name].count for name in names}

    # -- posts ----------------------------------------------------------------
    def upsert_posts(
        self, posts: Iterable[Post], topics: dict[tuple[str, str], str | None]
    ) -> UpsertCounts:
        """Insert new posts, update changed ones in place; never duplicates.

        A post that comes back deleted keeps its earlier text and is flagged `is_deleted`.
        """
        counts = UpsertCounts()
        now = utcnow()
        rows = []
        # One row per key: a post repeated in the batch counts once (the last copy wins).
        posts = list({(p.source, p.id): p for p in posts}.values())
        existing = self.posts_by_key([(p.source, p.id) for p in posts])
        for post in posts:
            key = (post.source, post.id)
            old = existing.get(key)
            row = _post_row(post, topics.get(key), now)
            if old is not None:
                if post.deleted and not old["is_deleted"]:
                    row.update(
                        title=old["title"], body=old["body"], content_hash=old["content_hash"]
                    )
                row["collected_at"] = old["collected_at"]
                if row["topic"] is None:
                    row["topic"] = old["topic"]
                if all(row[k] == old[k] for k in _COMPARED):
                    counts.unchanged += 1
                    continue
                counts.updated += 1
            else:
                counts.new += 1
            row["search_text"] = search_text(row["title"], row["body"])
            rows.append(row)
        if rows:
            with self.db.atomic():
                self.db.table("posts").upsert_all(rows, pk=("source", "post_id"))
        return counts

    def save_harvest(
        self,
        collector: str,
        key: str,
        posts: Sequence[Post],
        topics: dict[tuple[str, str], str | None],
        cursor: str | None,
    ) -> UpsertCounts:
        """Upsert a harvest's posts and save its cursor in one transaction: both or
        neither are stored, whatever stops the process (a full disk, a kill)."""
        with self.db.atomic():
            counts = self.upsert_posts(posts, topics)
            self.set_cursor(collector, key, cursor)
        return counts

    def posts_by_key(
        self, keys: Sequence[tuple[str, str]]
    ) -> dict[tuple[str, str], PostRow]:
        """Stored posts by (source, post_id), looked up in chunks; missing keys are absent."""
        found: dict[tuple[str, str], PostRow] = {}
        for chunk in _chunks(list(keys), 400):
            where = " OR ".join("(source = ? AND post_id = ?)" for _ in chunk)
            params = [v for key in chunk for v in key]
            for row in self.db.query(f"SELECT * FROM posts WHERE {where}", params):
                found[(row["source"], row["post_id"])] = cast(PostRow, row)
        return found

    def thread_topics(self, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], str | None]:
        """Stored topic of each (source, thread_id) root post, where known."""
        return {k: v["topic"] for k, v in self.posts_by_key(list(keys)).items()}

    def recent_thread_ids(self, source: str, since: str) -> list[str]:
        rows = self.db.query(
            "SELECT post_id FROM posts WHERE source = ? AND kind = 'post' AND created_at >= ? "
            "ORDER BY created_at DESC",
            [source, since],
        )
        return [r["post_id"] for r in rows]

    # -- cursors --------------------------------------------------------------
    def get_cursors(self, collector: str) -> dict[str, str]:
        rows = self.db.query("SELECT key, value FROM cursors WHERE collector = ?", [collector])
        return {r["key"]: r["value"] for r in rows if r["value"] is not None}

    def set_cursor(self, collector: str, key: str, value: str | None) -> None:
        if value is None:
            return
        with self.db.atomic():
            self.db.table("cursors").upsert(
                {"collector": collector, "key": key, "value": value, "updated_at": utcnow()},
                pk=("collector", "key"),
            )

    # -- scores ---------------------------------------------------------------
    def unscored(self, model_id: str, limit: int | None = None) -> list[PendingPost]:
        """Posts with no score for `model_id` on their current text."""
        sql = (
            "SELECT p.source, p.post_id, p.title, p.body, p.content_hash FROM posts p "
            "LEFT JOIN scores s ON s.source = p.source AND s.post_id = p.post_id "
            "AND s.model_id = ? "
            "WHERE s.post_id IS NULL OR s.content_hash != p.content_hash "
            "ORDER BY p.created_at"
        )
        if limit:
            sql += f" LIMIT {int(limit)}"
        return cast(list[PendingPost], list(self.db.query(sql, [model_id])))

    def count_unscored(self, model_id: str) -> int:
        """How many posts `unscored` would return."""
        row = self.db.execute(
            "SELECT COUNT(*) FROM posts p LEFT JOIN scores s ON s.source = p.source "
            "AND s.post_id = p.post_id AND s.model_id = ? "
            "WHERE s.post_id IS NULL OR s.content_hash != p.content_hash",
            [model_id],
        ).fetchone()
        return int(row[0])

    def unscored_pages(self, model_id: str, size: int) -> Iterator[list[PendingPost]]:
        """`unscored` in pages of at most ``size`` rows, in storage order (keyset paging on
        rowid, so a backfill of any size is read a page at a time and scores written
        between pages do not shift the pages still to come)."""
        sql = (
            "SELECT p.rowid AS _rowid, p.source, p.post_id, p.title, p.body, p.content_hash "
            "FROM posts p LEFT JOIN scores s ON s.source = p.source "
            "AND s.post_id = p.post_id AND s.model_id = ? "
            "WHERE p.rowid > ? AND (s.post_id IS NULL OR s.content_hash != p.content_hash) "
            "ORDER BY p.rowid LIMIT ?"
        )
        last = 0
        while True:
            page = list(self.db.query(sql, [model_id, last, size]))
            if not page:
                return
            last = page[-1].pop("_rowid")
            for row in page:
                row.pop("_rowid", None)
            yield cast(list[PendingPost], page)

    def cached_scores(self, hashes: Iterable[str], model_id: str) -> dict[str, ScoreRow]:
        """Earlier scores for identical texts under the same model, by content hash."""
        found: dict[str, ScoreRow] = {}
        for chunk in _chunks(sorted(set(hashes)), 500):
            marks = ",".join("?" for _ in chunk)
            rows = self.db.query(
                f"SELECT * FROM scores WHERE model_id = ? AND content_hash IN ({marks})",
                [model_id, *chunk],
            )
            for row in rows:
                found.setdefault(row["content_hash"], cast(ScoreRow, row))
        return found

    def save_scores(self, items: Sequence[tuple[ScoreKey, Scores]]) -> None:
        """Store fresh classifier output for (post row, Scores) pairs."""
        now = utcnow()
        self.save_score_rows([_score_row(post, scores, now) for post, scores in items])

    def save_score_rows(self, rows: Sequence[ScoreRow]) -> None:
        with self.db.atomic():
            self.db.table("scores").upsert_all(_records(rows), pk=("source", "post_id", "model_id"))

    # -- runs -----------------------------------------------------------------
    def start_run(self, command: str, day: str | None) -> int:
        with self.db.atomic():
            table = self.db.table("runs").insert({"command": command, "day": day,
                                                  "started_at": utcnow(), "pid": os.getpid()})
        assert table.last_pk is not None  # set by the insert
        return int(table.last_pk)

    def mark_crashed_runs(self, by_run: int | None = None) -> list[int]:
        """Mark runs still 'running' as 'crashed' and return their ids.

        Only call this holding the run lock (`jobs.lock.run_lock`): every writer holds it
        while its run is 'running', so any such row left now belongs to a process that is
        gone (killed, or the machine stopped).
        """
        rows = list(self.db.query(
            "SELECT run_id, pid, errors FROM runs WHERE status = 'running'"
            + (" AND run_id != ?" if by_run is not None else ""),
            [by_run] if by_run is not None else []))
        found = f"found by run #{by_run}" if by_run is not None else "found later"
        with self.db.atomic():
            for row in rows:
                errors = json.loads(row["errors"]) if row["errors"] else []
                errors.append(f"process {row['pid'] or '?'} ended without finishing the run "
                              f"(killed or the machine stopped); {found}")
                self.db.execute(
                    "UPDATE runs SET status = 'crashed', errors = ? WHERE run_id = ?",
                    [json.dumps(errors, ensure_ascii=False), row["run_id"]])
        return [r["run_id"] for r in rows]

    def recent_runs(self, limit: int = 5) -> list[RunRow]:
        """The newest runs, newest first, errors decoded."""
        rows = self.db.query("SELECT * FROM runs ORDER BY run_id DESC LIMIT ?", [limit])
        return [cast(RunRow, _decode_json(r, ("errors",))) for r in rows]

    def latest_run(self, command: str, day: str) -> RunRow | None:
        """The newest finished run of ``command`` for ``day``, errors decoded."""
        rows = list(self.db.query(
            "SELECT * FROM runs WHERE command = ? AND day = ? AND finished_at IS NOT NULL "
            "ORDER BY run_id DESC LIMIT 1", [command, day]))
        return cast(RunRow, _decode_json(rows[0], ("errors",))) if rows else None

    def finish_run(
        self, run_id: int, status: str, errors: Sequence[str] = (), **counts: Any
    ) -> None:
        with self.db.atomic():
            self.db.table("runs").update(
                run_id,
                {
                    "finished_at": utcnow(),
                    "status": status,
                    "errors": json.dumps(list(errors), ensure_ascii=False) if errors else None,
                    **counts,
                },
            )

    # -- summaries and digests -----------------------------------------------
    def save_summaries(self, rows: Sequence[SummaryRow]) -> None:
        if rows:
            with self.db.atomic():
                self.db.table("daily_summary").upsert_all(_records(rows), pk=("day", "topic"))

    def summaries(self, day: str) -> list[DaySummary]:
        """Every topic's summary of `day`, by topic, its JSON columns decoded."""
        rows = self.db.query("SELECT * FROM daily_summary WHERE day = ? ORDER BY topic", [day])
        decoded = [_decode_json(r, ("top_threads", "quotes", "spike_threads")) for r in rows]
        return cast(list[DaySummary], decoded)

    def scored_posts(self, day: str, model_id: str) -> list[ScoredPost]:
        """The posts of `day` with their scores under `model_id` for their current text
        (score columns None where there is none yet)."""
        return cast(list[ScoredPost], list(self.db.query(_SCORED_POSTS_SQL, [model_id, day])))

    def summaries_between(self, first: str, last: str) -> list[SeriesPoint]:
        """Summary rows from ``first`` to ``last`` (inclusive), by day and topic."""
        return cast(list[SeriesPoint], list(self.db.query(
            "SELECT day, topic, volume, net_stance, spike FROM daily_summary "
            "WHERE day BETWEEN ? AND ? ORDER BY day, topic", [first, last])))

    def stale_summary_days(self, model_id: str) -> set[str]:
        """Days with posts whose summary is missing, from another model, or older than the
        newest change to the day's posts or to their scores."""
        sql = """
            SELECT p.day FROM posts p
            LEFT JOIN daily_summary d ON d.day = p.day AND d.topic = 'all'
            LEFT JOIN scores s ON s.source = p.source AND s.post_id = p.post_id
                               AND s.model_id = :model
            GROUP BY p.day
            HAVING MAX(d.computed_at) IS NULL OR MAX(d.model_id) != :model
                OR MAX(p.updated_at) > MAX(d.computed_at)
                OR MAX(s.scored_at) > MAX(d.computed_at)"""
        return {r["day"] for r in self.db.query(sql, {"model": model_id})}

    def post_day_range(self) -> tuple[str, str] | None:
        """The first and last day that have posts, or None for an empty database."""
        row = next(self.db.query("SELECT MIN(day) AS first, MAX(day) AS last FROM posts"))
        return (row["first"], row["last"]) if row["first"] else None

    def update_summaries(self, rows: Sequence[dict[str, Any]]) -> None:
        """Set some columns of existing summary rows (keyed by day and topic)."""
        if not rows:
            return
        columns = [c for c in rows[0] if c not in ("day", "topic")]
        sql = (f"UPDATE daily_summary SET {', '.join(f'{c} = :{c}' for c in columns)} "
               "WHERE day = :day AND topic = :topic")
        with self.db.atomic():
            self.db.conn.executemany(sql, rows)

    def summary_keys(self) -> set[tuple[str, str]]:
        return {(r["day"], r["topic"]) for r in self.db.query(
            "SELECT day, topic FROM daily_summary")}

    def summary_series(self) -> list[SeriesRow]:
        """Every summary row's series columns, by topic then day."""
        return cast(list[SeriesRow], list(self.db.query(
            "SELECT day, topic, volume, relevant, net_stance, top_threads FROM daily_summary "
            "ORDER BY topic, day")))

    def digest(self, day: str) -> DigestRow | None:
        rows = list(self.db.query("SELECT * FROM digests WHERE day = ?", [day]))
        return cast(DigestRow, rows[0]) if rows else None

    def unsent_digests(self, since: str, before: str) -> list[DigestRow]:
        """Digests from ``since`` up to (not including) ``before`` never sent, oldest first."""
        return cast(list[DigestRow], list(self.db.query(
            "SELECT * FROM digests WHERE sent_at IS NULL AND day >= ? AND day < ? ORDER BY day",
            [since, before])))

    def save_digest(self, row: DigestRow) -> None:
        with self.db.atomic():
            self.db.table("digests").upsert(cast(dict[str, Any], row), pk="day")


_SCORED_POSTS_SQL = """
SELECT p.source, p.post_id, p.thread_id, p.kind, p.community, p.author, p.title, p.body,
       p.url, p.score, p.topic, p.is_deleted,
       s.relevant, s.relevance, s.stance, s.p_supportive, s.p_neutral, s.p_opposed, s.speculative
FROM posts p
LEFT JOIN scores s ON s.source = p.source AND s.post_id = p.post_id AND s.model_id = ?
                  AND s.content_hash = p.content_hash
WHERE p.day = ?
"""


def _records(rows: Sequence[Mapping[str, Any]]) -> Sequence[dict[str, Any]]:
    """Typed rows as sqlite-utils takes them (they are plain dicts at run time)."""
    return cast(Sequence[dict[str, Any]], rows)


_Compared = Literal[
    "thread_id",
    "parent_id",
    "author",
    "title",
    "body",
    "url",
    "score",
    "num_comments",
    "is_deleted",
    "topic",
    "community",
    "lang",
]
_COMPARED: tuple[_Compared, ...] = get_args(_Compared)


def _post_row(post: Post, topic: str | None, now: str) -> dict[str, Any]:
    created = post.created_utc.astimezone(UTC).replace(microsecond=0)
    return {
        "source": post.source,
        "post_id": post.id,
        "thread_id": post.thread_id,
        "parent_id": post.parent_id,
        "kind": post.kind,
        "community": post.community,
        "author": post.author,
        "created_at": created.isoformat(),
        "day": created.date().isoformat(),
        "title": post.title,
        "body": post.body,
        "url": post.url,
        "score": post.score,
        "num_comments": post.num_comments,
        "lang": post.lang,
        "is_deleted": int(post.deleted),
        "topic": topic,
        "content_hash": content_hash(post.text),
        "collected_at": now,
        "updated_at": now,
    }


def _score_row(post: ScoreKey, s: Scores, now: str) -> ScoreRow:
    return {
        "source": post["source"],
        "post_id": post["post_id"],
        "model_id": s.model_id,
        "content_hash": post["content_hash"],
        "relevance": round(s.relevance, 4),
        "relevant": int(s.relevant),
        "stance": s.stance,
        "p_supportive": round(s.stance_probs[0], 4),
        "p_neutral": round(s.stance_probs[1], 4),
        "p_opposed": round(s.stance_probs[2], 4),
        "speculation": round(s.speculation, 4),
        "speculative": int(s.speculation >= 0.5),
        "scored_at": now,
    }


def _decode_json(row: dict[str, Any], keys: Sequence[str]) -> dict[str, Any]:
    row = dict(row)
    for key in keys:
        row[key] = json.loads(row[key]) if row.get(key) else None
    return row


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def read_only_connection(path: Path) -> sqlite3.Connection:
    """A connection that cannot write (`mode=ro`, `query_only`), for `Store.open(path,
    readonly=True)` and the analysts' commands (`jobs.readonly`). In a folder nobody may
    write to, SQLite cannot create the -shm file a WAL database needs even for reading;
    since no writer can be at work there either, the file is then opened as immutable.
    Raises sqlite3 errors as they come (a file that is not a database, say)."""
    uri = path.resolve().as_uri() + "?mode=ro"
    conn = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_SECONDS)
    try:
        try:
            conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
        except sqlite3.OperationalError:
            if os.access(path.resolve().parent, os.W_OK):
                raise
            conn.close()
            conn = sqlite3.connect(uri + "&immutable=1", uri=True)
            conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
        conn.execute("PRAGMA query_only = ON")
    except sqlite3.Error:
        conn.close()
        raise
    return conn


def _statements(script: str) -> list[str]:
    """The SQL statements of a migration script, one by one."""
    statements, current = [], ""
    for line in script.splitlines(keepends=True):
        current += line
        if sqlite3.complete_statement(current):
            statements.append(current.strip())
            current = ""
    if current.strip():
        statements.append(current.strip())
    return statements


def describe_storage_error(exc: sqlite3.Error, path: Path | str) -> str:
    """One line saying what went wrong with the database file and what to do."""
    message = str(exc)
    lowered = message.lower()
    if "locked" in lowered or "busy" in lowered:
        return (
            f"{path} is locked by another process (another stablewatch run, or an open "
            f"write transaction in sqlite3/Datasette); waited {BUSY_TIMEOUT_SECONDS:.0f}s. "
            "Try again when it finishes."
        )
    if "database or disk is full" in lowered or "disk i/o error" in lowered:
        return (
            f"storage error writing {path}: {message} (disk full, file size limit or a "
            "failing disk); the step that failed was rolled back, nothing half-written "
            "was kept. Free space and rerun."
        )
    if "readonly" in lowered or "read-only" in lowered:
        return (
            f"cannot write {path}: {message}; check that the file and its folder are "
            "writable (SQLite also writes -wal and -shm files beside it)"
        )
    if "unable to open" in lowered:
        return (
            f"cannot open database {path}: {message}; check that its folder exists and is "
            "writable (SQLite also writes -wal and -shm files beside it)"
        )
    if "malformed" in lowered or "not a database" in lowered or "corrupt" in lowered:
        return (
            f"{path} is damaged or not a SQLite database ({message}); move it aside and "
            "restore a backup, or start a new database (collection repeats from the cursors)"
        )
    return f"database error in {path}: {type(exc).__name__}: {message}"
