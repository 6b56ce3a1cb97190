"""Ready-made queries: the questions analysts ask, as SQL over the views.

They are Datasette canned queries (datasette.yaml), documented in docs/schema.md, and the
first five are the README's "For analysts" questions. Date windows are relative to the
newest stored day, so they work on an archive or the bundled sample as on live data.
"""

from __future__ import annotations

from typing import TypedDict


class Question(TypedDict):
    title: str
    sql: str


ANALYST_QUESTIONS: dict[str, Question] = {
    "most_opposed_threads": {
        "title": "Which threads were the most opposed in the last 7 days?",
        "sql": """SELECT title, community, opposed, supportive, relevant, net_stance
FROM thread_stance
WHERE last_day >= date((SELECT MAX(day) FROM posts), '-6 days') AND relevant >= 3
ORDER BY opposed DESC, net_stance
LIMIT 5""",
    },
    "net_stance_by_topic": {
        "title": "How did net stance move day by day, per topic?",
        "sql": """SELECT day,
       MAX(CASE WHEN topic = 'all' THEN volume END) AS volume,
       MAX(CASE WHEN topic = 'yuan stablecoins' THEN net_stance END) AS yuan,
       MAX(CASE WHEN topic = 'Hong Kong stablecoin regulation' THEN net_stance END) AS hk,
       MAX(CASE WHEN topic = 'all' THEN net_sentiment END) AS net_sentiment
FROM daily_series
GROUP BY day
ORDER BY day""",
    },
    "spike_drivers": {
        "title": "Which days spiked, and which threads drove each spike?",
        "sql": """SELECT s.day, s.topic, s.volume, round(s.volume_z, 1) AS volume_z,
       json_extract(t.value, '$.title') AS thread,
       json_extract(t.value, '$.share_of_extra') AS share_of_extra
FROM spikes s, json_each(s.spike_threads) t
ORDER BY s.day, s.topic, t.key""",
    },
    "speculative_communities": {
        "title": "Where is the on-topic talk most speculative, and which way does it lean?",
        "sql": """SELECT community, count(*) AS on_topic,
       round(avg(speculative), 2) AS speculative_share,
       sum(stance = 'supportive') AS supportive, sum(stance = 'opposed') AS opposed
FROM scored_posts
WHERE relevant = 1
GROUP BY community
HAVING count(*) >= 10
ORDER BY speculative_share DESC""",
    },
    "stablecoin_mentions_by_day": {
        "title": "Posts that mention 稳定币 in either script (稳定币 or 穩定幣), by day and stance",
        "sql": """SELECT day, count(*) AS mentions,
       sum(relevant AND stance = 'supportive') AS supportive,
       sum(relevant AND stance = 'opposed') AS opposed
FROM scored_posts
WHERE post_rowid IN (SELECT rowid FROM posts_fts WHERE posts_fts MATCH '"稳定币"')
GROUP BY day
ORDER BY day""",
    },
}

MORE_QUERIES: dict[str, Question] = {
    "mentions": {
        "title": "Posts containing a text of any length, in any script it was indexed in "
        "(LIKE: also finds 1-2 character words such as 港币, which the search box "
        "cannot)",
        "sql": """SELECT sp.day, sp.source, sp.community, sp.stance, sp.relevant, sp.title,
       sp.body, sp.url
FROM scored_posts sp JOIN posts p ON p.rowid = sp.post_rowid
WHERE p.title LIKE '%' || :text || '%' OR p.body LIKE '%' || :text || '%'
   OR p.search_text LIKE '%' || :text || '%'
ORDER BY sp.created_at DESC
LIMIT 200""",
    },
    "stance_by_day": {
        "title": "Net stance and speculation by day and topic",
        "sql": "SELECT day, topic, volume, relevant, supportive, neutral, opposed, net_stance, "
        "speculative_share FROM daily_summary ORDER BY day DESC, topic",
    },
    "latest_opposed": {
        "title": "Most confidently opposed on-topic texts",
        # IS keeps the view's LEFT JOIN a left join, so SQLite walks posts newest day first
        # and stops after 100 rows: 0.09 s instead of 2 s on 1M posts (docs/scale.md)
        "sql": "SELECT day, community, author, title, body, p_opposed, url FROM scored_posts "
        "WHERE relevant IS 1 AND stance IS 'opposed' ORDER BY day DESC, p_opposed DESC "
        "LIMIT 100",
    },
    "thread": {
        "title": "One thread, oldest first",
        "sql": "SELECT post_id, parent_id, author, created_at, title, body, score FROM posts "
        "WHERE source = :source AND thread_id = :thread_id ORDER BY created_at",
    },
}

CANNED_QUERIES: dict[str, Question] = {**ANALYST_QUESTIONS, **MORE_QUERIES}
