"""Topics (topics.toml): what to watch, read and validated (`load_topics`), and which
topic each post belongs to (`TopicAssigner`)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from collectors.match import KeywordMatcher
from collectors.post import Post
from jobs.config import read_toml, validate
from jobs.config_schema import topics_model

Key = tuple[str, str]


@dataclass(frozen=True)
class Topic:
    name: str
    keywords: list[str]
    subreddits: list[str] = field(default_factory=list)
    queries: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Topics:
    """The parsed topics.toml."""

    topics: list[Topic]
    forums: list[dict[str, Any]]
    reddit: dict[str, Any]
    lookback_days: int = 3
    revisit_days: int = 3
    source_deadline: float = 600.0  # seconds one source may spend; `deadline` per source
    run_deadline: float = 1200.0  # seconds all sources together may spend

    @property
    def keywords(self) -> list[str]:
        return [k for t in self.topics for k in t.keywords]


def load_topics(path: Path) -> Topics:
    """Read and validate a topics.toml file (see jobs/config_schema.py)."""
    parsed: Any = validate(topics_model(), read_toml(path), path)
    return Topics(
        topics=[
            Topic(name=t.name, keywords=list(t.keywords), subreddits=list(t.subreddits),
                  queries=list(t.queries))
            for t in parsed.topics
        ],
        forums=[f.model_dump(exclude_unset=True) | {"kind": f.kind} for f in parsed.forums],
        reddit=parsed.reddit.model_dump(exclude_unset=True),
        lookback_days=parsed.collect.lookback_days,
        revisit_days=parsed.collect.revisit_days,
        source_deadline=parsed.collect.source_deadline,
        run_deadline=parsed.collect.run_deadline,
    )


class TopicAssigner:
    """A post's topic: the topic whose keywords it mentions most, else its thread's topic."""

    def __init__(self, topics: Sequence[Topic]) -> None:
        self.matchers = [(t.name, KeywordMatcher(t.keywords)) for t in topics]

    def match(self, text: str) -> str | None:
        best, best_hits = None, 0
        for name, matcher in self.matchers:
            hits = len(matcher.found(text))
            if hits > best_hits:
                best, best_hits = name, hits
        return best

    def assign(
        self,
        posts: Iterable[Post],
        stored_roots: Callable[[Iterable[Key]], Mapping[Key, str | None]],
    ) -> dict[Key, str | None]:
        """Topics for a batch; `stored_roots` looks up roots collected in earlier runs."""
        posts = list(posts)
        topics: dict[Key, str | None] = {(p.source, p.id): self.match(p.text) for p in posts}
        missing_roots = {
            (p.source, p.thread_id)
            for p in posts
            if topics[(p.source, p.id)] is None and (p.source, p.thread_id) not in topics
        }
        roots = dict(stored_roots(missing_roots)) if missing_roots else {}
        roots.update({k: v for k, v in topics.items() if v is not None})
        for p in posts:
            key = (p.source, p.id)
            if topics[key] is None:
                topics[key] = roots.get((p.source, p.thread_id))
        return topics
