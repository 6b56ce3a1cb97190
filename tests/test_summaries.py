"""Summaries derived from the data: stale days, zero-filled series, baselines and spikes."""

from __future__ import annotations

import json
import sqlite3

import pytest
from click.testing import CliRunner

from jobs.baselines import SpikeRule, baseline_columns
from jobs.cli import cli
from jobs.config import SAMPLE_ARCHIVE
from jobs.pipeline import run_collect, run_daily, run_summarize
from jobs.store import Store
from jobs.summaries import days_between
from tests.conftest import configure_db

SPIKE_DAY = "2026-11-19"


def _series(volumes, net=0.0, relevant=30):
    return [{"day": f"d{i}", "volume": v, "relevant": relevant if v else 0,
             "net_stance": net if v else None} for i, v in enumerate(volumes)]


def test_volume_spike_needs_history_and_a_real_jump():
    cols = baseline_columns(_series([30, 34, 31, 29, 33, 30, 32, 35, 125, 36]))
    assert [c["spike"] for c in cols] == [0] * 8 + [1, 0]
    assert cols[8]["volume_z"] > 10 and "volume 125" in cols[8]["spike_note"]
    assert cols[9]["volume_z"] < 3  # the day after is judged against a baseline with the spike
    assert "no baseline yet" in cols[3]["spike_note"]  # 3 days of history: never a spike


def test_flat_history_does_not_turn_noise_into_spikes():
    cols = baseline_columns(_series([30] * 10 + [36]))
    assert cols[-1]["volume_std"] == 0.0
    assert cols[-1]["volume_z"] == pytest.approx(6 / 30 ** 0.5, abs=1e-3)  # Poisson floor
    assert cols[-1]["spike"] == 0


def test_small_days_are_not_spikes_and_net_stance_spikes():
    quiet = baseline_columns(_series([1, 0, 1, 2, 1, 1, 0, 1, 2, 1, 12]))
    assert quiet[-1]["volume_z"] >= 3 and quiet[-1]["spike"] == 0  # under min_volume
    series = _series([30] * 9, net=0.1) + [{"day": "x", "volume": 30, "relevant": 30,
                                            "net_stance": -0.6}]
    turn = baseline_columns(series, SpikeRule())
    assert turn[-1]["spike"] == 1 and turn[-1]["net_stance_z"] < -3
    assert "net stance -0.60" in turn[-1]["spike_note"]


def _summary_rows(db):
    con = sqlite3.connect(db)
    con.row_factory = sqlite3.Row
    rows = {(r["day"], r["topic"]): dict(r) for r in con.execute(
        "SELECT * FROM daily_summary")}
    con.close()
    return rows


# sample_db (conftest.py): the bundled sample through the daily job, once per run.


def test_sample_spike_day_is_flagged_and_quiet_days_are_not(sample_db):
    rows = _summary_rows(sample_db.db_path)
    spikes = sorted(day for (day, topic), r in rows.items() if topic == "all" and r["spike"])
    assert spikes == [SPIKE_DAY]
    spike = rows[(SPIKE_DAY, "all")]
    assert spike["volume"] == 125 and spike["volume_z"] >= 3
    assert "volume 125" in spike["spike_note"]
    assert spike["spike_threads"] != "[]"
    assert rows[("2026-11-18", "all")]["spike"] == 0


def test_sample_series_is_zero_filled_for_every_topic(sample_db):
    rows = _summary_rows(sample_db.db_path)
    days = days_between("2026-11-12", "2026-11-23")
    topics = {t for _, t in rows}
    assert {"all", "yuan stablecoins", "Hong Kong stablecoin regulation"} <= topics
    assert set(rows) == {(d, t) for d in days for t in topics}  # no holes
    empty = [r for r in rows.values() if r["volume"] == 0]
    assert empty and all(r["net_stance"] is None and r["spike"] == 0 for r in empty)
    r = rows[(SPIKE_DAY, "all")]
    if r["supportive"] + r["opposed"]:
        assert r["net_sentiment"] == pytest.approx(
            (r["supportive"] - r["opposed"]) / (r["supportive"] + r["opposed"]), abs=1e-4)


