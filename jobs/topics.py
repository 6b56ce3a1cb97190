"""Decide which configured topic each post belongs to."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence

from collectors.match import KeywordMatcher
from collectors.post import Post
from jobs.config import Topic

Key = tuple[str, str]


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
