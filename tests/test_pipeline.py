"""The daily job end to end on a temporary database, with the real (tiny) classifier."""

from __future__ import annotations

import dataclasses
import email
import json
import sys
from email import policy

import pytest

from jobs.pipeline import run_daily
from jobs.store import Store
from tests.conftest import FIXTURES

YUAN, HK = "yuan stablecoins", "Hong Kong stablecoin regulation"
DATA_TABLES = ("posts", "scores", "cursors", "daily_summary", "digests")


@pytest.fixture
def clean_archive(tmp_path):
    """The small archive without its deliberately broken line."""
    lines = (FIXTURES / "archive_small.jsonl").read_text(encoding="utf-8").splitlines()
    path = tmp_path / "archive.jsonl"
    path.write_text("\n".join(line for line in lines if "not json" not in line) + "\n")
    return path


def no_model_calls():
    raise AssertionError("the model was loaded although nothing needed scoring")


def counts(settings):
    with Store.open(settings.db_path) as store:
        return store.counts()


def opened_during(path, run):
    """How many times `path` is opened while `run()` runs (seen by an audit hook)."""
    opened = []
    watching = [True]

    def hook(event, args):
        if watching[0] and event == "open" and str(args[0]) == str(path):
            opened.append(args[1])

    sys.addaudithook(hook)  # cannot be removed: switched off below instead
    try:
        result = run()
    finally:
        watching[0] = False
    return len(opened), result


def test_daily_runs_every_stage(settings, clean_archive):
    meta = settings.model_dir / "meta.json"
    reads, report = opened_during(
        meta, lambda: run_daily(settings, "2026-03-02", archives=[clean_archive])
    )
    assert reads == 1  # the model id and the loaded scorer come from one read
    assert report.status == "ok"
    assert report.collect.counts.new == 7  # day 1 and day 2; day 3 has "not happened yet"
    assert report.scored == 7
    with Store.open(settings.db_path) as store:
        topics = {r["post_id"]: r["topic"] for r in store.db["posts"].rows}
        day1 = {r["topic"]: r for r in store.summaries("2026-03-01")}
        scores = list(store.db["scores"].rows)
        run = store.db["runs"].get(report.run_id)
    assert topics["c2"] == HK and topics["h1"] == YUAN and topics["d1"] == YUAN
    assert {s["model_id"] for s in scores} == {report.model_id}
    assert (day1[HK]["volume"], day1[YUAN]["volume"], day1["all"]["volume"]) == (3, 1, 4)
    for row in day1.values():
        assert row["supportive"] + row["neutral"] + row["opposed"] == row["relevant"]
        if row["relevant"]:
            assert -1 <= row["net_stance"] <= 1
    assert run["status"] == "ok" and run["new_posts"] == 7 and run["scored"] == 7
    with open(report.digest["path"], "rb") as fh:
        msg = email.message_from_bytes(fh.read(), policy=policy.default)
    assert "2026-03-02" in msg["Subject"]
    text = msg.get_body(("plain",)).get_content()
    page = msg.get_body(("html",)).get_content()
    assert HK in text and "Net stance" in text
    assert "<script>" not in page and "Most discussed threads" in page


def test_rerun_same_day_adds_no_rows_and_loads_no_model(settings, clean_archive):
    run_daily(settings, "2026-03-02", archives=[clean_archive])
    before = counts(settings)
    report = run_daily(settings, "2026-03-02", archives=[clean_archive], get_scorer=no_model_calls)
    after = counts(settings)
    assert report.collect.counts.total == 0 and report.scored == 0
    assert {t: after[t] for t in DATA_TABLES} == {t: before[t] for t in DATA_TABLES}
    assert after["runs"] == before["runs"] + 1  # the audit log records every run


def test_next_day_scores_only_new_posts(settings, clean_archive):
    run_daily(settings, "2026-03-02", archives=[clean_archive])
    report = run_daily(settings, "2026-03-03", archives=[clean_archive])
    assert report.collect.counts.new == 3 and report.scored == 3
    assert {s["topic"] for s in report.summaries} >= {YUAN, "all"}


def test_identical_texts_reuse_scores(settings, tmp_path, clean_archive):
    run_daily(settings, "2026-03-01", archives=[clean_archive])
    copy = tmp_path / "crosspost.jsonl"
    first = json.loads(clean_archive.read_text().splitlines()[0])
    copy.write_text(json.dumps(dict(first, source="discourse", id="x1", thread_id="x1")) + "\n")
    report = run_daily(settings, "2026-03-01", archives=[copy], get_scorer=no_model_calls)
    assert report.reused == 1 and report.scored == 0


def test_bad_lines_are_reported_and_good_ones_kept(settings):
    report = run_daily(settings, "2026-03-03", archives=[FIXTURES / "archive_small.jsonl"])
    assert report.status == "partial"
    assert report.collect.counts.new == 10
    assert any("1 record(s) rejected" in e for e in report.collect.errors)
    assert [r.where for r in report.collect.rejected] == [f"{FIXTURES}/archive_small.jsonl:7"]
    with Store.open(settings.db_path) as store:
        run = store.db["runs"].get(report.run_id)
        ((key, cursor),) = store.get_cursors("archive").items()
    assert key.startswith(f"archive:{FIXTURES}/archive_small.jsonl#")
    assert cursor == "2026-03-03T09:00:00+00:00"
    assert run["status"] == "partial" and "1 record(s) rejected" in run["errors"]
    assert run["rejected"] == 1
    (named,) = json.loads(run["rejected_records"])
    assert named["where"].endswith("archive_small.jsonl:7") and "not JSON" in named["reason"]
    rerun = run_daily(settings, "2026-03-03", archives=[FIXTURES / "archive_small.jsonl"],
                      get_scorer=no_model_calls)
    assert rerun.collect.counts.total == 0


def test_missing_model_fails_before_writing(settings, clean_archive, tmp_path):
    from classifier.errors import ModelNotFoundError

    broken = dataclasses.replace(settings, model_dir=tmp_path / "no-model")
    with pytest.raises(ModelNotFoundError, match="stablewatch train"):
        run_daily(broken, "2026-03-02", archives=[clean_archive])
    assert not settings.db_path.exists()
