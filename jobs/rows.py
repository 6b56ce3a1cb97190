"""The rows that cross module boundaries, named: what `jobs.store` hands out and takes in.

Each is a plain dict at run time (as sqlite-utils returns it); the names say which columns
a caller may rely on. Columns are documented in docs/schema.md.
"""

from __future__ import annotations

from typing import Any, TypedDict


class PostRow(TypedDict):
    """One `posts` row (`Store.posts_by_key`): a post, comment or entry as stored."""

    source: str
    post_id: str
    thread_id: str
    parent_id: str | None
    kind: str
    community: str | None
    author: str | None
    created_at: str
    day: str
    title: str | None
    body: str
    url: str | None
    score: int | None
    num_comments: int | None
    lang: str | None
    is_deleted: int
    topic: str | None
    content_hash: str
    collected_at: str
    updated_at: str
    search_text: str | None


class PendingPost(TypedDict):
    """A post still to score for a model (`Store.unscored`): its key and current text."""

    source: str
    post_id: str
    title: str | None
    body: str
    content_hash: str


class ScoreKey(TypedDict):
    """What a score is stored under (`Store.save_scores`): a post's key and the content hash
    of the text scored. A `PendingPost` is one; the Ray engine hands back just these."""

    source: str
    post_id: str
    content_hash: str


class ScoreRow(TypedDict):
    """One `scores` row: a post's scores under one model, for the text with `content_hash`."""

    source: str
    post_id: str
    model_id: str
    content_hash: str
    relevance: float
    relevant: int
    stance: str
    p_supportive: float
    p_neutral: float
    p_opposed: float
    speculation: float
    speculative: int
    scored_at: str


class ScoredPost(TypedDict):
    """A post of one day with its scores under one model, for summaries
    (`Store.scored_posts`); the score columns are None when the post has no current score."""

    source: str
    post_id: str
    thread_id: str
    kind: str
    community: str | None
    author: str | None
    title: str | None
    body: str
    url: str | None
    score: int | None
    topic: str | None
    is_deleted: int
    relevant: int | None
    relevance: float | None
    stance: str | None
    p_supportive: float | None
    p_neutral: float | None
    p_opposed: float | None
    speculative: int | None


class SummaryCounts(TypedDict):
    """The counts and shares every `daily_summary` row has, for one day and topic."""

    day: str
    topic: str
    model_id: str
    volume: int
    posts: int
    comments: int
    authors: int
    relevant: int
    relevant_share: float | None
    supportive: int
    neutral: int
    opposed: int
    net_stance: float | None
    net_sentiment: float | None
    speculative: int
    speculative_share: float | None


class SummaryRow(SummaryCounts):
    """The columns of a `daily_summary` row that `jobs.summaries` computes for a day and
    topic (the baseline and spike columns are set afterwards, for the whole series).
    `top_threads` and `quotes` are JSON text, as stored."""

    top_threads: str
    quotes: str
    computed_at: str


class DaySummary(SummaryCounts):
    """A whole `daily_summary` row as the digest reads it (`Store.summaries`), with
    `top_threads`, `quotes` and `spike_threads` decoded from JSON."""

    top_threads: list[dict[str, Any]]
    quotes: dict[str, list[dict[str, Any]]]
    computed_at: str
    baseline_days: int
    volume_mean: float | None
    volume_std: float | None
    volume_z: float | None
    net_stance_mean: float | None
    net_stance_std: float | None
    net_stance_z: float | None
    spike: int
    spike_note: str | None
    spike_threads: list[dict[str, Any]] | None


class SeriesPoint(TypedDict):
    """One day of one topic's series, as the digest's chart draws it
    (`Store.summaries_between`)."""

    day: str
    topic: str
    volume: int
    net_stance: float | None
    spike: int


class SeriesRow(TypedDict):
    """One day of one topic's series, as baselines and spikes are computed from it
    (`Store.summary_series`); `top_threads` is JSON text."""

    day: str
    topic: str
    volume: int
    relevant: int
    net_stance: float | None
    top_threads: str


class DigestRow(TypedDict):
    """One `digests` row: the digest written for a day and whether it was sent."""

    day: str
    subject: str
    path: str
    recipients: str
    body_hash: str
    created_at: str
    sent_at: str | None
    send_error: str | None


class RunRow(TypedDict):
    """One `runs` row as `Store.recent_runs` and `Store.latest_run` give it: `errors`
    decoded from JSON (None when there were none)."""

    run_id: int
    command: str
    day: str | None
    started_at: str
    finished_at: str | None
    status: str
    collected: int
    new_posts: int
    updated_posts: int
    scored: int
    model_id: str | None
    errors: list[str] | None
    missing_data: int
    rejected: int
    rejected_records: str | None
    comments_unexpanded: int
    pid: int | None
