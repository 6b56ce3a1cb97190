"""Apply reviewed label changes to the training files and log them.

    python scripts/apply_relabels.py CHANGES.jsonl --title "Audit of ..." [--dry-run]

CHANGES.jsonl has one change per line: `file` (relative to data/train/, e.g.
`v3_zh_hans.jsonl` or `candidates/v4_zh.jsonl`), `line` (1-based), `text_start` (the first
characters of the text, checked), `field` (stance / speculation / relevant), `old`, `new`,
`reason`. A line marked `"remove": true` (with `file`, `line`, `text_start`, `reason` and no
`field`) deletes that text instead. Line numbers refer to the files as they are before the
run; removals are made after the field changes. A change whose line does not exist, no longer
starts with `text_start` or whose current value is not `old` is refused (nothing is written
when any change is refused). Applied changes are summarised as a new section of
data/train/RELABEL_LOG.md.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter, defaultdict
from pathlib import Path

TRAIN_DIR = Path(__file__).resolve().parent.parent / "data" / "train"
LOG = TRAIN_DIR / "RELABEL_LOG.md"
FIELDS = {"stance", "speculation", "relevant"}


def load_changes(path: Path) -> list[dict]:
    changes = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            change = json.loads(line)
            if change.get("remove") is True:
                if "field" in change:
                    raise SystemExit(f"{path}:{number}: a removal has no field")
            elif change.get("field") not in FIELDS:
                raise SystemExit(f"{path}:{number}: unknown field {change.get('field')!r}")
            changes.append(change)
    return changes


def apply(changes: list[dict], train_dir: Path = TRAIN_DIR) -> tuple[dict, list[str]]:
    """New file contents by name, and the refusals (empty when all changes apply)."""
    by_file: dict[str, list[dict]] = defaultdict(list)
    for change in changes:
        by_file[change["file"]].append(change)
    contents: dict[str, str] = {}
    refused: list[str] = []
    for name, file_changes in by_file.items():
        lines = (train_dir / name).read_text(encoding="utf-8").splitlines()
        removed: set[int] = set()
        for change in file_changes:
            where = f"{name}:{change['line']}"
            if not 1 <= change["line"] <= len(lines):
                refused.append(f"{where}: no such line ({len(lines)} lines)")
                continue
            row = json.loads(lines[change["line"] - 1])
            if not row["text"].startswith(change["text_start"]):
                refused.append(f"{where}: text does not start with {change['text_start']!r}")
            elif change.get("remove") is True:
                removed.add(change["line"] - 1)
            elif row[change["field"]] != change["old"]:
                refused.append(f"{where}: {change['field']} is {row[change['field']]!r}, "
                               f"not {change['old']!r}")
            else:
                row[change["field"]] = change["new"]
                if change["field"] == "relevant" and change["new"] is False:
                    row["stance"] = "neutral"
                lines[change["line"] - 1] = json.dumps(row, ensure_ascii=False)
        lines = [line for index, line in enumerate(lines) if index not in removed]
        contents[name] = "\n".join(lines) + "\n"
    return contents, refused


def _kind(change: dict) -> str:
    if change.get("remove") is True:
        return "text removed"
    return f"{change['field']} {change['old']} → {change['new']}"


def log_section(title: str, changes: list[dict]) -> str:
    kinds = Counter(_kind(c) for c in changes)
    files = Counter(c["file"] for c in changes)
    removals = sum(c.get("remove") is True for c in changes)
    rows = ["| Change | Count |", "|---|---:|"]
    rows += [f"| {kind} | {k} |" for kind, k in kinds.most_common()]
    rows += ["", "| File | Changes |", "|---|---:|"]
    rows += [f"| {name} | {k} |" for name, k in sorted(files.items())]
    detail = ["", "| File:line | Field | Change | Reason |", "|---|---|---|---|"]
    for c in changes:
        change = "removed" if c.get("remove") is True else f"{c['old']} → {c['new']}"
        detail.append(f"| {c['file']}:{c['line']} | {c.get('field', 'text')} | {change} | "
                      f"{str(c.get('reason', '')).replace('|', '/')} |")
    counted = [f"{len(changes) - removals} field changes"] if len(changes) > removals else []
    counted += [f"{removals} texts removed"] if removals else []
    return f"\n## {title}\n\n{', '.join(counted)}.\n\n" + "\n".join(rows + detail) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("changes", type=Path)
    ap.add_argument("--title", required=True, help="heading of the RELABEL_LOG.md section")
    ap.add_argument("--dry-run", action="store_true")
    args = ap.parse_args()
    changes = load_changes(args.changes)
    contents, refused = apply(changes)
    for line in refused:
        print(f"refused: {line}", file=sys.stderr)
    if refused:
        print(f"{len(refused)} of {len(changes)} changes refused; nothing written",
              file=sys.stderr)
        return 1
    if not args.dry_run:
        for name, text in contents.items():
            (TRAIN_DIR / name).write_text(text, encoding="utf-8")
        with LOG.open("a", encoding="utf-8") as log:
            log.write(log_section(args.title, changes))
    print(f"{len(changes)} changes {'checked' if args.dry_run else 'applied'} "
          f"in {len(contents)} files")
    return 0


if __name__ == "__main__":
    sys.exit(main())
