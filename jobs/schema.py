"""The SQLite schema, one statement per table, with migrations keyed by version.

docs/schema.md describes every column for analysts; keep the two in step.
"""

from __future__ import annotations

SCHEMA_VERSION = 3

MIGRATIONS: dict[int, str] = {
    1: """
CREATE TABLE IF NOT EXISTS posts (
    source        TEXT NOT NULL,
    post_id       TEXT NOT NULL,
    thread_id     TEXT NOT NULL,
    parent_id     TEXT,
    kind          TEXT NOT NULL CHECK (kind IN ('post', 'comment')),
    community     TEXT,
    author        TEXT,
    created_at    TEXT NOT NULL,
    day           TEXT NOT NULL,
    title         TEXT,
    body          TEXT NOT NULL,
    url           TEXT,
    score         INTEGER,
    num_comments  INTEGER,
    lang          TEXT,
    is_deleted    INTEGER NOT NULL DEFAULT 0,
    topic         TEXT,
    content_hash  TEXT NOT NULL,
    collected_at  TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    PRIMARY KEY (source, post_id)
);
CREATE INDEX IF NOT EXISTS idx_posts_day_topic ON posts (day, topic);
CREATE INDEX IF NOT EXISTS idx_posts_thread ON posts (source, thread_id);

CREATE TABLE IF NOT EXISTS scores (
    source          TEXT NOT NULL,
    post_id         TEXT NOT NULL,
    model_id        TEXT NOT NULL,
    content_hash    TEXT NOT NULL,
    relevance       REAL NOT NULL,
    relevant        INTEGER NOT NULL,
    stance          TEXT NOT NULL CHECK (stance IN ('supportive', 'neutral', 'opposed')),
    p_supportive    REAL NOT NULL,
    p_neutral       REAL NOT NULL,
    p_opposed       REAL NOT NULL,
    speculation     REAL NOT NULL,
    speculative     INTEGER NOT NULL,
    scored_at       TEXT NOT NULL,
    PRIMARY KEY (source, post_id, model_id),
    FOREIGN KEY (source, post_id) REFERENCES posts (source, post_id) ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS idx_scores_hash ON scores (content_hash, model_id);

CREATE TABLE IF NOT EXISTS cursors (
    collector   TEXT NOT NULL,
    key         TEXT NOT NULL,
    value       TEXT,
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (collector, key)
);

CREATE TABLE IF NOT EXISTS runs (
    run_id        INTEGER PRIMARY KEY AUTOINCREMENT,
    command       TEXT NOT NULL,
    day           TEXT,
    started_at    TEXT NOT NULL,
    finished_at   TEXT,
    status        TEXT NOT NULL DEFAULT 'running'
                  CHECK (status IN ('running', 'ok', 'partial', 'failed')),
    collected     INTEGER NOT NULL DEFAULT 0,
    new_posts     INTEGER NOT NULL DEFAULT 0,
    updated_posts INTEGER NOT NULL DEFAULT 0,
    scored        INTEGER NOT NULL DEFAULT 0,
    model_id      TEXT,
    errors        TEXT
);

CREATE TABLE IF NOT EXISTS daily_summary (
    day                TEXT NOT NULL,
    topic              TEXT NOT NULL,
    model_id           TEXT NOT NULL,
    volume             INTEGER NOT NULL,
    posts              INTEGER NOT NULL,
    comments           INTEGER NOT NULL,
    authors            INTEGER NOT NULL,
    relevant           INTEGER NOT NULL,
    relevant_share     REAL,
    supportive         INTEGER NOT NULL,
    neutral            INTEGER NOT NULL,
    opposed            INTEGER NOT NULL,
    net_stance         REAL,
    speculative        INTEGER NOT NULL,
    speculative_share  REAL,
    top_threads        TEXT NOT NULL,
    quotes             TEXT NOT NULL,
    computed_at        TEXT NOT NULL,
    PRIMARY KEY (day, topic)
);

CREATE TABLE IF NOT EXISTS digests (
    day         TEXT PRIMARY KEY,
    subject     TEXT NOT NULL,
    path        TEXT NOT NULL,
    recipients  TEXT NOT NULL,
    body_hash   TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    sent_at     TEXT,
    send_error  TEXT
);
""",
    2: """
ALTER TABLE daily_summary ADD COLUMN net_sentiment REAL;
ALTER TABLE daily_summary ADD COLUMN baseline_days INTEGER NOT NULL DEFAULT 0;
ALTER TABLE daily_summary ADD COLUMN volume_mean REAL;
ALTER TABLE daily_summary ADD COLUMN volume_std REAL;
ALTER TABLE daily_summary ADD COLUMN volume_z REAL;
ALTER TABLE daily_summary ADD COLUMN net_stance_mean REAL;
ALTER TABLE daily_summary ADD COLUMN net_stance_std REAL;
ALTER TABLE daily_summary ADD COLUMN net_stance_z REAL;
ALTER TABLE daily_summary ADD COLUMN spike INTEGER NOT NULL DEFAULT 0;
ALTER TABLE daily_summary ADD COLUMN spike_note TEXT;
ALTER TABLE daily_summary ADD COLUMN spike_threads TEXT NOT NULL DEFAULT '[]';
ALTER TABLE runs ADD COLUMN missing_data INTEGER NOT NULL DEFAULT 0;
""",
    3: """
ALTER TABLE runs ADD COLUMN rejected INTEGER NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN rejected_records TEXT;
""",
}

