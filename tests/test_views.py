"""The analyst views agree with the tables they read, and the README's questions run."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime

import pytest

from collectors.post import Post
from jobs.questions import ANALYST_QUESTIONS
from jobs.store import Store
from tests.conftest import REPO


def rows(db_path, sql, params=()):
    con = sqlite3.connect(db_path)
    con.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in con.execute(sql, params)]
    finally:
        con.close()


def score_row(pid, model, stance, scored_at, content_hash, relevant=1):
    probs = {"supportive": 0.1, "neutral": 0.1, "opposed": 0.1, stance: 0.8}
    return {
        "source": "reddit",
        "post_id": pid,
        "model_id": model,
        "content_hash": content_hash,
        "relevance": 0.9,
        "relevant": relevant,
        "stance": stance,
        "p_supportive": probs["supportive"],
        "p_neutral": probs["neutral"],
        "p_opposed": probs["opposed"],
        "speculation": 0.2,
        "speculative": 0,
        "scored_at": scored_at,
    }


def summary_row(day, topic, model, computed_at, **counts):
    base = dict(
        day=day,
        topic=topic,
        model_id=model,
        volume=0,
        posts=0,
        comments=0,
        authors=0,
        relevant=0,
        supportive=0,
        neutral=0,
        opposed=0,
        speculative=0,
        top_threads="[]",
        quotes="{}",
        computed_at=computed_at,
    )
    return {**base, **counts}


def make_post(pid, body):
    return Post(
        source="reddit",
        id=pid,
        thread_id=pid,
        parent_id=None,
        author="a",
        created_utc=datetime(2026, 3, 1, tzinfo=UTC),
        title=None,
        body=body,
    )


def test_scored_posts_has_one_row_per_post_with_current_model_scores(tmp_path):
    with Store.open(tmp_path / "a.db") as store:
        store.upsert_posts([make_post("p1", "first text"), make_post("p2", "unscored")], {})
        h1 = store.posts_by_key([("reddit", "p1")])[("reddit", "p1")]["content_hash"]
        store.save_score_rows(
            [
                score_row("p1", "old", "opposed", "2026-03-02T00:00:00", h1),
                score_row("p1", "new", "supportive", "2026-03-03T00:00:00", h1),
            ]
        )
        view = "SELECT post_id, model_id, stance FROM scored_posts ORDER BY post_id"
        # no summaries yet: the model of the newest score
        assert list(store.db.query(view)) == [
            {"post_id": "p1", "model_id": "new", "stance": "supportive"},
            {"post_id": "p2", "model_id": None, "stance": None},
        ]
        # summaries say which model is in use
        store.save_summaries([summary_row("2026-03-01", "all", "old", "2026-03-04T00:00:00")])
        assert next(store.db.query("SELECT model_id FROM current_model"))["model_id"] == "old"
        assert next(store.db.query(view))["stance"] == "opposed"
        # a changed text has no score until it is scored again
        store.upsert_posts([make_post("p1", "edited text")], {})
        assert next(store.db.query(view))["stance"] is None


def test_thread_stance_adds_up_to_the_daily_summaries(sample_db):
    threads = rows(sample_db.db_path, "SELECT * FROM thread_stance")
    days = rows(sample_db.db_path, "SELECT * FROM daily_summary WHERE topic = 'all'")
    for column in ("volume", "relevant", "supportive", "neutral", "opposed", "speculative"):
        assert sum(t[column] for t in threads) == sum(d[column] for d in days), column
    posts = rows(sample_db.db_path, "SELECT count(DISTINCT source || thread_id) AS n FROM posts")
    assert len(threads) == posts[0]["n"]
    for t in threads:
        if t["relevant"]:
            assert t["net_stance"] == round((t["supportive"] - t["opposed"]) / t["relevant"], 4)
        else:
            assert t["net_stance"] is None
        if t["supportive"] + t["opposed"]:
            assert t["net_sentiment"] == round(
                (t["supportive"] - t["opposed"]) / (t["supportive"] + t["opposed"]), 4
            )


def test_daily_series_is_the_summaries_on_every_day(sample_db):
    series = rows(sample_db.db_path, "SELECT * FROM daily_series")
    summary = {
        (r["day"], r["topic"]): r for r in rows(sample_db.db_path, "SELECT * FROM daily_summary")
    }
    assert {(r["day"], r["topic"]) for r in series} == set(summary)
    for r in series:
        s = summary[(r["day"], r["topic"])]
        assert (r["volume"], r["relevant"], r["opposed"], r["net_stance"]) == (
            s["volume"],
            s["relevant"],
            s["opposed"],
            s["net_stance"],
        )


def test_daily_series_fills_missing_days_and_topics_with_zeros(tmp_path):
    with Store.open(tmp_path / "a.db") as store:
        store.save_summaries(
            [
                summary_row(
                    "2026-03-01",
                    "all",
                    "m",
                    "t",
                    volume=5,
                    relevant=4,
                    supportive=3,
                    net_stance=0.75,
                ),
                summary_row("2026-03-04", "hk", "m", "t", volume=2),
            ]
        )
        series = list(
            store.db.query(
                "SELECT day, topic, volume, supportive, net_stance, spike FROM daily_series "
                "ORDER BY topic, day"
            )
        )
    assert [(r["day"], r["topic"]) for r in series] == [
        (f"2026-03-0{d}", t) for t in ("all", "hk") for d in (1, 2, 3, 4)
    ]
    gap = series[1]
    assert (gap["volume"], gap["supportive"], gap["net_stance"], gap["spike"]) == (0, 0, None, 0)


def test_spikes_are_the_spike_rows_with_their_top_thread(sample_db):
    spikes = rows(sample_db.db_path, "SELECT * FROM spikes ORDER BY day, topic")
    flagged = rows(
        sample_db.db_path, "SELECT * FROM daily_summary WHERE spike = 1 ORDER BY day, topic"
    )
    assert [(s["day"], s["topic"]) for s in spikes] == [(f["day"], f["topic"]) for f in flagged]
    for s in spikes:
        top = json.loads(s["spike_threads"])[0]
        assert (s["top_thread"], s["top_thread_share"]) == (top["title"], top["share_of_extra"])


@pytest.mark.parametrize("name", list(ANALYST_QUESTIONS))
def test_analyst_questions_answer_on_the_sample_and_are_in_the_readme(sample_db, name):
    question = ANALYST_QUESTIONS[name]
    assert rows(sample_db.db_path, question["sql"]), f"{name} returned nothing"
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert question["sql"] in readme and question["title"] in readme
