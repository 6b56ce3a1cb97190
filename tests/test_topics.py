"""Assigning posts to configured topics, with comments inheriting their thread's topic."""

from __future__ import annotations

from datetime import UTC, datetime

from collectors.post import Post
from jobs.config import DEFAULT_TOPICS
from jobs.topics import TopicAssigner, load_topics

YUAN, HK = "yuan stablecoins", "Hong Kong stablecoin regulation"


def post(pid: str, text: str, thread: str | None = None) -> Post:
    return Post(source="reddit", id=pid, thread_id=thread or pid, parent_id=thread, author="a",
                created_utc=datetime(2026, 3, 1, tzinfo=UTC), title=None, body=text,
                kind="comment" if thread else "post")


def test_bundled_topics_load():
    topics = load_topics(DEFAULT_TOPICS)
    assert [t.name for t in topics.topics] == [YUAN, HK]
    assert any(not k.isascii() for k in topics.keywords)


def test_match_by_keywords_in_both_languages():
    assigner = TopicAssigner(load_topics(DEFAULT_TOPICS).topics)
    assert assigner.match("The HKMA opened its stablecoin licence applications") == HK
    assert assigner.match("离岸人民币稳定币要来了") == YUAN
    assert assigner.match("香港金融管理局公布穩定幣發行人名單") == HK
    assert assigner.match("Bitcoin to the moon") is None


def test_comments_inherit_thread_topic_from_batch_and_store():
    assigner = TopicAssigner(load_topics(DEFAULT_TOPICS).topics)
    batch = [post("t1", "Thoughts on the digital yuan?"), post("c1", "lol no", thread="t1"),
             post("c2", "agreed", thread="old")]
    topics = assigner.assign(batch, lambda keys: {k: HK for k in keys if k == ("reddit", "old")})
    assert topics[("reddit", "t1")] == YUAN
    assert topics[("reddit", "c1")] == YUAN
    assert topics[("reddit", "c2")] == HK
