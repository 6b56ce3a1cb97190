"""Property-based tests (hypothesis): arbitrary text and records never crash a run, good
records always survive next to bad ones, and no input text reaches the digest's HTML
unescaped. Profiles and seeds are set in conftest.py; example counts are kept small."""

from __future__ import annotations

import codecs
import html
import json
import re
import tempfile
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markupsafe import escape

from collectors.archive import ArchiveCollector, read_archive
from collectors.records import INT64_MAX, INT64_MIN
from collectors.text import clean_text
from jobs.config import DEFAULT_TOPICS
from jobs.pipeline import collect
from jobs.store import Store
from jobs.topics import load_topics

NOW = datetime(2026, 12, 1, tzinfo=UTC)
TAG = re.compile(r"<[a-zA-Z/!]")
CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")

# Text that exercises the cleaner: markup, entities (also double-encoded), line breaks of
# every kind, control and bidi characters, CJK, next to arbitrary Unicode.
PIECES = ["<script>x</script>", "<p>", "</p>", "<b", "<!--", "-->", "&lt;", "&gt;", "&amp;",
          "&amp;lt;", "&#60;", "&#x3c;", "&lt;script&gt;", "&", ";", "<", ">", "\r\n", "\r",
          "\u2028", "\u2029", "\x85", "\x00", "\x07", "\u202e", "\t", "\n", " ", "a", "HKMA",
          "稳定币"]  # fmt: skip
MARKUP = st.lists(st.sampled_from(PIECES) | st.text(max_size=3), max_size=30).map("".join)
ANY_TEXT = st.text() | MARKUP


@given(ANY_TEXT | st.binary())
@settings(max_examples=300)
def test_clean_text_is_plain_bounded_and_stable(raw):
    out = clean_text(raw, 300)
    assert len(out) <= 300
    assert not TAG.search(out), "markup survived"
    assert html.unescape(out) == out, "an entity survived"
    assert not CONTROL.search(out), "a control character or odd line break survived"
    assert clean_text(out, 300) == out
    line = clean_text(raw, 300, single_line=True)
    assert "\n" not in line and not CONTROL.search(line)
    assert clean_text(line, 300, single_line=True) == line


@given(st.text(st.characters(categories=("L", "N")) | st.sampled_from(" \n\t")))
@settings(max_examples=100)
def test_clean_text_keeps_every_word_of_plain_text(raw):
    assert clean_text(raw).split() == raw.split()


# ---- the archive reader --------------------------------------------------------------------

SOURCES = ["reddit", "hackernews", "discourse:forum.test", "feed"]
WHEN = st.datetimes(datetime(2014, 1, 1), datetime(2026, 11, 30), timezones=st.just(UTC))
TIME_VALUE = WHEN.flatmap(
    lambda w: st.sampled_from(
        [w.isoformat(), w.isoformat().replace("+00:00", "Z"), w.timestamp(), int(w.timestamp())]
    )
)
OPTIONAL_TEXT = st.none() | ANY_TEXT
JSON_VALUE = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)


@st.composite
def record(draw, record_id: str) -> dict:
    """A valid archive record with arbitrary text in every text field."""
    return {
        "source": draw(st.sampled_from(SOURCES)),
        "id": record_id,
        "kind": draw(st.sampled_from(["post", "comment"])),
        "created_utc": draw(TIME_VALUE),
        "title": draw(OPTIONAL_TEXT),
        "body": draw(OPTIONAL_TEXT),
        "author": draw(OPTIONAL_TEXT),
        "community": draw(OPTIONAL_TEXT),
        "lang": draw(OPTIONAL_TEXT),
        "url": draw(OPTIONAL_TEXT),
        "score": draw(st.none() | st.integers(INT64_MIN, INT64_MAX)),
        "num_comments": draw(st.none() | st.integers(0, INT64_MAX)),
        "deleted": draw(st.booleans()),
    }


@st.composite
def bad_line(draw, index: int) -> bytes:
    """Arbitrary bytes, arbitrary JSON, or a valid record with one field made arbitrary
    (which may or may not still be valid)."""
    kind = draw(st.sampled_from(["bytes", "json", "field"]))
    if kind == "bytes":
        return draw(st.binary(max_size=80).filter(lambda b: b"\n" not in b))
    if kind == "json":
        return json.dumps(draw(JSON_VALUE)).encode()
    broken = draw(record(f"bad-{index}"))
    broken[draw(st.sampled_from(sorted(broken)))] = draw(JSON_VALUE)
    return json.dumps(broken).encode()


@st.composite
def archive_lines(draw) -> tuple[list[bytes], set[str]]:
    """Good records (ids good-N) with bad lines between them; the first line is good."""
    goods = draw(st.integers(1, 6))
    lines: list[bytes] = []
    for i in range(goods):
        lines.append(json.dumps(draw(record(f"good-{i}"))).encode())
        lines += [draw(bad_line(i * 10 + j)) for j in range(draw(st.integers(0, 3)))]
    return lines, {f"good-{i}" for i in range(goods)}


