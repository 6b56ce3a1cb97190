"""What a year of history needs: paged scoring, identical texts scored once, a backfill in
steps, the analysts' indexes, and benchmarks/scale.py's synthetic archives."""

from __future__ import annotations

import json
import os
import sqlite3
from collections import Counter

import pytest

from benchmarks.scale import QUERIES, build_archive, fill_scores
from jobs.pipeline import run_collect, run_score
from jobs.store import Store


def test_synthetic_archive_keeps_the_sample_shape(tmp_path):
    files = build_archive(1200, days=30, out=tmp_path / "archive")
    records = [json.loads(line) for f in files for line in f.read_text().splitlines()]
    assert len(records) == 1200
    keys = {(r["source"], r["id"]) for r in records}
    assert len(keys) == 1200
    by_key = {(r["source"], r["id"]): r for r in records}
    for r in records:
        if r["parent_id"]:  # a reply's parent is in its thread and older
            parent = by_key.get((r["source"], r["parent_id"]))
            if parent is not None:
                assert parent["thread_id"] == r["thread_id"]
                assert parent["created_utc"] <= r["created_utc"]
    texts = Counter((r["title"], r["body"]) for r in records if not r.get("deleted"))
    assert max(texts.values()) == 1  # every text distinct except [deleted] ones
    days = {r["created_utc"][:10] for r in records}
    assert 20 <= len(days) <= 30 and max(days) <= "2026-11-23"
    assert all(
        f.name == f"archive-{json.loads(f.read_text().splitlines()[0])['created_utc'][:7]}.jsonl"
        for f in files
    )


def test_pending_pages_cover_each_post_once_while_scores_are_written(settings, tmp_path):
    files = build_archive(40, days=5, out=tmp_path / "archive")
    run_collect(settings, archives=files)
    seen: list[tuple[str, str]] = []
    with Store.open(settings.db_path) as store:
        assert store.count_unscored("m") == 40
        for page in store.unscored_pages("m", 7):
            assert len(page) <= 7
            seen += [(r["source"], r["post_id"]) for r in page]
            store.save_score_rows(
                [  # scored between pages, as the pipeline does
                    {
                        "source": r["source"],
                        "post_id": r["post_id"],
                        "model_id": "m",
                        "content_hash": r["content_hash"],
                        "relevance": 0.5,
                        "relevant": 1,
                        "stance": "neutral",
                        "p_supportive": 0.2,
                        "p_neutral": 0.6,
                        "p_opposed": 0.2,
                        "speculation": 0.1,
                        "speculative": 0,
                        "scored_at": "2026-11-23T00:00:00+00:00",
                    }
                    for r in page[:3]
                ]
            )
        assert len(seen) == len(set(seen)) == 40
        assert store.count_unscored("m") == 40 - 3 * 6


def test_fill_scores_gives_every_post_a_copied_score(settings, tmp_path):
    run_collect(settings, archives=build_archive(50, days=5, out=tmp_path / "archive"))
    with Store.open(settings.db_path) as store:
        page = next(store.unscored_pages("m", 4))
        store.save_score_rows(
            [
                {
                    "source": r["source"],
                    "post_id": r["post_id"],
                    "model_id": "m",
                    "content_hash": r["content_hash"],
                    "relevance": i / 4,
                    "relevant": int(i >= 2),
                    "stance": "opposed",
                    "p_supportive": 0.1,
                    "p_neutral": 0.2,
                    "p_opposed": 0.7,
                    "speculation": 0.4,
                    "speculative": 0,
                    "scored_at": "2026-11-23T00:00:00+00:00",
                }
                for i, r in enumerate(page)
            ]
        )
    assert fill_scores(settings.db_path) == 46
    with Store.open(settings.db_path) as store:
        assert store.count_unscored("m") == 0
        assert {r["relevance"] for r in store.db.query("SELECT relevance FROM scores")} == {
            0.0,
            0.25,
            0.5,
            0.75,
        }