def test_collect_then_daily_equals_one_clean_daily(sample_db, tmp_path, tiny_model_dir):
    """A run stopped after collecting leaves no day unsummarised for ever."""
    from jobs.config import Settings

    settings = Settings(db_path=tmp_path / "sw.db", model_dir=tiny_model_dir,
                        outbox=tmp_path / "outbox")
    run_collect(settings, archives=[SAMPLE_ARCHIVE])
    with Store.open(settings.db_path) as store:
        assert store.counts()["daily_summary"] == 0
    run_daily(settings, sample=True, send=False)
    ignore = {"computed_at"}

    def strip(rows):
        return {k: {c: v for c, v in r.items() if c not in ignore} for k, r in rows.items()}

    assert strip(_summary_rows(settings.db_path)) == strip(_summary_rows(sample_db.db_path))


def test_summarize_command_recomputes_a_range(tmp_path, tiny_model_dir):
    db = configure_db(tmp_path, tiny_model_dir)
    runner = CliRunner()
    assert runner.invoke(cli, ["--db", str(db), "collect", "--sample"]).exit_code == 0
    assert runner.invoke(cli, ["--db", str(db), "score"]).exit_code == 0
    result = runner.invoke(cli, ["--db", str(db), "summarize", "--from", "2026-11-18",
                                 "--to", "2026-11-20"])
    assert result.exit_code == 0, result.output
    # the range was asked for; every other day was stale (never summarised) and came too
    assert "summarized 12 days (2026-11-12 to 2026-11-23)" in result.output
    rows = _summary_rows(db)
    assert {d for d, _ in rows} == set(days_between("2026-11-12", "2026-11-23"))
    result = runner.invoke(cli, ["--db", str(db), "summarize", "--from", "2026-11-18",
                                 "--to", "2026-11-20"])
    assert "summarized 3 days (2026-11-18 to 2026-11-20)" in result.output  # nothing stale now
    again = runner.invoke(cli, ["--db", str(db), "summarize", "--from", "2026-11-20",
                                "--to", "2026-11-18"])
    assert again.exit_code != 0 and "is after" in again.output


def test_summarize_on_an_empty_database(settings):
    assert run_summarize(settings) == []


def test_spike_day_digest_opens_with_a_callout(sample_db):
    from jobs.digest import build_digest

    with Store.open(sample_db.db_path) as store:
        digest = build_digest(store, SPIKE_DAY)
        quiet = build_digest(store, "2026-11-18")
    assert digest.subject.startswith(f"stablewatch {SPIKE_DAY}: SPIKE, 125 posts vs ")
    assert "SPIKE" not in quiet.subject and "Spike in" not in quiet.text
    body = digest.text.split("\n", 3)[3]  # after the fixed header lines
    assert body.lstrip().startswith("Spike in all topics: volume 125 vs ")
    assert "driven by" in body and "of the extra posts" in body
    assert body.index("All topics") < body.index("Yuan stablecoins")  # overview first
    assert "Spike in all topics" in digest.html
    msg = digest.message("a@localhost", ("b@localhost",))
    assert msg["Auto-Submitted"] == "auto-generated"


def test_only_http_urls_become_links_and_post_text_is_escaped(settings):
    import json

    from jobs.digest import build_digest, one_line, safe_url
    from jobs.summaries import summarize

    assert safe_url("https://example.org/a") == "https://example.org/a"
    for hostile in ("javascript:alert(1)", " JavaScript:alert(1)", "data:text/html,x", "", None):
        assert safe_url(hostile) is None
    assert one_line("a\n\n title\twith\r\nbreaks ") == "a title with breaks"
    thread = {"source": "reddit", "thread_id": "t1", "title": "<script>alert(1)</script>\nline2",
              "community": "r/x", "url": "javascript:alert(document.cookie)", "activity": 3,
              "relevant": 2}
    quote = {"source": "reddit", "post_id": "p1", "author": "<img src=x onerror=alert(1)>",
             "community": "r/x", "url": "https://example.org/p?a=1&b='2'", "confidence": 0.91,
             "speculative": False, "text": "</blockquote><script>evil()</script>"}
    with Store.open(settings.db_path) as store:
        summarize(store, "m", ["yuan stablecoins"], [])
        store.save_summaries([{
            "day": "2026-05-01", "topic": "all", "model_id": "m", "volume": 3, "posts": 1,
            "comments": 2, "authors": 2, "relevant": 2, "relevant_share": 0.67,
            "supportive": 1, "neutral": 1, "opposed": 0, "net_stance": 0.5, "speculative": 0,
            "speculative_share": 0.0, "top_threads": json.dumps([thread]),
            "quotes": json.dumps({"supportive": [quote]}), "computed_at": "2026-05-02T00:00:00"}])
        digest = build_digest(store, "2026-05-01")
    page = digest.html
    assert "<script>" not in page and "<img src=x" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; line2" in page  # escaped, one line
    assert "javascript:" not in page  # shown as text, never a link
    assert "href=\"https://example.org/p?a=1&amp;b=&#39;2&#39;\"" in page
    assert "(91% sure)" in page and "(91% sure)" in digest.text


