"""Turn untrusted post bodies (HTML, broken bytes, huge blobs) into plain, bounded text."""

from __future__ import annotations

import html
import re

import nh3

MAX_BODY_CHARS = 40_000
_TRUNCATION_MARK = "\n[… truncated by stablewatch]"
_WS = re.compile(r"[ \t\r\f\v]+")
_BLANKS = re.compile(r"\n{3,}")
_TAG_HINT = re.compile(r"<[a-zA-Z/!]")
_BLOCK_TAGS = re.compile(r"(?i)<\s*(br|p|/p|/div|/li|/h[1-6]|/blockquote|/tr)\b[^>]*>")


def decode_bytes(raw: bytes) -> str:
    """Decode bytes as UTF-8, replacing invalid sequences instead of failing."""
    return raw.decode("utf-8", errors="replace")


def clean_text(value: str | bytes | None, max_chars: int = MAX_BODY_CHARS) -> str:
    """Strip markup and scripts, unescape entities, normalise whitespace, bound the length."""
    if value is None:
        return ""
    text = decode_bytes(value) if isinstance(value, bytes) else value
    text = text.replace("\x00", "")
    if _TAG_HINT.search(text):
        text = _BLOCK_TAGS.sub("\n", text)
        text = nh3.clean(text, tags=set(), attributes={}, strip_comments=True)
    text = html.unescape(text)
    text = "\n".join(_WS.sub(" ", line).strip() for line in text.split("\n"))
    text = _BLANKS.sub("\n\n", text).strip()
    if len(text) > max_chars:
        text = text[:max_chars].rstrip() + _TRUNCATION_MARK
    return text