@pytest.mark.slow
def test_a_backfill_scores_in_steps_and_identical_texts_once(settings, tmp_path):
    archive = tmp_path / "twins.jsonl"
    rows = [
        {
            "source": "reddit",
            "id": f"t{i}",
            "kind": "post",
            "author": "a",
            "created_utc": f"2026-03-01T0{i % 10}:00:00Z",
            "title": None,
            "body": "HKMA grants stablecoin licences" if i % 2 else f"e-CNY pilot number {i}",
        }
        for i in range(12)
    ]
    archive.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    run_collect(settings, archives=[archive])
    _, scored, reused = run_score(settings, limit=4)
    assert (scored, reused) == (4, 5)  # 4 texts: the twin and 3 others; its 5 copies reused
    _, scored, reused = run_score(settings)
    assert (scored, reused) == (3, 0)
    with Store.open(settings.db_path) as store:
        assert store.count_unscored(next(store.db["scores"].rows)["model_id"]) == 0
        twins = list(
            store.db.query(
                "SELECT DISTINCT relevance, p_opposed, speculation FROM scores s JOIN posts p "
                "USING (source, post_id) WHERE p.body = 'HKMA grants stablecoin licences'"
            )
        )
        assert len(twins) == 1


@pytest.mark.parametrize(
    "name, index",
    [
        ("one author's posts", "idx_posts_author"),
        ("a community by day, last month", "idx_posts_community_day"),
        ("canned thread", "idx_posts_thread"),
    ],
)
def test_analyst_queries_use_an_index(tmp_path, name, index):
    with Store.open(tmp_path / "a.db"):
        pass
    con = sqlite3.connect(tmp_path / "a.db")
    params = {
        "day": "2026-11-23",
        "week": "2026-11-17",
        "month": "2026-10-25",
        "source": "reddit",
        "thread_id": "x",
        "author": "alice",
        "community": "r/China",
    }
    plan = " ".join(r[3] for r in con.execute("EXPLAIN QUERY PLAN " + QUERIES[name], params))
    assert index in plan and "SCAN posts" not in plan


@pytest.mark.parametrize("load, threads", [(0.3, 2), (0.99, 2), (1.2, 1), (9.0, 1)])
def test_scoring_threads_leave_busy_cores_alone(monkeypatch, load, threads):
    from jobs.model import scoring_threads

    monkeypatch.delenv("STABLEWATCH_THREADS", raising=False)
    assert scoring_threads(cores=2, load=load) == threads
    monkeypatch.setenv("STABLEWATCH_THREADS", "3")
    assert scoring_threads(cores=2, load=load) == 3


@pytest.mark.parametrize("load, own, threads", [(1.9, 1, 2), (2.9, 1, 1), (2.0, 2, 2),
                                                (3.1, 2, 1), (0.5, 0, 2)])
def test_scoring_threads_do_not_count_their_own_load(monkeypatch, load, own, threads):
    from jobs.model import scoring_threads

    monkeypatch.delenv("STABLEWATCH_THREADS", raising=False)
    assert scoring_threads(cores=2, load=load, own=own) == threads


def test_a_long_run_takes_the_core_another_job_frees(monkeypatch):
    """A run that started on one thread beside a busy job scores on two once the load says
    the job is gone, and goes back to one when it returns."""
    import types

    import torch

    from jobs.model import retune_threads

    monkeypatch.delenv("STABLEWATCH_THREADS", raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    scorer = types.SimpleNamespace(encoder=types.SimpleNamespace(threads=1))
    before = torch.get_num_threads()
    try:
        monkeypatch.setattr(os, "getloadavg", lambda: (1.4, 1.8, 1.9))  # ours + a fading job
        assert retune_threads(scorer) == 2 and scorer.encoder.threads == 2
        assert torch.get_num_threads() == 2
        monkeypatch.setattr(os, "getloadavg", lambda: (3.2, 2.5, 2.0))  # ours (2) + a new job
        assert retune_threads(scorer) == 1 and torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)
