"""The schema of stablewatch.toml and topics.toml, checked before anything runs.

Unknown sections and keys are errors that name the key and suggest the closest valid one;
a value of the wrong type names its key and the type expected; `problems()` turns a
`ValidationError` into one line per mistake. The tunables of each source (the [reddit]
table and each [[forums]] kind) are the fields of its collector's settings dataclass, and
the kinds are `jobs.source_kinds.KINDS`, so a setting a collector gains, or a kind the
registry gains, is accepted here without a second list to keep in step.
"""

from __future__ import annotations

import dataclasses
import functools
import re
import types
import typing
from collections.abc import Mapping, Sequence
from email.utils import parseaddr
from typing import Annotated, Any, Literal, Union

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    create_model,
    model_validator,
)

from collectors.text import clean_url
from collectors.validation import did_you_mean, problem, show


class StrictModel(BaseModel):
    """A TOML table: no unknown keys, no silent type conversions."""

    model_config = ConfigDict(extra="forbid", strict=True)


Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]  # non-blank


def _address(value: str) -> str:
    if "@" not in parseaddr(value)[1]:
        raise ValueError(f"expected an email address, got {show(value)}")
    return value


def _time_of_day(value: str) -> str:
    if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", value):
        raise ValueError(f'expected a time of day "HH:MM" (UTC), got {show(value)}')
    return value


def _unsubscribe(value: str) -> str:
    if value and not (value.startswith("mailto:") or value.startswith("https://")):
        raise ValueError(f"expected a mailto: or https:// address, got {show(value)}")
    return value


def _http_url(value: str) -> str:
    if clean_url(value) is None:
        raise ValueError(f"expected an http:// or https:// URL, got {show(value)}")
    return value


def _subreddit(value: str) -> str:
    if re.match(r"(?i)/?r/", value):
        raise ValueError(f"write the name without r/: {show(value.split('/')[-1])}")
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_]{1,20}", value):
        raise ValueError(f"{show(value)} is not a subreddit name (2-21 letters, digits or _)")
    return value


Address = Annotated[Text, AfterValidator(_address)]
HttpUrl = Annotated[Text, AfterValidator(_http_url)]
Subreddit = Annotated[Text, AfterValidator(_subreddit)]


# ---- stablewatch.toml ------------------------------------------------------------------


class PathsSection(StrictModel):
    topics: str | None = None  # empty or absent: the bundled data/topics.toml
    model_dir: str | None = None
    outbox: str = "outbox"


class ClassifierSection(StrictModel):
    backbone: str | None = None


class DigestSection(StrictModel):
    from_: Address = Field("stablewatch@localhost", alias="from")
    to: list[Address] = Field(default_factory=lambda: ["analysts@localhost"], min_length=1)
    retry_days: int = Field(7, ge=0, le=365)
    list_unsubscribe: Annotated[str, AfterValidator(_unsubscribe)] | None = None


class SmtpSection(StrictModel):
    host: str = ""  # empty: write .eml files only
    port: int = Field(25, ge=1, le=65535)
    starttls: bool = False
    username: str = ""
    timeout: float = Field(30.0, gt=0, le=600)


class ScheduleSection(StrictModel):
    daily_at: Annotated[str, AfterValidator(_time_of_day)] = "06:30"


class ConfigFile(StrictModel):
    """stablewatch.toml."""

    paths: PathsSection = PathsSection()
    classifier: ClassifierSection = ClassifierSection()
    digest: DigestSection = DigestSection()
    smtp: SmtpSection = SmtpSection()
    schedule: ScheduleSection = ScheduleSection()


# ---- topics.toml -------------------------------------------------------------------------


class CollectSection(StrictModel):
    lookback_days: int = Field(3, ge=1)
    revisit_days: int = Field(3, ge=0)
    source_deadline: float = Field(600, gt=0)  # seconds one source may spend
    run_deadline: float = Field(1200, gt=0)  # seconds all sources together may spend


class TopicEntry(StrictModel):
    """One [[topics]] entry. `subreddits` and `queries` may be empty or absent: the topic
    is then not looked for on Reddit (its keywords still sort posts from other sources)."""

    name: Text
    keywords: list[Text] = Field(min_length=1)
    subreddits: list[Subreddit] = []
    queries: list[Text] = []


class ForumBase(StrictModel):
    name: Text | None = None
    url: HttpUrl


def _tunables(cls: type, given: set[str]) -> dict[str, Any]:
    """Pydantic fields for a settings dataclass's optional fields, minus those filled from
    elsewhere; numbers must not be negative (timeouts must be positive)."""
    hints = typing.get_type_hints(cls)
    fields: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        if f.name in given:
            continue
        if f.default is not dataclasses.MISSING:
            default = f.default
        elif f.default_factory is not dataclasses.MISSING:
            default = f.default_factory()
        else:
            continue
        hint = hints[f.name]
        if hint in (int, float):
            bound = Field(gt=0) if "timeout" in f.name else Field(ge=0)
            hint = Annotated[hint, bound]
        fields[f.name] = (hint, default)
    return fields


