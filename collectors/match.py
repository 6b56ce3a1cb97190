"""Keyword matching that works for English (word boundaries, any case) and Chinese (substrings).

Keywords and texts are compared folded (collectors.fold): 稳定币 matches 穩定幣 and ＨＫＭＡ
matches HKMA, whichever spelling topics.toml uses.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from collectors.fold import fold


def _pattern(keyword: str) -> str:
    escaped = re.escape(keyword)
    if keyword.isascii():
        return rf"(?<![A-Za-z0-9]){escaped}(?![A-Za-z0-9])"
    return escaped


class KeywordMatcher:
    """Answers whether a text mentions any of a set of keywords."""

    def __init__(self, keywords: Iterable[str]) -> None:
        self.keywords = tuple(k for k in keywords if k.strip())
        folded = dict.fromkeys(fold(k.strip()) for k in self.keywords)
        self._regex = (
            re.compile("|".join(_pattern(k) for k in folded), re.IGNORECASE)
            if folded
            else None
        )

    def matches(self, text: str | None) -> bool:
        """The text mentions a keyword; always False when there are no keywords."""
        return bool(text and self._regex and self._regex.search(fold(text)))

    def matches_any(self, texts: Iterable[str | None]) -> bool:
        """The filter collectors apply: True when there are no keywords (nothing is
        filtered out), else whether any of the texts mentions a keyword."""
        return not self.keywords or any(self.matches(t) for t in texts)

    def found(self, text: str | None) -> list[str]:
        """The distinct keywords found (folded, lower-cased), in order of first appearance."""
        if not text or not self._regex:
            return []
        seen: dict[str, None] = {}
        for m in self._regex.finditer(fold(text)):
            seen.setdefault(m.group(0).lower(), None)
        return list(seen)
