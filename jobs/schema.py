"""The SQLite schema, one statement per table, with migrations keyed by version.

docs/schema.md describes every column for analysts; keep the two in step.
"""

from __future__ import annotations

SCHEMA_VERSION = 1

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
}
