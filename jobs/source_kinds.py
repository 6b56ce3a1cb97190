"""The registry of live source kinds: one entry per kind, read by everything that needs one.

`jobs.sources` builds collectors from it, `jobs.config_schema` builds the topics.toml model
from it (each kind's tunables are its settings dataclass's optional fields), and the CLI
and `stablewatch check` take the kind names from it. Adding a kind is adding an entry.

A kind's `filled` fields are the settings stablewatch fills in itself, from the
[[forums]] entry (`url`, `name`, `queries`) or from the topics (`keywords`, and for Reddit
the union of the topics' `subreddits` and `queries`); every other field is a tunable the
topics.toml entry may set. Modules are imported only when a kind is used.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class SourceKind:
    """One kind of live source: its collector and settings classes and what stablewatch
    fills in of those settings."""

    name: str  # the topics.toml `kind` and the --source value
    title: str  # for names shown in messages ("HackerNews" -> HackerNewsForum)
    module: str
    collector: str  # class names in `module`
    settings: str
    filled: tuple[str, ...]
    forum: bool = True  # a [[forums]] entry (Reddit has its own [reddit] table)
    needs_queries: bool = False  # a [[forums]] entry of this kind must list queries

    def settings_class(self) -> type:
        return getattr(importlib.import_module(self.module), self.settings)

    def collector_class(self) -> type:
        return getattr(importlib.import_module(self.module), self.collector)


KINDS: dict[str, SourceKind] = {
    kind.name: kind
    for kind in (
        SourceKind("reddit", "Reddit", "collectors.reddit", "RedditCollector", "RedditSettings",
                   ("subreddits", "queries", "keywords"), forum=False),
        SourceKind("hackernews", "HackerNews", "collectors.hackernews", "HackerNewsCollector",
                   "HackerNewsSettings", ("base_url", "queries", "keywords"),
                   needs_queries=True),
        SourceKind("discourse", "Discourse", "collectors.discourse", "DiscourseCollector",
                   "DiscourseSettings", ("base_url", "name", "queries", "keywords"),
                   needs_queries=True),
        SourceKind("feed", "Feed", "collectors.feeds", "FeedCollector", "FeedSettings",
                   ("url", "name", "keywords")),
    )
}
LIVE_SOURCES: tuple[str, ...] = tuple(KINDS)
FORUM_KINDS: tuple[SourceKind, ...] = tuple(k for k in KINDS.values() if k.forum)


def forum_values(forum: Mapping[str, Any], keywords: list[str]) -> dict[str, Any]:
    """What stablewatch fills in of a [[forums]] entry's settings (each kind takes the
    `filled` ones it names)."""
    url = forum["url"]
    return {
        "url": url,
        "base_url": url,
        "name": str(forum.get("name", url)),
        "queries": list(forum.get("queries", [])),
        "keywords": keywords,
    }