@functools.cache
def topics_model() -> type[BaseModel]:
    """The topics.toml model, built on first use from the registry of source kinds: each
    kind's tunables are its settings dataclass's optional fields."""
    from jobs.source_kinds import FORUM_KINDS, KINDS

    queries = (list[Text], Field(min_length=1))
    forums = []
    for kind in FORUM_KINDS:
        own: dict[str, Any] = {"kind": (Literal[kind.name], ...)}
        if kind.needs_queries:
            own["queries"] = queries
        tunables = _tunables(kind.settings_class(), set(kind.filled))
        forums.append(create_model(f"{kind.title}Forum", __base__=ForumBase, **own, **tunables))
    reddit = KINDS["reddit"]
    reddit_section = create_model(
        f"{reddit.title}Section",
        __base__=StrictModel,
        **_tunables(reddit.settings_class(), set(reddit.filled)),
    )
    forum: Any = Annotated[Union[tuple(forums)], Field(discriminator="kind")]  # noqa: UP007
    default_reddit = reddit_section()

    class TopicsFile(StrictModel):
        """topics.toml."""

        collect: CollectSection = CollectSection()
        reddit: reddit_section = default_reddit
        topics: list[TopicEntry] = Field(min_length=1)
        forums: list[forum] = []

        @model_validator(mode="after")
        def _unique_names(self) -> TopicsFile:
            names = [t.name for t in self.topics]
            twice = sorted({n for n in names if names.count(n) > 1})
            if twice:
                raise ValueError(f"topic name {show(twice[0])} is used by two [[topics]]")
            return self

    return TopicsFile


# ---- messages ------------------------------------------------------------------------------

_HINTS = {
    ("smtp", "password"): "the SMTP password is read from STABLEWATCH_SMTP_PASSWORD, "
    "never from the file",
}


def problems(exc: ValidationError, model: type[BaseModel], data: Mapping[str, Any]) -> list[str]:
    """One line per mistake, each naming its section, entry and key."""
    errors = sorted(exc.errors(), key=lambda e: e["type"] != "extra_forbidden")  # typos first
    return [_message(error, model, data) for error in errors]


def _message(error: Any, model: type[BaseModel], data: Mapping[str, Any]) -> str:
    loc = list(error["loc"])
    if error["type"] == "extra_forbidden":
        *parent, key = loc
        return _unknown_key(str(key), parent, model, data)
    if error["type"] in ("union_tag_invalid", "union_tag_not_found"):
        loc.append("kind")
    where = _where(loc, data)
    return f"{where}: {problem(error)}" if where else problem(error)


def _unknown_key(
    key: str, parent: list[Any], model: type[BaseModel], data: Mapping[str, Any]
) -> str:
    valid = _keys_at(model, parent, data)
    hint = _HINTS.get((str(parent[0]) if parent else "", key))
    if not parent:
        value = data.get(key)
        if isinstance(value, dict):
            shown, wrap = f"section [{key}]", "[{}]"
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            shown, wrap = f"section [[{key}]]", "[[{}]]"
        else:
            home = [s for s in valid if key in _keys_at(model, [s], {})]
            where = f" (it belongs in [{home[0]}])" if home else ""
            return f"unknown key {show(key)} outside any section{where}"
        return f"unknown {shown}" + did_you_mean(key, valid, wrap)
    text = f"{_where(parent, data)} has an unknown key {show(key)}"
    return text + (f" ({hint})" if hint else did_you_mean(key, valid, '"{}"'))


ARRAY_SECTIONS = ("topics", "forums")  # [[topics]], [[forums]]: arrays of tables


def _where(loc: Sequence[Any], data: Any) -> str:
    """'[smtp] port', '[[topics]] #2 ("yuan") keywords item 3', '[[forums]] #1 url'."""
    if not loc:
        return ""
    section, rest = str(loc[0]), list(loc[1:])
    out = [f"[[{section}]]" if section in ARRAY_SECTIONS else f"[{section}]"]
    if section in ARRAY_SECTIONS and rest and isinstance(rest[0], int):
        index = rest.pop(0)
        entries = data.get(section) if isinstance(data, Mapping) else None
        entry = entries[index] if isinstance(entries, list) and index < len(entries) else None
        label = f"#{index + 1}"
        if isinstance(entry, dict) and isinstance(entry.get("name"), str):
            label += f" ({show(entry['name'])})"
        out.append(label)
        if rest and isinstance(entry, dict) and rest[0] == entry.get("kind"):
            rest.pop(0)  # the discriminator pydantic adds to a [[forums]] entry's location
    key = ""
    for part in rest:
        if isinstance(part, int):
            key += f" item {part + 1}"
        else:
            key += f".{part}" if key else str(part)
    return " ".join([*out, key] if key else out)


def _keys_at(model: type[BaseModel], loc: Sequence[Any], data: Any) -> list[str]:
    """The keys a table at `loc` may have."""
    current: Any = model
    node = data
    for part in loc:
        node = node[part] if isinstance(node, list | dict) and _has(node, part) else None
        if isinstance(part, int):
            continue
        if isinstance(current, dict):  # a discriminated union: pick the entry's variant
            current = current.get(part)
            continue
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return []
        field = next((f for n, f in current.model_fields.items() if (f.alias or n) == part), None)
        if field is None:
            return []
        current = _models_in(field.annotation)
    if isinstance(current, dict) and isinstance(node, dict):
        current = current.get(node.get("kind"))
    if isinstance(current, type) and issubclass(current, BaseModel):
        return [f.alias or n for n, f in current.model_fields.items()]
    return []


def _has(node: list[Any] | dict[str, Any], part: Any) -> bool:
    if isinstance(node, list):
        return isinstance(part, int) and 0 <= part < len(node)
    return part in node


def _models_in(annotation: Any) -> Any:
    """The model (or {kind: model} for a union of models) inside a field's annotation."""
    origin = typing.get_origin(annotation)
    if origin is Annotated:
        return _models_in(typing.get_args(annotation)[0])
    if origin is list:
        return _models_in(typing.get_args(annotation)[0])
    if origin in (Union, types.UnionType):
        models = [_models_in(a) for a in typing.get_args(annotation) if a is not type(None)]
        models = [m for m in models if isinstance(m, type)]
        if len(models) == 1:
            return models[0]
        return {typing.get_args(m.model_fields["kind"].annotation)[0]: m for m in models}
    return annotation
