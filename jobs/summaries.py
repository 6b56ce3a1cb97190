"""Per day and topic: volume, relevance, stance, speculation, top threads and quotes."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal, cast

from collectors.post import post_line
from jobs.baselines import DEFAULT_RULE, SpikeRule, baseline_columns
from jobs.rows import PostRow, ScoredPost, SeriesRow, SummaryRow
from jobs.store import Store

ALL_TOPICS = "all"
QUOTES_PER_STANCE = 2
TOP_THREADS = 5
SPIKE_THREADS = 3
QUOTE_CHARS = 280

StanceProb = Literal["p_supportive", "p_opposed", "p_neutral"]  # ScoredPost's columns


def summarize(store: Store, model_id: str, topics: Sequence[str] = (),
              days: Iterable[str] = (), rule: SpikeRule = DEFAULT_RULE) -> list[SummaryRow]:
    """Bring daily_summary up to date; return the rows recomputed.

    Recomputes ``days`` and every day whose posts or scores changed since its summary was
    computed (so a run killed part-way is repaired by the next one), fills every day of
    the covered range with a row per topic (zeros where a topic had no posts), and
    recomputes the trailing baselines and spikes of the whole series.
    """
    todo = set(days) | store.stale_summary_days(model_id)
    rows = summarize_days(store, todo, model_id, topics)
    rows += zero_fill(store, model_id, topics)
    update_baselines(store, rule)
    return rows


def summarize_days(store: Store, days: Iterable[str], model_id: str,
                   topics: Sequence[str] = ()) -> list[SummaryRow]:
    """Recompute and store the summary rows for each day; returns them."""
    rows: list[SummaryRow] = []
    for day in sorted(set(days)):
        rows.extend(summarize_day(store, day, model_id, topics))
    store.save_summaries(rows)
    return rows


def zero_fill(store: Store, model_id: str, topics: Sequence[str] = ()) -> list[SummaryRow]:
    """Zero rows for every (day, topic) of the covered range that has no row yet."""
    span = store.post_day_range()
    if span is None:
        return []
    have = store.summary_keys()
    names = sorted({*topics, ALL_TOPICS, *(t for _, t in have)})
    now = computed_now()
    rows = [_summary(day, topic, [], {}, model_id, now)
            for day in days_between(*span) for topic in names if (day, topic) not in have]
    store.save_summaries(rows)
    return rows


def update_baselines(store: Store, rule: SpikeRule = DEFAULT_RULE) -> None:
    """Recompute the baseline, z-score and spike columns of every summary row."""
    by_topic: dict[str, list[SeriesRow]] = defaultdict(list)
    for row in store.summary_series():
        by_topic[row["topic"]].append(row)
    updates = []
    for series in by_topic.values():
        for row, extra in zip(series, baseline_columns(series, rule), strict=True):
            threads = json.loads(row["top_threads"] or "[]") if extra["spike"] else []
            surplus = max(1.0, row["volume"] - (extra["volume_mean"] or 0.0))
            extra["spike_threads"] = json.dumps([
                {**t, "share_of_extra": round(min(1.0, t["activity"] / surplus), 3)}
                for t in threads[:SPIKE_THREADS]
            ], ensure_ascii=False)
            updates.append({"day": row["day"], "topic": row["topic"], **extra})
    store.update_summaries(updates)


def computed_now() -> str:
    """computed_at, to the microsecond: a summary computed in the same second as the last
    change to its posts still sorts after that change (stored to the second)."""
    return datetime.now(UTC).isoformat(timespec="microseconds")


def days_between(first: str, last: str) -> list[str]:
    """Every ISO day from first to last, inclusive."""
    start, end = date.fromisoformat(first), date.fromisoformat(last)
    return [(start + timedelta(days=i)).isoformat() for i in range((end - start).days + 1)]


def summarize_day(store: Store, day: str, model_id: str,
                  topics: Sequence[str] = ()) -> list[SummaryRow]:
    """Summary rows for one day: one per configured topic and topic seen that day (zeros
    where it had no posts), plus `all` for the day."""
    posts = store.scored_posts(day, model_id)
    by_topic: dict[str, list[ScoredPost]] = {t: [] for t in topics}
    for post in posts:
        if post["topic"]:
            by_topic.setdefault(post["topic"], []).append(post)
    titles = _thread_titles(store, posts)
    now = computed_now()
    rows = [
        _summary(day, topic, items, titles, model_id, now)
        for topic, items in sorted(by_topic.items())
    ]
    rows.append(_summary(day, ALL_TOPICS, posts, titles, model_id, now))
    return rows


def _summary(
    day: str,
    topic: str,
    posts: Sequence[ScoredPost],
    titles: dict[tuple[str, str], PostRow],
    model_id: str,
    now: str,
) -> SummaryRow:
    relevant = [p for p in posts if p["relevant"]]
    stances = Counter(p["stance"] for p in relevant)
    speculative = sum(1 for p in relevant if p["speculative"])
    n_rel = len(relevant)
    return {
        "day": day,
        "topic": topic,
        "model_id": model_id,
        "volume": len(posts),
        "posts": sum(1 for p in posts if p["kind"] == "post"),
        "comments": sum(1 for p in posts if p["kind"] == "comment"),
        "authors": len({(p["source"], p["author"]) for p in posts if p["author"]}),
        "relevant": n_rel,
        "relevant_share": _share(n_rel, len(posts)),
        "supportive": stances["supportive"],
        "neutral": stances["neutral"],
        "opposed": stances["opposed"],
        "net_stance": _share(stances["supportive"] - stances["opposed"], n_rel),
        "net_sentiment": _share(stances["supportive"] - stances["opposed"],
                                stances["supportive"] + stances["opposed"]),
        "speculative": speculative,
        "speculative_share": _share(speculative, n_rel),
        "top_threads": json.dumps(_top_threads(posts, titles), ensure_ascii=False),
        "quotes": json.dumps(_quotes(relevant), ensure_ascii=False),
        "computed_at": now,
    }


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _thread_titles(
    store: Store, posts: Sequence[ScoredPost]
) -> dict[tuple[str, str], PostRow]:
    """The root post of each thread the day's posts belong to (roots may be older)."""
    return store.posts_by_key(sorted({(p["source"], p["thread_id"]) for p in posts}))


