"""Write query results as an aligned text table, CSV, JSON or Parquet."""

from __future__ import annotations

import csv
import json
import unicodedata
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, TextIO

from stablewatch.errors import StablewatchError

Row = Sequence[Any]
MAX_CELL = 60


class FormatError(StablewatchError):
    """The output cannot be written in the asked format (e.g. pyarrow missing)."""


def text_table(columns: Sequence[str], rows: Iterable[Row]) -> str:
    """Columns padded to their widest cell, as a terminal shows them (a Chinese character
    takes two columns); cells on one line, cut to 60 columns."""
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [max([width(c)] + [width(r[i]) for r in cells]) for i, c in enumerate(columns)]

    def line(values: Sequence[str]) -> str:
        return "  ".join(
            v + " " * (w - width(v)) for v, w in zip(values, widths, strict=True)
        ).rstrip()

    return "\n".join([line(columns), "  ".join("-" * w for w in widths), *map(line, cells)])


def width(text: str) -> int:
    """Terminal columns: 2 for wide (CJK) characters, 1 for the rest."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _cell(value: Any) -> str:
    text = "" if value is None else str(value).replace("\r", " ").replace("\n", " ")
    if width(text[: MAX_CELL + 1]) <= MAX_CELL and len(text) <= MAX_CELL:
        return text
    kept, used = [], 0
    for ch in text:
        used += width(ch)
        if used > MAX_CELL - 1:
            break
        kept.append(ch)
    return "".join(kept) + "…"


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
        out.write(
            json.dumps(
                dict(zip(columns, row, strict=True)), ensure_ascii=False, default=_json_value
            )
        )
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
