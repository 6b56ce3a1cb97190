"""Read-only access for analysts' commands (query, search, export).

The file is opened as `Store.open(path, readonly=True)` opens it
(`jobs.store.read_only_connection`: ``mode=ro`` and ``PRAGMA query_only``, immutable in a
folder nobody may write to), and an authorizer refuses ATTACH (so no other file is
created or written, VACUUM INTO included) and turning query_only off. A missing file is
an error, never a new empty database.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

from jobs.store import StoreError, read_only_connection


class ReadOnlyError(StoreError):
    """A statement tried to change the database (or attach another one)."""


def _authorize(action: int, arg1: str | None, arg2: str | None, *_: Any) -> int:
    if action in (sqlite3.SQLITE_ATTACH, sqlite3.SQLITE_DETACH):
        return sqlite3.SQLITE_DENY
    if action == sqlite3.SQLITE_PRAGMA and (arg1 or "").lower() == "query_only" and arg2:
        return sqlite3.SQLITE_DENY
    return sqlite3.SQLITE_OK


def connect_readonly(path: Path | str) -> sqlite3.Connection:
    """A read-only connection to an existing stablewatch database (rows as sqlite3.Row)."""
    path = Path(path)
    if not path.is_file():
        raise StoreError(
            f"no database at {path}; create it with `stablewatch --db {path} daily` "
            "(or `init`), or point --db / STABLEWATCH_DB at an existing file"
        )
    try:
        conn = read_only_connection(path)
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"{path} is not a usable SQLite database: {exc}") from exc
    conn.set_authorizer(_authorize)
    conn.row_factory = sqlite3.Row
    return conn


@contextmanager
def readonly(path: Path | str) -> Iterator[sqlite3.Connection]:
    """connect_readonly as a context manager that closes the connection."""
    with closing(connect_readonly(path)) as conn:
        yield conn


def schema_version(conn: sqlite3.Connection) -> int:
    """The database's schema version (0 for a file stablewatch never set up)."""
    found = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'"
    ).fetchone()
    if not found:
        return 0
    return int(conn.execute("SELECT MAX(version) FROM schema_version").fetchone()[0] or 0)


def require_schema(conn: sqlite3.Connection, version: int, path: Path | str, what: str) -> None:
    """Fail with what to do when the database predates ``what`` (read-only: no migrating)."""
    have = schema_version(conn)
    if have < version:
        raise StoreError(
            f"{path} has schema version {have}; {what} needs version {version}. Run any "
            f"writing command once (e.g. `stablewatch --db {path} init`) to upgrade it"
        )


def execute(conn: sqlite3.Connection, sql: str, params: Any = ()) -> sqlite3.Cursor:
    """Run one statement; a write, an ATTACH or several statements give a clear error."""
    try:
        return conn.execute(sql, params)
    except sqlite3.DatabaseError as exc:
        message = str(exc)
        if "readonly" in message or "not authorized" in message or "denied" in message:
            raise ReadOnlyError(
                f"refused: the database is opened read-only ({message}); "
                "stablewatch query only reads"
            ) from exc
        raise StoreError(f"SQL error: {message}") from exc
    except sqlite3.ProgrammingError as exc:
        raise StoreError(f"SQL error: {exc}") from exc
