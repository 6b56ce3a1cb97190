"""Cleaning untrusted bodies: markup, scripts, broken bytes, huge blobs."""

from __future__ import annotations

from collectors.text import MAX_BODY_CHARS, clean_text


def test_scripts_and_tags_are_removed_but_words_kept():
    raw = "<p>HKMA &amp; SFC</p><script>steal()</script><style>p{}</style><p>second</p>"
    assert clean_text(raw) == "HKMA & SFC\n\nsecond"


def test_text_that_only_looks_like_markup_is_left_alone():
    assert clean_text("yield < 5% and fees > 1%") == "yield < 5% and fees > 1%"


def test_invalid_utf8_and_nul_bytes_do_not_fail():
    assert clean_text(b"ok \xff\xfe done\x00") == "ok \ufffd\ufffd done"


def test_huge_bodies_are_bounded_and_marked():
    text = clean_text("稳定币 " * (MAX_BODY_CHARS // 2))
    assert len(text) <= MAX_BODY_CHARS + 40
    assert text.endswith("[… truncated by stablewatch]")


def test_none_is_empty():
    assert clean_text(None) == ""
