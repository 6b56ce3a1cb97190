"""The full-text index of posts: what it holds and how a search query becomes SQL.

posts_fts (FTS5, trigram tokenizer) indexes posts.title, posts.body and posts.search_text,
the text in simplified, Hong Kong and Taiwan traditional spelling (collectors.fold). The
trigram tokenizer finds any substring of 3 or more characters, in any case, which suits
Chinese (no word breaks) as well as English. It cannot look up shorter strings such as
港币 or HK: those terms are matched with LIKE over the same columns (a scan of posts).
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass, field
from typing import Any

from collectors.fold import fold, script_forms

SEARCH_TEXT_FUNCTION = "stablewatch_search_text"
MIN_INDEXED_CHARS = 3  # the trigram tokenizer's shortest searchable string
_TERM = re.compile(r'"([^"]*)"|(\S+)')


def search_text(title: str | None, body: str | None) -> str | None:
    """posts.search_text: every spelling of title and body, or None for plain text."""
    text = "\n".join(part for part in (title, body) if part)
    forms = script_forms(text)
    return None if forms == [text] else "\n".join(forms)


def register_functions(conn: sqlite3.Connection) -> None:
    """Make stablewatch_search_text(title, body) available to SQL (migration 3 uses it)."""
    conn.create_function(SEARCH_TEXT_FUNCTION, 2, search_text, deterministic=True)


def search_terms(query: str) -> list[str]:
    """The folded terms of a query: words, or "quoted phrases", all of which must occur."""
    terms = [fold(phrase or word).strip() for phrase, word in _TERM.findall(query)]
    return [t for t in terms if t]


@dataclass
class MatchSQL:
    """A WHERE clause on posts (alias ``p``) that keeps posts containing every term."""

    where: str
    params: list[Any] = field(default_factory=list)


def match_sql(terms: list[str]) -> MatchSQL:
    """Terms of 3+ characters go to one FTS5 MATCH of quoted phrases (substrings under the
    trigram tokenizer); shorter ones to LIKE over title, body and search_text."""
    if not terms:
        raise ValueError("empty search: give at least one word")
    clauses: list[str] = []
    params: list[Any] = []
    indexed = [t for t in terms if len(t) >= MIN_INDEXED_CHARS]
    if indexed:
        clauses.append("p.rowid IN (SELECT rowid FROM posts_fts WHERE posts_fts MATCH ?)")
        params.append(" AND ".join(_phrase(t) for t in indexed))
    for term in terms:
        if len(term) < MIN_INDEXED_CHARS:
            clauses.append(
                "(p.title LIKE ? ESCAPE '\\' OR p.body LIKE ? ESCAPE '\\' "
                "OR p.search_text LIKE ? ESCAPE '\\')"
            )
            params += [_like(term)] * 3
    return MatchSQL(" AND ".join(clauses), params)


def _phrase(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def _like(term: str) -> str:
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
