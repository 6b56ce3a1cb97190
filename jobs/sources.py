"""Build the collectors a run uses from settings: the sample, archives, or live sources."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from collectors.archive import ArchiveCollector
from collectors.post import Harvest
from jobs.config import ConfigError, Topics

LIVE_SOURCES = ("reddit", "hackernews", "discourse", "feed")


class Collector(Protocol):
    source: str

    def harvest(
        self, cursors: Mapping[str, str], since: datetime, revisit: Sequence[str] = ()
    ) -> Iterator[Harvest]: ...


def archive_collectors(paths: Sequence[Path], until: datetime | None) -> list[Collector]:
    return [ArchiveCollector(Path(p), until=until) for p in paths]


def live_collectors(
    topics: Topics, sources: Sequence[str] | None = None
) -> tuple[list[Collector], list[str]]:
    """Collectors for the live sources in topics.toml; `sources` narrows them by kind.

    A source that cannot start (missing Reddit credentials, a bad forum entry) is left out
    and its error returned, so the others still run.
    """
    wanted = set(sources or LIVE_SOURCES)
    unknown = wanted - set(LIVE_SOURCES)
    if unknown:
        choices = ", ".join(LIVE_SOURCES)
        raise ConfigError(f"unknown source(s): {', '.join(sorted(unknown))}; choose from {choices}")
    builders: list[tuple[str, Callable[[], Collector]]] = []
    if "reddit" in wanted:
        builders.append(("reddit", lambda: reddit_collector(topics)))
    for forum in topics.forums:
        kind = forum.get("kind")
        if kind in wanted and kind != "reddit":
            builders.append((str(kind), lambda forum=forum: forum_collector(forum, topics)))
    collectors: list[Collector] = []
    errors: list[str] = []
    for name, build in builders:
        try:
            collectors.append(build())
        except Exception as exc:  # reported per source; the others still run
            errors.append(f"{name}: {exc}")
    return collectors, errors


def reddit_collector(topics: Topics) -> Collector:
    """The Reddit collector: the union of all topics plus the [reddit] table's settings.

    STABLEWATCH_REDDIT_OAUTH_URL / STABLEWATCH_REDDIT_URL override the API endpoints.
    """
    from collectors.reddit import RedditCollector, RedditSettings

    given: dict[str, Any] = {
        "subreddits": list(dict.fromkeys(s for t in topics.topics for s in t.subreddits)),
        "queries": list(dict.fromkeys(q for t in topics.topics for q in t.queries)),
        "keywords": topics.keywords,
    }
    for key in ("oauth_url", "reddit_url"):
        env = os.environ.get(f"STABLEWATCH_REDDIT_{key.upper()}")
        if env:
            given[key] = env
    return RedditCollector(_settings_from(RedditSettings, topics.reddit, **given))


def _settings_from(cls: type, forum: Mapping[str, Any], **given: Any) -> Any:
    """A settings dataclass from a [[forums]] entry: given values plus optional tunables."""
    names = {f.name for f in dataclasses.fields(cls)}
    extra = {k: v for k, v in forum.items() if k in names and k not in given}
    return cls(**given, **extra)


def forum_collector(forum: Mapping[str, Any], topics: Topics) -> Collector:
    kind, url = forum.get("kind"), forum.get("url")
    if not url:
        raise ConfigError(f"forum {forum.get('name', kind)!r} in topics.toml needs a url")
    name = str(forum.get("name", url))
    queries = list(forum.get("queries", []))
    if kind == "hackernews":
        from collectors.hackernews import HackerNewsCollector, HackerNewsSettings

        return HackerNewsCollector(
            _settings_from(HackerNewsSettings, forum, base_url=url, queries=queries,
                           keywords=topics.keywords)
        )
    if kind == "discourse":
        from collectors.discourse import DiscourseCollector, DiscourseSettings

        return DiscourseCollector(
            _settings_from(DiscourseSettings, forum, base_url=url, name=name, queries=queries,
                           keywords=topics.keywords)
        )
    if kind == "feed":
        from collectors.feeds import FeedCollector, FeedSettings

        return FeedCollector(
            _settings_from(FeedSettings, forum, url=url, name=name, keywords=topics.keywords)
        )
    raise ConfigError(f"unknown forum kind {kind!r} in topics.toml")
