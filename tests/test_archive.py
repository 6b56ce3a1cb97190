"""Replaying a JSONL archive: parsing, the as-if-live cutoff, cursors, rejected lines."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from collectors.archive import ArchiveCollector, ArchiveError
from tests.conftest import FIXTURES

ARCHIVE = FIXTURES / "archive_small.jsonl"


def harvest_once(collector, cursors=None):
    (harvest,) = list(collector.harvest(cursors or {}))
    return harvest


def test_parses_posts_and_reports_bad_lines():
    h = harvest_once(ArchiveCollector(ARCHIVE))
    assert len(h.posts) == 10
    assert h.error is None
    (bad,) = h.rejected
    assert bad.where == f"{ARCHIVE}:7" and bad.reason.startswith("not JSON")
    by_id = {p.id: p for p in h.posts}
    assert by_id["c2"].parent_id == "c1" and by_id["c2"].thread_id == "t1"
    assert by_id["c2"].kind == "comment" and by_id["t1"].kind == "post"
    assert by_id["c4"].deleted and by_id["c4"].author is None
    assert "script" not in by_id["c3"].body and "alert" not in by_id["c3"].body
    assert "two licensees" in by_id["c3"].body
    assert by_id["d1"].lang == "zh"


def test_until_holds_back_the_future_and_cursor_resumes():
    day1 = datetime(2026, 3, 1, 23, 59, 59, tzinfo=UTC)
    h1 = harvest_once(ArchiveCollector(ARCHIVE, until=day1))
    assert {p.id for p in h1.posts} == {"t1", "c1", "c2", "h1"}
    assert h1.cursor == "2026-03-01T12:00:00+00:00"
    h2 = harvest_once(ArchiveCollector(ARCHIVE), {h1.key: h1.cursor})
    assert {p.id for p in h2.posts} == {"c3", "h2", "d1", "d2", "t2", "c4"}
    h3 = harvest_once(ArchiveCollector(ARCHIVE), {h1.key: h2.cursor})
    assert h3.posts == [] and h3.cursor == h2.cursor


def test_missing_archive_is_a_clear_error(tmp_path):
    with pytest.raises(ArchiveError, match="cannot read archive"):
        harvest_once(ArchiveCollector(tmp_path / "nope.jsonl"))