def write_archive(folder: Path, lines: list[bytes]) -> Path:
    path = folder / "fuzz.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


@given(archive_lines())
@settings(max_examples=60)
def test_archive_keeps_every_good_record_and_accounts_for_every_line(case):
    lines, good_ids = case
    with tempfile.TemporaryDirectory() as folder:
        path = write_archive(Path(folder), lines)
        read = read_archive(path, NOW)
    ids = [p.id for p in read.posts]
    assert good_ids <= set(ids)
    counted = [
        n
        for n, raw in enumerate(lines, 1)
        if (raw.removeprefix(codecs.BOM_UTF8) if n == 1 else raw).strip()
    ]
    assert len(read.posts) + len(read.rejected) == len(counted)
    assert {r.where for r in read.rejected} <= {f"{path}:{n}" for n in counted}
    assert all(r.reason and "\n" not in r.reason for r in read.rejected)


@given(archive_lines())
@settings(max_examples=15, suppress_health_check=[HealthCheck.too_slow])
def test_collecting_arbitrary_archives_never_fails_and_stores_the_good_records(case):
    lines, good_ids = case
    topics = load_topics(DEFAULT_TOPICS)
    with tempfile.TemporaryDirectory() as folder:
        path = write_archive(Path(folder), lines)
        with Store.open(Path(folder) / "sw.db") as store:
            report = collect(store, [ArchiveCollector(path, now=NOW)], topics, NOW)
            stored = {(r["source"], r["post_id"]) for r in store.db["posts"].rows}
    assert not [e for e in report.errors if "rejected" not in e]
    assert good_ids <= {post_id for _, post_id in stored}
    assert report.counts.new == len(stored)


# ---- digest rendering ----------------------------------------------------------------------

ONE_LINE = (st.text(max_size=40) | MARKUP).map(lambda s: " ".join(s.split()))
URL = st.sampled_from(
    [
        "https://example.test/a?b=1&c='2'",
        "javascript:alert(1)",
        "data:text/html,<b>x</b>",
        'http://example.test/"onclick="x',
        "",
    ]
)
TEMPLATE_TAGS = {
    "html",
    "head",
    "meta",
    "title",
    "body",
    "p",
    "b",
    "h1",
    "div",
    "ul",
    "li",
    "img",
    "h2",
    "table",
    "tr",
    "th",
    "td",
    "h3",
    "a",
    "small",
    "blockquote",
    "hr",
}


class Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, attrs))


@given(st.lists(ONE_LINE, min_size=6, max_size=6), st.text(max_size=60), URL, URL)
@settings(max_examples=15, suppress_health_check=[HealthCheck.too_slow])
def test_no_input_text_appears_unescaped_in_the_html_part(texts, quote, thread_url, quote_url):
    from jobs.digest import build_digest

    # Each value is fenced by markers, so finding it raw means it was not escaped.
    title, community, author, note, spike_title, error = (
        f"[{i}#{t}#{i}]" for i, t in enumerate(texts)
    )
    quote = f"[q#{quote}#q]"
    thread = {
        "source": "reddit",
        "thread_id": "t1",
        "title": title,
        "community": community,
        "url": thread_url,
        "activity": 3,
        "relevant": 2,
    }
    said = {
        "source": "reddit",
        "post_id": "p1",
        "author": author,
        "community": community,
        "url": quote_url,
        "confidence": 0.9,
        "speculative": True,
        "text": quote,
    }
    with tempfile.TemporaryDirectory() as folder, Store.open(Path(folder) / "sw.db") as store:
        store.save_summaries([{
            "day": "2026-05-01", "topic": "all", "model_id": "m", "volume": 3, "posts": 1,
            "comments": 2, "authors": 2, "relevant": 2, "relevant_share": 0.67,
            "supportive": 1, "neutral": 1, "opposed": 0, "net_stance": 0.5, "speculative": 1,
            "speculative_share": 0.5, "top_threads": json.dumps([thread]),
            "quotes": json.dumps({"supportive": [said]}), "computed_at": "2026-05-02T00:00:00",
            "spike": 1, "spike_note": note, "volume_mean": 1.0,
            "spike_threads": json.dumps([{"title": spike_title, "share_of_extra": 0.5}]),
        }])  # fmt: skip
        page = build_digest(store, "2026-05-01", source_errors=[error]).html
    for value in (title, community, author, note, spike_title, error, quote):
        assert str(escape(value)) in page
        if str(escape(value)) != value:
            assert value not in page
    parser = Tags()
    parser.feed(page)
    assert {tag for tag, _ in parser.tags} <= TEMPLATE_TAGS
    for _, attrs in parser.tags:
        assert not [name for name, _ in attrs if name.startswith("on")]
        assert all(
            (v or "").startswith(("http://", "https://", "cid:"))
            for n, v in attrs
            if n in ("href", "src")
        )
