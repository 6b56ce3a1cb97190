"""`stablewatch search`: posts that contain every term, with their current-model scores."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from collectors.fold import fold
from collectors.post import post_line
from jobs.fts import match_sql, search_terms
from jobs.readonly import execute, readonly, require_schema

SEARCH_SCHEMA = 4
EXCERPT_CHARS = 200
_HIT_COLUMNS = (
    "day",
    "created_at",
    "source",
    "post_id",
    "thread_id",
    "kind",
    "community",
    "author",
    "topic",
    "lang",
    "title",
    "body",
    "url",
    "relevant",
    "relevance",
    "stance",
    "speculative",
    "speculation",
    "model_id",
)


@dataclass
class SearchFilters:
    """Optional filters on the hits; days are inclusive YYYY-MM-DD."""

    topic: str | None = None
    first: str | None = None
    last: str | None = None
    stance: str | None = None


@dataclass
class SearchResult:
    query: str
    terms: list[str]
    total: int
    hits: list[dict[str, Any]] = field(default_factory=list)


def search(
    db_path: Path | str, query: str, filters: SearchFilters | None = None, limit: int = 20
) -> SearchResult:
    """The newest ``limit`` posts matching ``query`` (and the total), read-only.

    Terms are folded (simplified Chinese, NFKC), so 穩定幣 and 稳定币 find the same posts;
    each term must occur as a substring, in any case. Quote a "phrase" to keep its words
    together.
    """
    filters = filters or SearchFilters()
    terms = search_terms(query)
    match = match_sql(terms)
    where, params = [match.where], list(match.params)
    if filters.topic:
        where.append("p.topic = ?")
        params.append(filters.topic)
    if filters.first:
        where.append("p.day >= ?")
        params.append(filters.first)
    if filters.last:
        where.append("p.day <= ?")
        params.append(filters.last)
    if filters.stance:
        where.append("sp.stance = ?")
        params.append(filters.stance)
    base = (
        f"FROM scored_posts sp JOIN posts p ON p.rowid = sp.post_rowid WHERE {' AND '.join(where)}"
    )
    with readonly(db_path) as conn:
        require_schema(conn, SEARCH_SCHEMA, db_path, "search")
        total = execute(conn, f"SELECT count(*) {base}", params).fetchone()[0]
        rows = execute(
            conn,
            f"SELECT {', '.join('sp.' + c for c in _HIT_COLUMNS)} {base} "
            "ORDER BY sp.created_at DESC, sp.source, sp.post_id LIMIT ?",
            [*params, limit],
        ).fetchall()
    hits = []
    for row in rows:
        hit = dict(row)
        hit["excerpt"] = excerpt(hit.pop("title"), hit.pop("body"), terms)
        hits.append(hit)
    return SearchResult(query, terms, total, hits)


def excerpt(
    title: str | None, body: str | None, terms: list[str], limit: int = EXCERPT_CHARS
) -> str:
    """Title and body on one line, cut to about ``limit`` characters around the first term."""
    text = post_line(title, body)
    if len(text) <= limit:
        return text
    folded = fold(text).lower()
    found = [i for i in (folded.find(t.lower()) for t in terms) if i >= 0]
    start = max(0, min(found, default=0) - limit // 3)
    start = min(start, len(text) - limit)
    cut = text[start : start + limit].strip()
    return ("…" if start > 0 else "") + cut + ("…" if start + limit < len(text) else "")


def format_hits(result: SearchResult) -> str:
    """Text output: a count line, then per hit a line of facts, the link and an excerpt."""
    shown = len(result.hits)
    head = f"{result.total} posts match {result.query!r}"
    if shown < result.total:
        head += f" (the newest {shown} shown; --limit for more)"
    lines = [head]
    for hit in result.hits:
        stance = hit["stance"] or "unscored"
        if hit["stance"] and not hit["relevant"]:
            stance += " (off-topic)"
        spec = "" if hit["speculation"] is None else f"speculation {hit['speculation']:.2f}"
        facts = [hit["day"], hit["source"], hit["community"] or "", stance, spec]
        lines += [
            "",
            "  ".join(f for f in facts if f),
            f"  {hit['url'] or '(no link)'}",
            f"  {hit['excerpt']}",
        ]
    return "\n".join(lines)
