"""Read-only ways out of the database: `stablewatch query` and `stablewatch export`."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jobs.formats import write_csv, write_json, write_parquet
from jobs.readonly import execute, readonly, require_schema

FORMATS = ("csv", "json", "parquet")
EXPORT_SCHEMA = 4


@dataclass(frozen=True)
class Exportable:
    """A table or view `export` can write, how --from/--to select its rows, and its order."""

    where: str
    order_by: str


EXPORTS: dict[str, Exportable] = {
    "scored_posts": Exportable("day BETWEEN :first AND :last", "created_at, source, post_id"),
    "thread_stance": Exportable(
        "last_day >= :first AND first_day <= :last", "first_day, source, thread_id"
    ),
    "daily_series": Exportable("day BETWEEN :first AND :last", "day, topic"),
    "daily_summary": Exportable("day BETWEEN :first AND :last", "day, topic"),
    "spikes": Exportable("day BETWEEN :first AND :last", "day, topic"),
}


@contextmanager
def query_rows(
    db_path: Path | str, sql: str, params: Any = ()
) -> Iterator[tuple[list[str], Iterator[tuple[Any, ...]]]]:
    """Run one SQL statement read-only; yields (column names, row iterator)."""
    with readonly(db_path) as conn:
        cursor = execute(conn, sql, params)
        columns = [d[0] for d in cursor.description or []]
        yield columns, (tuple(row) for row in cursor)


def format_of(out: Path, fmt: str | None) -> str:
    """The asked format, else the one the file name ends with."""
    fmt = fmt or out.suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        raise ValueError(f"cannot tell the format of {out}: give --format csv, json or parquet")
    return fmt


def export(
    db_path: Path | str,
    out: Path,
    fmt: str,
    table: str = "scored_posts",
    first: str | None = None,
    last: str | None = None,
) -> int:
    """Write ``table``'s rows from ``first`` to ``last`` (days, inclusive) to ``out``.

    The file appears only when complete (written beside it, then renamed), so a failure
    leaves any earlier file in place. Returns the number of rows written.
    """
    spec = EXPORTS[table]
    sql = f"SELECT * FROM {table} WHERE {spec.where} ORDER BY {spec.order_by}"
    params = {"first": first or "0000-00-00", "last": last or "9999-99-99"}
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    try:
        with readonly(db_path) as conn:
            require_schema(conn, EXPORT_SCHEMA, db_path, "export")
            cursor = execute(conn, sql, params)
            columns = [d[0] for d in cursor.description]
            rows = (tuple(r) for r in cursor)
            if fmt == "parquet":
                count = write_parquet(columns, rows, tmp)
            else:
                with tmp.open("w", encoding="utf-8", newline="") as fp:
                    count = (write_csv if fmt == "csv" else write_json)(columns, rows, fp)
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    return count
