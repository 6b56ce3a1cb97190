"""Write query results as an aligned text table, CSV, JSON or Parquet."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, TextIO

Row = Sequence[Any]
MAX_CELL = 60


class FormatError(Exception):
    """The output cannot be written in the asked format (e.g. pyarrow missing)."""


def text_table(columns: Sequence[str], rows: Iterable[Row]) -> str:
    """Columns padded to their widest cell (cells on one line, cut to 60 characters)."""
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip(),
             "  ".join("-" * w for w in widths)]
    lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip()
              for r in cells]
    return "\n".join(lines)


def _cell(value: Any) -> str:
    text = "" if value is None else str(value).replace("\r", " ").replace("\n", " ")
    return text if len(text) <= MAX_CELL else text[: MAX_CELL - 1] + "…"


def write_csv(columns: Sequence[str], rows: Iterable[Row], out: TextIO) -> int:
    """CSV with a header row; returns the number of data rows."""
    writer = csv.writer(out)
    writer.writerow(columns)
    count = 0
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])
        count += 1
    return count


def write_json(columns: Sequence[str], rows: Iterable[Row], out: TextIO) -> int:
    """A JSON array of objects, one per row, written as it goes; returns the row count."""
    count = 0
    out.write("[")
    for row in rows:
        out.write(",\n " if count else "\n ")
        out.write(json.dumps(dict(zip(columns, row, strict=True)), ensure_ascii=False,
                             default=_json_value))
        count += 1
    out.write("\n]\n" if count else "]\n")
    return count


def _json_value(value: Any) -> str:
    return value.hex() if isinstance(value, bytes) else str(value)


def write_parquet(columns: Sequence[str], rows: Iterable[Row], path: Path) -> int:
    """A Parquet file (needs pyarrow: pip install 'stablewatch[parquet]')."""
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError as exc:
        raise FormatError(
            "Parquet needs pyarrow, which is not installed: "
            "pip install 'stablewatch[parquet]' (or choose --format csv or json)"
        ) from exc
    data = [list(r) for r in rows]
    arrays = []
    for i, _ in enumerate(columns):
        values = [r[i] for r in data]
        try:
            array = pa.array(values)
        except (pa.ArrowInvalid, pa.ArrowTypeError):  # SQLite lets a column mix types
            array = pa.array([None if v is None else str(v) for v in values], pa.string())
        arrays.append(array.cast(pa.string()) if pa.types.is_null(array.type) else array)
    pq.write_table(pa.Table.from_arrays(arrays, names=list(columns)), str(path))
    return len(data)
