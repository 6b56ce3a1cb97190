"""The registry of source kinds is the one list: collectors, topics.toml's schema and
--source all come from it."""

from __future__ import annotations

import dataclasses
import typing

import pytest

from jobs.config import ConfigError
from jobs.config_schema import topics_model
from jobs.source_kinds import FORUM_KINDS, KINDS, LIVE_SOURCES
from jobs.sources import chosen_kinds, forum_collector
from jobs.topics import Topic, Topics

TOPICS = Topics(topics=[Topic("t", ["yuan", "HKMA"])], forums=[], reddit={})


@pytest.mark.parametrize("kind", KINDS.values(), ids=lambda k: k.name)
def test_every_kind_names_real_classes_and_fields(kind) -> None:
    fields = {f.name for f in dataclasses.fields(kind.settings_class())}
    assert set(kind.filled) <= fields
    assert kind.collector_class().__name__ == kind.collector


def test_topics_toml_accepts_exactly_the_forum_kinds() -> None:
    forums = topics_model().model_fields["forums"].annotation
    (entry,) = typing.get_args(forums)
    variants = typing.get_args(typing.get_args(entry)[0])
    kinds = [typing.get_args(v.model_fields["kind"].annotation)[0] for v in variants]
    assert kinds == [k.name for k in FORUM_KINDS] == ["hackernews", "discourse", "feed"]
    assert LIVE_SOURCES == ("reddit", "hackernews", "discourse", "feed")


@pytest.mark.parametrize("kind", FORUM_KINDS, ids=lambda k: k.name)
def test_a_forum_entry_builds_its_collector_with_its_tunables(kind) -> None:
    entry = {"kind": kind.name, "url": "http://127.0.0.1:9/x", "name": "Forum",
             "queries": ["stablecoin"], "timeout": 3.5}
    collector = forum_collector(entry, TOPICS)
    assert isinstance(collector, kind.collector_class())
    settings = collector.settings  # type: ignore[attr-defined]
    assert settings.timeout == 3.5 and settings.keywords == ["yuan", "HKMA"]
    given = {"url": entry["url"], "base_url": entry["url"], "name": "Forum",
             "queries": ["stablecoin"]}
    for name in set(kind.filled) - {"keywords"}:
        assert getattr(settings, name) == given[name]


def test_sources_are_checked_against_the_registry() -> None:
    assert chosen_kinds(None) == list(LIVE_SOURCES)
    assert chosen_kinds(["feed", "reddit"]) == ["reddit", "feed"]
    with pytest.raises(ConfigError, match="unknown source.*: mastodon; choose from reddit, "):
        chosen_kinds(["feed", "mastodon"])
    with pytest.raises(ConfigError, match="unknown forum kind 'mastodon'"):
        forum_collector({"kind": "mastodon", "url": "http://127.0.0.1:9/"}, TOPICS)
