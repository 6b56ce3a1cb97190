"""Find near-duplicate training texts whose labels disagree.

Texts are compared as sets of character 3-gram shingles after normalisation (NFKC, which
folds full-width forms; case-folding; punctuation and symbols to spaces; runs of whitespace
to one space). Two texts are near-duplicates when the Jaccard similarity of their shingle
sets reaches the threshold. Candidate pairs come from an inverted index over each set's
rarest shingles with prefix and positional filtering (PPJoin), which is exact: every pair
at or above the threshold is found, and only surviving candidates are compared in full.
About 7,000 texts take a few seconds.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

LABEL_FIELDS = ("relevant", "stance", "speculation")
SHINGLE = 3
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class LabelledRow:
    """One labelled text and where it came from (file name and 1-based line number)."""

    source: str
    line: int
    text: str
    relevant: bool
    stance: str
    speculation: str

    @property
    def location(self) -> str:
        return f"{self.source}:{self.line}"

    def label(self, field: str) -> bool | str:
        return getattr(self, field)


@dataclass(frozen=True)
class Conflict:
    """Two near-duplicate rows, their similarity and the label fields on which they differ."""

    a: LabelledRow
    b: LabelledRow
    similarity: float
    fields: tuple[str, ...]


def normalise(text: str) -> str:
    """Fold width and case, turn punctuation and symbols into spaces, squeeze whitespace."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = "".join(" " if unicodedata.category(ch)[0] in "PS" else ch for ch in text)
    return _SPACES.sub(" ", text).strip()


def shingles(text: str, k: int = SHINGLE) -> frozenset[str]:
    """Character k-grams of the normalised text (the whole text when shorter than k)."""
    norm = normalise(text)
    if len(norm) <= k:
        return frozenset([norm]) if norm else frozenset()
    return frozenset(norm[i : i + k] for i in range(len(norm) - k + 1))


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    """Jaccard similarity of two sets (0.0 when both are empty)."""
    if not a and not b:
        return 0.0
    inter = len(a & b)
    return inter / (len(a) + len(b) - inter)


def _as_row(row: LabelledRow | Mapping, index: int) -> LabelledRow:
    if isinstance(row, LabelledRow):
        return row
    return LabelledRow(
        source=str(row.get("source", "<rows>")),
        line=int(row.get("line", index + 1)),
        text=str(row["text"]),
        relevant=bool(row["relevant"]),
        stance=str(row["stance"]),
        speculation=str(row["speculation"]),
    )


def load_rows(paths: Iterable[str | Path]) -> list[LabelledRow]:
    """Labelled rows of JSONL files, each with its file name and line number.

    Blank lines, lines that are not JSON objects and rows missing text or a label are skipped.
    """
    rows: list[LabelledRow] = []
    for path in paths:
        source = str(path)
        with open(path, encoding="utf-8") as handle:
            for number, line in enumerate(handle, 1):
                if not line.strip():
                    continue
                try:
                    data = json.loads(line)
                except json.JSONDecodeError:
                    continue
                if not isinstance(data, dict) or any(
                    key not in data for key in ("text", *LABEL_FIELDS)
                ):
                    continue
                rows.append(_as_row({**data, "source": source, "line": number}, 0))
    return rows


def _differing(a: LabelledRow, b: LabelledRow) -> tuple[str, ...]:
    return tuple(f for f in LABEL_FIELDS if a.label(f) != b.label(f))


def _required_overlap(threshold: float, size: float) -> int:
    """Fewest shared shingles a set of `size` needs with any set it is similar to."""
    return math.ceil(threshold * size - 1e-9)


def find_conflicts(rows: Iterable[LabelledRow | Mapping], threshold: float = 0.8) -> list[Conflict]:
    """Pairs of near-duplicate texts (Jaccard >= threshold) whose labels differ.

    `rows` are LabelledRow objects or mappings with text, relevant, stance, speculation and
    optionally source and line. Conflicts come most similar first.
    """
    if not 0.0 < threshold <= 1.0:
        raise ValueError(f"threshold must be in (0, 1], not {threshold}")
    t = threshold
    items = [_as_row(row, i) for i, row in enumerate(rows)]
    sets = [shingles(row.text) for row in items]
    # Shingles become integer ranks, rarest first, so each text is a sorted token list whose
    # prefix holds its most selective shingles.
    frequency = Counter(s for shingle_set in sets for s in shingle_set)
    rank = {s: r for r, s in enumerate(sorted(frequency, key=lambda s: (frequency[s], s)))}
    tokens = [sorted(rank[s] for s in shingle_set) for shingle_set in sets]
    token_sets = [frozenset(toks) for toks in tokens]
    labels = [tuple(row.label(f) for f in LABEL_FIELDS) for row in items]

    # PPJoin (Xiao et al. 2008): texts in order of size; each probes the index with its prefix
    # and is then indexed under a shorter prefix (larger texts only meet it later). A shared
    # token at positions (i, j) bounds the overlap still reachable; pairs that cannot reach
    # the required overlap are dropped before any full comparison.
    index: defaultdict[int, list[tuple[int, int]]] = defaultdict(list)
    conflicts: list[Conflict] = []
    for x in sorted(range(len(items)), key=lambda k: (len(tokens[k]), k)):
        toks, n = tokens[x], len(tokens[x])
        if n == 0:
            continue
        overlap: dict[int, int] = {}
        for i in range(n - _required_overlap(t, n) + 1):
            for y, j in index[toks[i]]:
                seen = overlap.get(y, 0)
                if seen < 0:
                    continue
                m = len(tokens[y])
                if m < t * n - 1e-9:
                    continue
                needed = _required_overlap(t / (1 + t), n + m)
                if seen + 1 + min(n - i - 1, m - j - 1) >= needed:
                    overlap[y] = seen + 1
                else:
                    overlap[y] = -1
        for i in range(n - _required_overlap(2 * t / (1 + t), n) + 1):
            index[toks[i]].append((x, i))
        for y, seen in overlap.items():
            if seen <= 0 or labels[x] == labels[y]:
                continue
            shared = len(token_sets[x] & token_sets[y])
            similarity = shared / (n + len(tokens[y]) - shared)
            if similarity >= t - 1e-12:
                a, b = sorted((items[x], items[y]), key=lambda r: (r.source, r.line))
                conflicts.append(Conflict(a, b, similarity, _differing(a, b)))
    conflicts.sort(key=lambda c: (-c.similarity, c.a.source, c.a.line, c.b.source, c.b.line))
    return conflicts