def ddl() -> str:
    """Every migration in order: the statements that build the current schema."""
    return "\n".join(f"-- version {v}\n{MIGRATIONS[v].strip()}\n" for v in sorted(MIGRATIONS))


# Human descriptions of every table and column: the source for docs/schema.md and for
# `stablewatch metadata` (Datasette metadata). A test checks they cover the live schema.
DESCRIPTIONS: dict[str, tuple[str, dict[str, str]]] = {
    "posts": (
        "Every collected post and comment, one row per (source, post_id), updated in place "
        "when re-collected.",
        {
            "source": "Where it came from: reddit, hackernews, discourse, feed.",
            "post_id": "The source's own id (Reddit base36 id, HN item id, ...).",
            "thread_id": "post_id of the thread's root post; rebuild threads with it.",
            "parent_id": "post_id of the post this replies to; NULL for a root post.",
            "kind": "post (a thread root: submission, story, topic, feed entry) or comment.",
            "community": "Subreddit (r/...), forum or feed name; one plain line.",
            "author": "Author name as the source shows it, as one plain line (markup, "
                      "control characters and line breaks removed); NULL when deleted.",
            "created_at": "When it was posted, ISO-8601 UTC. A source time without a "
                          "timezone is rejected, never guessed; so is one more than a day "
                          "ahead or before the source existed.",
            "day": "UTC date of created_at (YYYY-MM-DD); summaries group by it.",
            "title": "Title of a thread root, one plain line; NULL for comments.",
            "body": "Plain text: HTML and scripts removed (also when entity-encoded), entities "
                    "unescaped, control characters removed, line breaks are \\n, bounded "
                    "length.",
            "url": "Link to the post on its site; http(s) only (other schemes are dropped).",
            "score": "Score or points at the last collection.",
            "num_comments": "Comment count the source reported for a root post.",
            "lang": "Language code (en, zh, ...), from the source or a script-based guess.",
            "is_deleted": "1 when the source now shows it deleted or removed; "
                          "earlier text is kept.",
            "topic": "Configured topic it belongs to (keywords, else its thread's topic); "
                     "NULL when none.",
            "content_hash": "Hash of title and body; a score applies to this exact text.",
            "collected_at": "When stablewatch first stored it, ISO-8601 UTC.",
            "updated_at": "When stablewatch last changed it, ISO-8601 UTC.",
        },
    ),
    "scores": (
        "Classifier output, one row per post and model; join to posts on (source, post_id) "
        "and keep rows whose content_hash equals the post's.",
        {
            "source": "posts.source.",
            "post_id": "posts.post_id.",
            "model_id": "The classifier artefact that produced the row (data/models/*/meta.json).",
            "content_hash": "posts.content_hash of the text that was scored.",
            "relevance": "Probability (0-1) that the text is on topic per the labelling guide.",
            "relevant": "1 when relevance >= 0.5.",
            "stance": "supportive, neutral or opposed toward yuan stablecoins / HK's regime; "
                      "neutral when not relevant.",
            "p_supportive": "Probability of a supportive stance.",
            "p_neutral": "Probability of a neutral stance.",
            "p_opposed": "Probability of an opposed stance.",
            "speculation": "Probability (0-1) that the text is speculative rather than factual.",
            "speculative": "1 when speculation >= 0.5.",
            "scored_at": "When the row was written, ISO-8601 UTC.",
        },
    ),
    "cursors": (
        "Incremental collection state, saved only after the posts it covers are committed.",
        {
            "collector": "Collector name: reddit, hackernews, discourse, feed, archive.",
            "key": "What the cursor covers: a subreddit listing, a search query, a feed URL, "
            "or an archive as archive:<resolved path>#<hash of its first line>.",
            "value": "Newest created time covered (ISO-8601 UTC); never more than a day "
            "ahead of the run.",
            "updated_at": "When it last moved.",
        },
    ),
    "runs": (
        "Audit log: one row per `stablewatch daily` or `collect` run, including failed ones.",
        {
            "run_id": "Run number.",
            "command": "The command that ran.",
            "day": "The day it summarized (YYYY-MM-DD, UTC); NULL for collect.",
            "started_at": "Start, ISO-8601 UTC.",
            "finished_at": "End, ISO-8601 UTC; NULL while running or if killed.",
            "status": "running, ok, partial (some source or the email failed) or failed.",
            "collected": "Posts fetched (new + updated + unchanged).",
            "new_posts": "Posts stored for the first time.",
            "updated_posts": "Posts whose text, score or flags changed.",
            "scored": "Texts the classifier scored in this run.",
            "model_id": "Classifier artefact in use.",
            "errors": "JSON list of error messages, NULL when none.",
            "missing_data": "1 when every live source failed, so the day has no data (not a "
            "quiet day); the digest says so. 0 otherwise and for archive replays.",
            "rejected": "Records not stored because they were invalid (bad JSON, a bad "
            "field, a time in the future or before the source existed); every one is named "
            "in rejected_records.",
            "rejected_records": "JSON list of {source, where, reason} for every rejected "
            "record: where is file:line for archives, '<cursor key> id <id>' for live "
            "sources; NULL when none. Query with json_each(rejected_records).",
        },
    ),
    "daily_summary": (
        "One row per UTC day and topic (plus topic 'all' for the whole day).",
        {
            "day": "UTC date, YYYY-MM-DD.",
            "topic": "Configured topic name, or 'all'.",
            "model_id": "Classifier artefact whose scores were used.",
            "volume": "Posts and comments created that day.",
            "posts": "Thread roots created that day.",
            "comments": "Comments created that day.",
            "authors": "Distinct authors that day.",
            "relevant": "Texts classified on topic.",
            "relevant_share": "relevant / volume.",
            "supportive": "On-topic texts classified supportive.",
            "neutral": "On-topic texts classified neutral.",
            "opposed": "On-topic texts classified opposed.",
            "net_stance": "(supportive - opposed) / relevant, from -1 to +1: neutral texts "
            "pull it toward 0 (a mostly-neutral day reads near 0 even if every opinion is one-"
            "sided). NULL when nothing was on topic.",
            "speculative": "On-topic texts classified speculative.",
            "speculative_share": "speculative / relevant.",
            "top_threads": "JSON list of the most active threads that day (title, url, counts).",
            "quotes": "JSON object: for each stance, the most confidently classified excerpts.",
            "computed_at": "When the row was computed, ISO-8601 UTC to the microsecond.",
            "net_sentiment": "(supportive - opposed) / (supportive + opposed), from -1 to +1: "
            "what social-listening tools call net sentiment; ignores neutral texts, so it "
            "swings more on days with few opinions. NULL when none was supportive or opposed.",
            "baseline_days": "Days in the trailing baseline (the 14 days before, fewer at the "
            "start of the series; zero-filled days count).",
            "volume_mean": "Mean volume over the baseline days.",
            "volume_std": "Sample standard deviation of volume over the baseline days.",
            "volume_z": "(volume - volume_mean) / max(volume_std, sqrt(volume_mean), 1).",
            "net_stance_mean": "Mean net_stance over baseline days with on-topic texts.",
            "net_stance_std": "Its sample standard deviation.",
            "net_stance_z": "(net_stance - net_stance_mean) / max(net_stance_std, 0.05).",
            "spike": "1 when volume_z >= 3 with volume >= 20, or abs(net_stance_z) >= 3 with "
            "relevant >= 10, and at least 7 baseline days had posts; else 0.",
            "spike_note": "Why the day is a spike, or why it cannot be one (too little "
            "history); NULL otherwise.",
            "spike_threads": "JSON list: on a spike day, the most active threads with "
            "share_of_extra (their posts / (volume - volume_mean)); [] otherwise.",
        },
    ),
    "digests": (
        "One row per digest day: where the email was written and whether it was sent.",
        {
            "day": "UTC date the digest covers.",
            "subject": "Email subject.",
            "path": "The .eml file in the outbox.",
            "recipients": "Comma-separated To: addresses.",
            "body_hash": "Hash of the content; an unchanged digest is not sent twice.",
            "created_at": "When this content was first written.",
            "sent_at": "When it was sent over SMTP; NULL when not sent.",
            "send_error": "Why sending failed, if it did.",
        },
    ),
    "schema_version": (
        "Applied schema migrations.",
        {"version": "Schema version number.", "applied_at": "When it was applied."},
    ),
}
