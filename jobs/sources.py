"""Build the collectors a run uses from settings: the sample, archives, or live sources.

Which kinds of live source exist, and how each is built, is `jobs.source_kinds.KINDS`.
"""

from __future__ import annotations

import dataclasses
import functools
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from collectors.archive import ArchiveCollector
from collectors.post import Harvest
from jobs.config import ConfigError
from jobs.source_kinds import KINDS, LIVE_SOURCES, SourceKind, forum_values
from jobs.topics import Topics
from stablewatch.errors import StablewatchError

__all__ = [
    "LIVE_SOURCES",
    "Collector",
    "SourceError",
    "archive_collectors",
    "chosen_kinds",
    "live_collectors",
]


class SourceError(StablewatchError):
    """A requested live source cannot start (e.g. missing Reddit credentials)."""


class Collector(Protocol):
    source: str

    def harvest(
        self, cursors: Mapping[str, str], since: datetime, revisit: Sequence[str] = ()
    ) -> Iterator[Harvest]: ...


def archive_collectors(paths: Sequence[Path], until: datetime | None) -> list[Collector]:
    return [ArchiveCollector(Path(p), until=until) for p in paths]


def chosen_kinds(sources: Iterable[str] | None) -> list[str]:
    """The kinds `sources` names (all when None or empty), in registry order; ConfigError
    naming any that is no kind."""
    wanted = set(sources or LIVE_SOURCES)
    unknown = sorted(wanted - set(LIVE_SOURCES))
    if unknown:
        raise ConfigError(
            f"unknown source(s): {', '.join(unknown)}; choose from {', '.join(LIVE_SOURCES)}"
        )
    return [name for name in LIVE_SOURCES if name in wanted]


def live_collectors(
    topics: Topics, sources: Sequence[str] | None = None
) -> tuple[list[Collector], list[str]]:
    """Collectors for the live sources in topics.toml; `sources` narrows them by kind.

    A source that cannot start (missing Reddit credentials, a bad forum entry) is left out
    and its error returned, so the others still run.
    """
    wanted = chosen_kinds(sources)
    builders: list[tuple[str, Callable[[], Collector]]] = []
    if "reddit" in wanted:
        builders.append(("reddit", lambda: reddit_collector(topics)))
    for forum in topics.forums:
        kind = forum.get("kind")
        if kind in wanted and kind != "reddit":
            builders.append((str(kind), functools.partial(forum_collector, forum, topics)))
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
    given: dict[str, Any] = {
        "subreddits": list(dict.fromkeys(s for t in topics.topics for s in t.subreddits)),
        "queries": list(dict.fromkeys(q for t in topics.topics for q in t.queries)),
        "keywords": topics.keywords,
    }
    for key in ("oauth_url", "reddit_url"):
        env = os.environ.get(f"STABLEWATCH_REDDIT_{key.upper()}")
        if env:
            given[key] = env
    return _build(KINDS["reddit"], topics.reddit, given)


def forum_collector(forum: Mapping[str, Any], topics: Topics) -> Collector:
    """The collector of one [[forums]] entry (its `kind` names a registry entry)."""
    name = forum.get("kind")
    if not forum.get("url"):
        raise ConfigError(f"forum {forum.get('name', name)!r} in topics.toml needs a url")
    kind = KINDS.get(str(name))
    if kind is None or not kind.forum:
        raise ConfigError(f"unknown forum kind {name!r} in topics.toml")
    values = forum_values(forum, topics.keywords)
    return _build(kind, forum, {name: values[name] for name in kind.filled})


def _build(kind: SourceKind, table: Mapping[str, Any], given: dict[str, Any]) -> Collector:
    """`kind`'s collector on settings made of `given` plus the tunables `table` sets."""
    settings_class = kind.settings_class()
    names = {f.name for f in dataclasses.fields(settings_class)}
    tunables = {k: v for k, v in table.items() if k in names and k not in given}
    collector: Collector = kind.collector_class()(settings_class(**given, **tunables))
    return collector
