"""A deliberately tiny language guess: Chinese when CJK characters dominate, else English."""

from __future__ import annotations

import re

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ffff]")
_LATIN = re.compile(r"[A-Za-z\u00c0-\u024f]")


def guess_lang(text: str | None) -> str | None:
    """Return "zh" when CJK characters are at least as many as Latin letters, "en" when
    there are letters, None for text without any (empty, digits, emoji)."""
    if not text:
        return None
    cjk = len(_CJK.findall(text))
    latin = len(_LATIN.findall(text))
    if cjk == 0 and latin == 0:
        return None
    return "zh" if cjk >= latin else "en"