def _top_threads(
    posts: Sequence[ScoredPost], titles: dict[tuple[str, str], PostRow]
) -> list[dict[str, Any]]:
    activity: Counter[tuple[str, str]] = Counter((p["source"], p["thread_id"]) for p in posts)
    relevant: Counter[tuple[str, str]] = Counter(
        (p["source"], p["thread_id"]) for p in posts if p["relevant"]
    )
    ranked = sorted(activity, key=lambda k: (-relevant[k], -activity[k], k))[:TOP_THREADS]
    threads = []
    for key in ranked:
        root: dict[str, Any] = dict(titles.get(key) or {})
        threads.append(
            {
                "source": key[0],
                "thread_id": key[1],
                "title": root.get("title") or "(thread started earlier)",
                "community": root.get("community"),
                "url": root.get("url"),
                "activity": activity[key],
                "relevant": relevant[key],
            }
        )
    return threads


def _quotes(relevant: Sequence[ScoredPost]) -> dict[str, list[dict[str, Any]]]:
    """The most confidently classified texts for each stance, as short excerpts.

    Confidence is the calibrated probability that the text is on topic and has that stance
    (relevance × p_stance; both come from temperature-scaled heads)."""
    quotes: dict[str, list[dict[str, Any]]] = {}
    for stance in ("supportive", "opposed", "neutral"):
        prob = cast(StanceProb, f"p_{stance}")

        def confidence(p: ScoredPost, prob: StanceProb = prob) -> float:
            return round((p["relevance"] or 0.0) * (p[prob] or 0.0), 4)

        candidates = [p for p in relevant if p["stance"] == stance and not p["is_deleted"]]
        candidates.sort(key=lambda p: (-confidence(p), p["post_id"]))
        quotes[stance] = [
            {
                "source": p["source"],
                "post_id": p["post_id"],
                "author": p["author"],
                "community": p["community"],
                "url": p["url"],
                "confidence": confidence(p),
                "speculative": bool(p["speculative"]),
                "text": excerpt(p["title"], p["body"]),
            }
            for p in candidates[:QUOTES_PER_STANCE]
        ]
    return quotes


def excerpt(title: str | None, body: str | None, limit: int = QUOTE_CHARS) -> str:
    text = post_line(title, body)
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
