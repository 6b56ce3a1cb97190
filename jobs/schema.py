"""The SQLite schema, one statement per table, with migrations keyed by version.

docs/schema.md describes every column for analysts; keep the two in step.
"""

from __future__ import annotations

SCHEMA_VERSION = 6

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
    # Full-text search and views for analysts. posts_fts and its triggers are exactly what
    # sqlite-utils' enable_fts(["title", "body", "search_text"], create_triggers=True,
    # tokenize="trigram") creates (tests/test_search.py checks), so sqlite-utils and
    # Datasette find the index. stablewatch_search_text() is registered by Store.open.
    4: """
ALTER TABLE posts ADD COLUMN search_text TEXT;
UPDATE posts SET search_text = stablewatch_search_text(title, body);
CREATE VIRTUAL TABLE "posts_fts" USING FTS5 (
    "title", "body", "search_text",
    tokenize='trigram',
    content="posts"
);
INSERT INTO "posts_fts" ("posts_fts") VALUES ('rebuild');
CREATE TRIGGER "posts_ai" AFTER INSERT ON "posts" BEGIN
  INSERT INTO "posts_fts" (rowid, "title", "body", "search_text")
  VALUES (new.rowid, new."title", new."body", new."search_text");
END;
CREATE TRIGGER "posts_ad" AFTER DELETE ON "posts" BEGIN
  INSERT INTO "posts_fts" ("posts_fts", rowid, "title", "body", "search_text")
  VALUES ('delete', old.rowid, old."title", old."body", old."search_text");
END;
CREATE TRIGGER "posts_au" AFTER UPDATE ON "posts" BEGIN
  INSERT INTO "posts_fts" ("posts_fts", rowid, "title", "body", "search_text")
  VALUES ('delete', old.rowid, old."title", old."body", old."search_text");
  INSERT INTO "posts_fts" (rowid, "title", "body", "search_text")
  VALUES (new.rowid, new."title", new."body", new."search_text");
END;

CREATE INDEX IF NOT EXISTS idx_summary_computed ON daily_summary (computed_at);

CREATE VIEW current_model AS
SELECT COALESCE(
    (SELECT model_id FROM daily_summary ORDER BY computed_at DESC LIMIT 1),
    (SELECT model_id FROM scores ORDER BY scored_at DESC LIMIT 1)
) AS model_id;

CREATE VIEW scored_posts AS
SELECT p.day, p.created_at, p.source, p.post_id, p.thread_id, p.parent_id, p.kind,
       p.community, p.author, p.topic, p.lang, p.title, p.body, p.url, p.score,
       p.is_deleted, s.model_id, s.relevance, s.relevant, s.stance, s.p_supportive,
       s.p_neutral, s.p_opposed, s.speculation, s.speculative, p.rowid AS post_rowid
FROM posts p
LEFT JOIN scores s ON s.source = p.source AND s.post_id = p.post_id
                  AND s.model_id = (SELECT model_id FROM current_model)
                  AND s.content_hash = p.content_hash;

CREATE VIEW thread_stance AS
SELECT t.source, t.thread_id, r.title, r.community, r.topic, r.url, t.first_day,
       t.last_day, t.volume, t.authors, t.relevant, t.supportive, t.neutral, t.opposed,
       ROUND(1.0 * (t.supportive - t.opposed) / NULLIF(t.relevant, 0), 4) AS net_stance,
       ROUND(1.0 * (t.supportive - t.opposed) / NULLIF(t.supportive + t.opposed, 0), 4)
           AS net_sentiment,
       t.speculative,
       ROUND(1.0 * t.speculative / NULLIF(t.relevant, 0), 4) AS speculative_share
FROM (
    SELECT source, thread_id, MIN(day) AS first_day, MAX(day) AS last_day,
           COUNT(*) AS volume, COUNT(DISTINCT author) AS authors,
           COUNT(CASE WHEN relevant THEN 1 END) AS relevant,
           COUNT(CASE WHEN relevant AND stance = 'supportive' THEN 1 END) AS supportive,
           COUNT(CASE WHEN relevant AND stance = 'neutral' THEN 1 END) AS neutral,
           COUNT(CASE WHEN relevant AND stance = 'opposed' THEN 1 END) AS opposed,
           COUNT(CASE WHEN relevant AND speculative THEN 1 END) AS speculative
    FROM scored_posts
    GROUP BY source, thread_id
) t
LEFT JOIN posts r ON r.source = t.source AND r.post_id = t.thread_id;

CREATE VIEW daily_series AS
WITH RECURSIVE span(day) AS (
    SELECT MIN(day) FROM daily_summary
    UNION ALL
    SELECT date(day, '+1 day') FROM span WHERE day < (SELECT MAX(day) FROM daily_summary)
),
topics(topic) AS (SELECT DISTINCT topic FROM daily_summary)
SELECT span.day, topics.topic, COALESCE(d.volume, 0) AS volume,
       COALESCE(d.relevant, 0) AS relevant, COALESCE(d.supportive, 0) AS supportive,
       COALESCE(d.neutral, 0) AS neutral, COALESCE(d.opposed, 0) AS opposed,
       d.net_stance, d.net_sentiment, COALESCE(d.speculative, 0) AS speculative,
       d.speculative_share, d.volume_z, d.net_stance_z, COALESCE(d.spike, 0) AS spike
FROM span CROSS JOIN topics
LEFT JOIN daily_summary d ON d.day = span.day AND d.topic = topics.topic;

CREATE VIEW spikes AS
SELECT day, topic, volume, volume_mean, volume_z, relevant, net_stance, net_stance_mean,
       net_stance_z, spike_note,
       json_extract(spike_threads, '$[0].title') AS top_thread,
       json_extract(spike_threads, '$[0].url') AS top_thread_url,
       json_extract(spike_threads, '$[0].share_of_extra') AS top_thread_share,
       spike_threads
FROM daily_summary
WHERE spike = 1;
""",
    # runs: 'aborted' (SIGTERM) and 'crashed' (found 'running' after its process died) need
    # a new CHECK, which SQLite can only get by rebuilding the table; plus the comments left
    # unexpanded and the process id.
    5: """
CREATE TABLE runs_v5 (
    run_id        INTEGER PRIMARY KEY AUTOINCREMENT,
    command       TEXT NOT NULL,
    day           TEXT,
    started_at    TEXT NOT NULL,
    finished_at   TEXT,
    status        TEXT NOT NULL DEFAULT 'running'
                  CHECK (status IN ('running', 'ok', 'partial', 'failed', 'aborted', 'crashed')),
    collected     INTEGER NOT NULL DEFAULT 0,
    new_posts     INTEGER NOT NULL DEFAULT 0,
    updated_posts INTEGER NOT NULL DEFAULT 0,
    scored        INTEGER NOT NULL DEFAULT 0,
    model_id      TEXT,
    errors        TEXT,
    missing_data  INTEGER NOT NULL DEFAULT 0,
    rejected      INTEGER NOT NULL DEFAULT 0,
    rejected_records TEXT,
    comments_unexpanded INTEGER NOT NULL DEFAULT 0,
    pid           INTEGER
);
INSERT INTO runs_v5 (run_id, command, day, started_at, finished_at, status, collected,
                     new_posts, updated_posts, scored, model_id, errors, missing_data,
                     rejected, rejected_records)
    SELECT run_id, command, day, started_at, finished_at, status, collected,
           new_posts, updated_posts, scored, model_id, errors, missing_data,
           rejected, rejected_records FROM runs;
DROP TABLE runs;
ALTER TABLE runs_v5 RENAME TO runs;
""",
    # indexes for the analysts' typical queries over a year of posts (docs/scale.md)
    6: """
CREATE INDEX IF NOT EXISTS idx_posts_author ON posts (author, created_at);
CREATE INDEX IF NOT EXISTS idx_posts_community_day ON posts (community, day);
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
            "source": "Where it came from: reddit, hackernews, discourse:HOST (a live "
            "Discourse forum, e.g. discourse:ethresear.ch), feed (RSS/Atom); a replayed "
            "archive keeps each record's own source (the sample uses discourse).",
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
            "content_hash": "Hash of the text the classifier scores (the title, a blank line, "
                            "the body); a score applies to this exact text.",
            "collected_at": "When stablewatch first stored it, ISO-8601 UTC.",
            "updated_at": "When stablewatch last changed it, ISO-8601 UTC.",
            "search_text": "Title and body folded for search when they hold Chinese or "
            "full-width text: simplified, Hong Kong traditional and Taiwan traditional "
            "spellings (OpenCC), so a search in either script finds both; NULL for plain "
            "text. Indexed by posts_fts.",
        },
    ),
    "posts_fts": (
        "Full-text index of posts (FTS5, trigram tokenizer, external content: posts), kept "
        "in step by the triggers posts_ai, posts_ad and posts_au. Every substring of 3 or "
        "more characters is searchable, in any case; join on posts.rowid.",
        {
            "title": "posts.title.",
            "body": "posts.body.",
            "search_text": "posts.search_text: the Chinese text in every script.",
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
            "stance": "supportive, neutral or opposed toward yuan stablecoins / HK's regime. "
            "neutral also covers off-topic texts (relevant = 0): count stances where "
            "relevant = 1, as daily_summary does.",
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
            "status": "running, ok, partial (some source or the email failed), failed, "
            "aborted (stopped by SIGTERM or Ctrl-C) or crashed (found still 'running' by a "
            "later run: its process was killed or the machine stopped).",
            "collected": "Posts fetched (new + updated + unchanged).",
            "new_posts": "Posts stored for the first time.",
            "updated_posts": "Posts whose text, score or flags changed.",
            "scored": "Texts the classifier scored in this run.",
            "model_id": "Classifier artefact in use.",
            "errors": "JSON list of error messages (strings, e.g. \"reddit: ...\"), NULL "
            "when none.",
            "missing_data": "1 when every live source failed, so the day has no data (not a "
            "quiet day); the digest says so. 0 otherwise and for archive replays.",
            "rejected": "Records not stored because they were invalid (bad JSON, a bad "
            "field, a time in the future or before the source existed); every one is named "
            "in rejected_records.",
            "rejected_records": "JSON list of {source, where, reason} for every rejected "
            "record: where is file:line for archives, '<cursor key> id <id>' for live "
            "sources; NULL when none. Query with json_each(rejected_records).",
            "comments_unexpanded": "Comments left behind Reddit's \"load more comments\" "
            "stubs when the request budget or deadline ran out (or replace_more_limit capped "
            "it); 0 when every collected thread is complete.",
            "pid": "Process id of the run (for matching a crashed run with system logs).",
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
            "top_threads": "JSON list of the most active threads that day, most on-topic "
            "texts first (keys under JSON columns below).",
            "quotes": "JSON object: for each stance, the most confidently classified "
            "on-topic excerpts (keys under JSON columns below).",
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
            "spike_threads": "JSON list: on a spike day, the most active threads (the keys of "
            "top_threads plus share_of_extra); [] otherwise.",
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

_STANCE_COUNTS = {
    "relevant": "On-topic texts (scores.relevant = 1).",
    "supportive": "On-topic texts classified supportive.",
    "neutral": "On-topic texts classified neutral.",
    "opposed": "On-topic texts classified opposed.",
    "net_stance": "(supportive - opposed) / relevant, -1 to +1; NULL when nothing was on "
    "topic. Neutral texts pull it toward 0.",
    "net_sentiment": "(supportive - opposed) / (supportive + opposed), -1 to +1; ignores "
    "neutral texts; NULL when none was supportive or opposed.",
    "speculative": "On-topic texts classified speculative.",
    "speculative_share": "speculative / relevant.",
}

# The views: questions analysts ask, without knowing how scores join to posts.
VIEW_DESCRIPTIONS: dict[str, tuple[str, dict[str, str]]] = {
    "current_model": (
        "One row: the classifier whose scores the views use, the model of the newest "
        "summary (else of the newest score).",
        {"model_id": "scores.model_id; NULL before anything was scored."},
    ),
    "scored_posts": (
        "One row per post with its current-model scores (NULL while its current text is "
        "unscored): posts joined to scores on source, post_id, model_id and content_hash. "
        "Searchable in Datasette through posts_fts.",
        {
            "day": "posts.day.",
            "created_at": "posts.created_at.",
            "source": "posts.source.",
            "post_id": "posts.post_id.",
            "thread_id": "posts.thread_id.",
            "parent_id": "posts.parent_id.",
            "kind": "posts.kind.",
            "community": "posts.community.",
            "author": "posts.author.",
            "topic": "posts.topic.",
            "lang": "posts.lang.",
            "title": "posts.title.",
            "body": "posts.body.",
            "url": "posts.url.",
            "score": "posts.score.",
            "is_deleted": "posts.is_deleted.",
            "model_id": "current_model.model_id when scored.",
            "relevance": "scores.relevance.",
            "relevant": "scores.relevant.",
            "stance": "scores.stance (neutral also for off-topic texts).",
            "p_supportive": "scores.p_supportive.",
            "p_neutral": "scores.p_neutral.",
            "p_opposed": "scores.p_opposed.",
            "speculation": "scores.speculation.",
            "speculative": "scores.speculative.",
            "post_rowid": "posts.rowid, the key of posts_fts "
            "(WHERE post_rowid IN (SELECT rowid FROM posts_fts WHERE posts_fts MATCH ...)).",
        },
    ),
    "thread_stance": (
        "One row per thread: its stance mix over all its stored posts and comments, "
        "scored by the current model.",
        {
            "source": "posts.source.",
            "thread_id": "posts.thread_id.",
            "title": "Title of the root post; NULL when the root was not collected.",
            "community": "Community of the root post.",
            "topic": "Topic of the root post.",
            "url": "Link to the root post.",
            "first_day": "Day of the thread's oldest stored text.",
            "last_day": "Day of its newest stored text.",
            "volume": "Posts and comments stored.",
            "authors": "Distinct authors.",
            **_STANCE_COUNTS,
        },
    ),
    "daily_series": (
        "daily_summary's counts for every day from the first to the last summary and every "
        "topic (and 'all'), zeros on days without a row: ready to chart.",
        {
            "day": "UTC date.",
            "topic": "Topic name, or 'all'.",
            "volume": "Posts and comments created that day (0 when none).",
            **_STANCE_COUNTS,
            "volume_z": "daily_summary.volume_z.",
            "net_stance_z": "daily_summary.net_stance_z.",
            "spike": "daily_summary.spike (0 when no row).",
        },
    ),
    "spikes": (
        "The spike days (daily_summary.spike = 1), with the thread that drove each most.",
        {
            "day": "UTC date.",
            "topic": "Topic name, or 'all'.",
            "volume": "Posts and comments that day.",
            "volume_mean": "Mean volume of the baseline days.",
            "volume_z": "daily_summary.volume_z.",
            "relevant": "On-topic texts that day.",
            "net_stance": "daily_summary.net_stance.",
            "net_stance_mean": "Mean net stance of the baseline days.",
            "net_stance_z": "daily_summary.net_stance_z.",
            "spike_note": "Why it is a spike.",
            "top_thread": "Title of the thread with the most activity that day.",
            "top_thread_url": "Its link.",
            "top_thread_share": "Its share_of_extra: its posts / (volume - volume_mean).",
            "spike_threads": "daily_summary.spike_threads (JSON).",
        },
    ),
}

# The keys inside the JSON columns (tests/test_schema_docs.py checks them on real rows).
_THREAD_KEYS = {
    "source": "posts.source of the thread.",
    "thread_id": "posts.thread_id.",
    "title": "Title of the root post, or \"(thread started earlier)\" when it was not "
    "collected.",
    "community": "Community of the root post (null when not collected).",
    "url": "Link to the root post (null when not collected).",
    "activity": "The thread's posts and comments created that day (in that topic).",
    "relevant": "Of those, the on-topic ones.",
}
JSON_KEYS: dict[tuple[str, str], tuple[str, dict[str, str]]] = {
    ("daily_summary", "top_threads"): (
        "A list of up to 5 objects, most on-topic texts first, then most activity:",
        _THREAD_KEYS,
    ),
    ("daily_summary", "spike_threads"): (
        "On a spike day, a list of up to 3 objects (the first top_threads), with:",
        {**_THREAD_KEYS,
         "share_of_extra": "activity / (volume - volume_mean), capped at 1: how much of "
         "the day's extra volume this thread explains."},
    ),
    ("daily_summary", "quotes"): (
        "An object with the keys supportive, opposed and neutral, each a list of up to 2 "
        "on-topic, not deleted texts of that stance, most confident first:",
        {
            "source": "posts.source.",
            "post_id": "posts.post_id.",
            "author": "posts.author.",
            "community": "posts.community.",
            "url": "posts.url.",
            "confidence": "relevance × p_<stance>, rounded to 4 places.",
            "speculative": "true when scores.speculative = 1.",
            "text": "Title — body on one line, cut to 280 characters.",
        },
    ),
    ("runs", "rejected_records"): (
        "A list of objects, one per record that was not stored (json_each() lists them):",
        {
            "source": "The collector: archive, reddit, hackernews, discourse, feed.",
            "where": "file:line for an archive, '<cursor key> id <id>' for a live source.",
            "reason": "Why it was rejected.",
        },
    ),
    ("runs", "errors"): (
        "A list of strings, one per error (source, digest or retry failures); NULL when "
        "none.",
        {},
    ),
}