def test_digest_message_has_text_html_and_inline_chart(sample_db, tmp_path):
    import email
    from email import policy

    from jobs.digest import build_digest

    with Store.open(sample_db.db_path) as store:
        digest = build_digest(store, SPIKE_DAY)
    assert digest.chart and digest.chart.startswith(b"\x89PNG\r\n\x1a\n")
    raw = bytes(digest.message("a@localhost", ("b@localhost",), "mailto:leave@localhost"))
    msg = email.message_from_bytes(raw, policy=policy.default)
    assert msg.get_content_type() == "multipart/alternative"
    plain, related = msg.get_payload()
    assert plain.get_content_type() == "text/plain"
    assert related.get_content_type() == "multipart/related"
    page, image = related.get_payload()
    assert page.get_content_type() == "text/html" and image.get_content_type() == "image/png"
    assert f"cid:{image['Content-ID'].strip('<>')}" in page.get_content()
    assert image.get_content() == digest.chart
    assert msg["List-Unsubscribe"] == "<mailto:leave@localhost>"


def test_digest_chart_command_writes_a_png(sample_db, tmp_path):
    from tests.conftest import configure_db

    db = configure_db(sample_db.db_path.parent, sample_db.model_dir)
    out = tmp_path / "chart.png"
    result = CliRunner().invoke(cli, ["--db", str(db), "digest", "--date", SPIKE_DAY,
                                      "--chart", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"\x89PNG")


def test_kill_9_after_collect_then_rerun_gives_the_clean_summaries(sample_db, tmp_path):
    """A daily run killed with SIGKILL once its posts are stored; the next run repairs all."""
    import os
    import signal
    import subprocess
    import sys
    import time

    db = configure_db(tmp_path, sample_db.model_dir)
    from pathlib import Path

    stablewatch = Path(sys.executable).parent / "stablewatch"  # the installed console script
    cmd = [str(stablewatch), "--db", str(db), "daily", "--sample", "--no-send", "--quiet"]
    proc = subprocess.Popen(cmd, cwd=tmp_path, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            if db.exists():
                try:
                    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1)
                    posts = con.execute("SELECT COUNT(*) FROM posts").fetchone()[0]
                    con.close()
                except sqlite3.Error:
                    posts = 0
                if posts >= 554:
                    break
            time.sleep(0.02)
        assert proc.poll() is None, "the run ended before it could be killed"
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    rerun = CliRunner().invoke(cli, ["--db", str(db), "daily", "--sample", "--no-send"])
    assert rerun.exit_code == 0, rerun.output

    def strip(rows):
        """Drop the run time; round floats (JSON quotes too) past fp32 scoring noise."""
        def clean(v):
            if isinstance(v, float):
                return round(v, 3)
            if isinstance(v, str) and v[:1] in "[{":
                return clean(json.loads(v))
            if isinstance(v, list):
                return [clean(x) for x in v]
            if isinstance(v, dict):
                return {k: clean(x) for k, x in v.items()}
            return v
        return {k: {c: clean(v) for c, v in r.items() if c != "computed_at"}
                for k, r in rows.items()}

    assert strip(_summary_rows(db)) == strip(_summary_rows(sample_db.db_path))
    assert len(_summary_rows(db)) == 36  # 12 days x (2 topics + all)
