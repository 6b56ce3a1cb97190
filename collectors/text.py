"""Turn untrusted text (HTML, entities, broken bytes, control characters, huge blobs) into
plain, bounded text. One set of rules for every stored text field.

`clean_text` is idempotent: cleaning its output again changes nothing, so a collector that
cleans a body and the `Post` that cleans it again agree. Its output never holds markup
(no `<` followed by a letter, `/` or `!`), nothing `html.unescape` would still decode, and
no control characters other than `\\n` (and none at all with ``single_line=True``).
"""

from __future__ import annotations

import html
import re
from urllib.parse import urlsplit

import nh3

MAX_BODY_CHARS = 40_000
MAX_NAME_CHARS = 200
MAX_URL_CHARS = 2_048
MAX_DECODE_PASSES = 6  # layers of entity encoding undone; deeper nesting is neutralised
_TRUNCATION_MARK = "\n[… truncated by stablewatch]"
_LINE_BREAKS = re.compile(r"\r\n?|[\u2028\u2029\x85]")
# C0 and C1 controls except tab and newline, DEL, and the bidi embedding/override/isolate
# marks that let a name or quote reorder the text around it.
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_WS = re.compile(r"[ \t\f\v]+")
_BLANKS = re.compile(r"\n{3,}")
_TAG_HINT = re.compile(r"<[a-zA-Z/!]")
_TAG_LIKE = re.compile(r"<[a-zA-Z/!][^>]*>?")
_BLOCK_TAGS = re.compile(r"(?i)<\s*(br|p|/p|/div|/li|/h[1-6]|/blockquote|/tr)\b[^>]*>")
URL_SCHEMES = ("http", "https")


def decode_bytes(raw: bytes) -> str:
    """Decode bytes as UTF-8, replacing invalid sequences instead of failing."""
    return raw.decode("utf-8", errors="replace")


def _strip_markup(text: str) -> str:
    """Text with tags, scripts and comments removed, as HTML-escaped text (nh3's output)."""
    text = _BLOCK_TAGS.sub("\n", text)
    return nh3.clean(text, tags=set(), attributes={}, strip_comments=True)


def _plain(text: str) -> str:
    """Undo entity encoding and strip markup until neither changes anything.

    `&lt;script&gt;` decodes to a tag, which is then stripped like any other tag, so an
    encoded script never comes back as a raw one. Each entity decoded shortens the text;
    input still changing after `MAX_DECODE_PASSES` has its `<` and `&` replaced by their
    full-width forms, which neither HTML nor `html.unescape` reads as markup.
    """
    for _ in range(MAX_DECODE_PASSES):
        if _TAG_HINT.search(text):
            text = _strip_markup(text)
        decoded = _CONTROLS.sub("", _LINE_BREAKS.sub("\n", html.unescape(text)))
        if decoded == text:
            return text
        text = decoded
    if _TAG_HINT.search(text):
        text = _TAG_LIKE.sub("", text)
    return text.replace("<", "\uff1c").replace("&", "\uff06")


def clean_text(
    value: str | bytes | None, max_chars: int = MAX_BODY_CHARS, *, single_line: bool = False
) -> str:
    """Strip markup and scripts, unescape entities, remove control characters, normalise
    whitespace and line breaks (`\\r\\n`, `\\r`, U+2028, U+2029 and U+0085 become `\\n`),
    and bound the length to `max_chars`. With `single_line`, line breaks become spaces
    (titles, names)."""
    if value is None:
        return ""
    text = decode_bytes(value) if isinstance(value, bytes) else str(value)
    text = _plain(_CONTROLS.sub("", _LINE_BREAKS.sub("\n", text)))
    if single_line:
        text = _WS.sub(" ", text.replace("\n", " ")).strip()
    else:
        text = "\n".join(_WS.sub(" ", line).strip() for line in text.split("\n"))
        text = _BLANKS.sub("\n\n", text).strip()
    if len(text) > max_chars:
        mark = "" if single_line else _TRUNCATION_MARK
        text = text[: max(max_chars - len(mark), 0)].rstrip() + mark
    return text


def clean_name(value: object, max_chars: int = MAX_NAME_CHARS) -> str | None:
    """An author, community or language name: one cleaned line, None when empty."""
    if value is None:
        return None
    return clean_text(str(value), max_chars, single_line=True) or None


def clean_id(value: object) -> str:
    """An identifier: control characters and surrounding whitespace removed, no markup
    processing (an id is compared, never displayed as HTML)."""
    return _CONTROLS.sub("", _LINE_BREAKS.sub("", str(value))).strip()


def clean_url(value: object) -> str | None:
    """The URL when it is an absolute http(s) URL of bounded length, else None.

    `javascript:`, `data:`, `file:` and scheme-less values are dropped, so nothing stored
    can become an active link in the digest or in Datasette.
    """
    if not isinstance(value, str):
        return None
    url = _CONTROLS.sub("", _LINE_BREAKS.sub("", value)).strip()
    if not url or len(url) > MAX_URL_CHARS or any(c.isspace() for c in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in URL_SCHEMES or not parts.hostname:
        return None
    return url
