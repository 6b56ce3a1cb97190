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
    assert len(text) <= MAX_BODY_CHARS
    assert text.endswith("[… truncated by stablewatch]")


def test_none_is_empty():
    assert clean_text(None) == ""


def test_entity_encoded_markup_never_comes_back_as_raw_markup():
    assert clean_text("&lt;script&gt;alert(1)&lt;/script&gt;HKMA") == "HKMA"
    assert clean_text("&amp;lt;b&amp;gt;bold&amp;lt;/b&amp;gt;") == "bold"
    assert clean_text("<p>&lt;img src=x onerror=alert(1)&gt;caption</p>") == "caption"
    assert clean_text("AT&amp;T &lt; 5% &gt; 1%") == "AT&T < 5% > 1%"


def test_line_breaks_become_newlines_and_controls_go():
    assert clean_text("a\r\nb\rc\u2028d\u2029e\x85f") == "a\nb\nc\nd\ne\nf"
    assert clean_text("bell\x07 esc\x1b[0m rtl\u202eltr") == "bell esc[0m rtlltr"
    assert clean_text("two\nlines", single_line=True) == "two lines"


def test_cleaning_twice_changes_nothing():
    raw = "<p>one &amp;amp; two</p>" + "x" * MAX_BODY_CHARS
    once = clean_text(raw)
    assert len(once) <= MAX_BODY_CHARS and clean_text(once) == once
