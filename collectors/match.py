"""Keyword matching that works for English (word boundaries, any case) and Chinese (substrings)."""

from __future__ import annotations

import re
from collections.abc import Iterable


def _pattern(keyword: str) -> str:
    escaped = re.escape(keyword.strip())
    if keyword.isascii():
        return rf"(?<![A-Za-z0-9]){escaped}(?![A-Za-z0-9])"
    return escaped


class KeywordMatcher:
    """Answers whether a text mentions any of a set of keywords."""

    def __init__(self, keywords: Iterable[str]) -> None:
        self.keywords = tuple(k for k in keywords if k.strip())
        self._regex = (
            re.compile("|".join(_pattern(k) for k in self.keywords), re.IGNORECASE)
            if self.keywords
            else None
        )

    def matches(self, text: str | None) -> bool:
        """The text mentions a keyword; always False when there are no keywords."""
        return bool(text and self._regex and self._regex.search(text))

    def matches_any(self, texts: Iterable[str | None]) -> bool:
        """The filter collectors apply: True when there are no keywords (nothing is
        filtered out), else whether any of the texts mentions a keyword."""
        return not self.keywords or any(self.matches(t) for t in texts)

    def found(self, text: str | None) -> list[str]:
        """The distinct keywords found, lower-cased, in order of first appearance."""
        if not text or not self._regex:
            return []
        seen: dict[str, None] = {}
        for m in self._regex.finditer(text):
            seen.setdefault(m.group(0).lower(), None)
        return list(seen)
