"""Fold text so that one spelling finds all: simplified and traditional Chinese, full width.

`fold` is what keyword matching and search compare: Unicode NFKC (full-width letters and
digits become ASCII, compatibility ideographs become unified ones), then OpenCC's Hong
Kong traditional to simplified conversion (which also reads Taiwan and OpenCC-standard
forms). `script_forms` gives the text in simplified, Hong Kong traditional and Taiwan
traditional spelling, for an index that a search typed in any of them should find.
"""

from __future__ import annotations

import unicodedata
from functools import cache

import opencc

_TO_SIMPLIFIED = "hk2s"
_TO_TRADITIONAL = ("s2hk", "s2tw")


@cache
def _converter(config: str) -> opencc.OpenCC:
    return opencc.OpenCC(f"{config}.json")


def fold(text: str) -> str:
    """The text as search and keyword matching compare it (simplified, NFKC)."""
    if text.isascii():
        return text
    return _converter(_TO_SIMPLIFIED).convert(unicodedata.normalize("NFKC", text))


def script_forms(text: str) -> list[str]:
    """The distinct spellings of the text: folded (simplified), then Hong Kong and Taiwan
    traditional. Just ``[text]`` for text that has nothing to fold."""
    if text.isascii():
        return [text]
    simplified = fold(text)
    forms = [simplified] + [_converter(c).convert(simplified) for c in _TO_TRADITIONAL]
    return list(dict.fromkeys(forms))
