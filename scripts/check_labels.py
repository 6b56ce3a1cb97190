"""Report near-duplicate training texts whose labels disagree.

    python scripts/check_labels.py [FILES ...] [--threshold 0.8]

Without FILES, checks data/train/*.jsonl. Prints one line per conflict and a summary;
exits with status 1 when conflicts are found, 0 otherwise.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

from classifier.label_check import Conflict, LabelledRow, find_conflicts, load_rows

ROOT = Path(__file__).resolve().parent.parent


def _default_files() -> list[Path]:
    files = sorted((ROOT / "data" / "train").glob("*.jsonl"))
    cwd = Path.cwd()
    return [f.relative_to(cwd) if f.is_relative_to(cwd) else f for f in files]


def _short(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def _labels(row: LabelledRow, fields: tuple[str, ...]) -> str:
    return "/".join(str(row.label(f)) for f in fields)


def format_conflict(conflict: Conflict, width: int = 60) -> str:
    """One line: locations, similarity, differing labels (a → b) and shortened texts."""
    a, b, fields = conflict.a, conflict.b, conflict.fields
    return (
        f"{a.location} ~ {b.location}  sim={conflict.similarity:.2f}  "
        f"{'+'.join(fields)}: {_labels(a, fields)} vs {_labels(b, fields)}  "
        f"| {_short(a.text, width)} | {_short(b.text, width)}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Find near-duplicate training texts whose labels disagree."
    )
    parser.add_argument(
        "files", nargs="*", type=Path, help="JSONL files to check (default: data/train/*.jsonl)"
    )
    parser.add_argument(
        "--threshold",
        type=float,
        default=0.8,
        help="Jaccard similarity of character 3-gram shingles to count as a near-duplicate",
    )
    parser.add_argument(
        "--width", type=int, default=60, help="characters of each text to show per conflict"
    )
    args = parser.parse_args(argv)
    if not 0.0 < args.threshold <= 1.0:
        parser.error("--threshold must be in (0, 1]")
    files = args.files or _default_files()
    missing = [str(f) for f in files if not f.is_file()]
    if missing:
        parser.error(f"no such file: {', '.join(missing)}")

    rows = load_rows(files)
    conflicts = find_conflicts(rows, threshold=args.threshold)
    for conflict in conflicts:
        print(format_conflict(conflict, args.width))
    kinds = Counter(field for c in conflicts for field in c.fields)
    detail = ", ".join(f"{field} {n}" for field, n in sorted(kinds.items()))
    print(
        f"{len(conflicts)} conflict(s) among {len(rows)} rows in {len(files)} file(s) "
        f"at threshold {args.threshold:g}" + (f" ({detail})" if detail else "")
    )
    return 1 if conflicts else 0


if __name__ == "__main__":
    sys.exit(main())
