"""`stablewatch check`: validate the configuration and the credentials it needs, without
collecting, scoring or writing anything. Meant for before installing a cron line."""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from jobs.config import CONFIG_NAME, DEFAULT_TOPICS, ConfigError, Settings, load_settings
from jobs.sources import chosen_kinds
from jobs.topics import Topics, load_topics


@dataclass(frozen=True)
class Finding:
    """One thing checked: what (`part`), whether it is usable, and the details."""

    part: str  # config, topics, reddit, smtp, model
    ok: bool
    message: str


def run_check(db_path: Path | str, sources: Sequence[str] | None = None) -> list[Finding]:
    """Check stablewatch.toml, topics.toml, Reddit credentials (when Reddit is among
    `sources` and topics name subreddits or queries), the SMTP password and the model."""
    db_path = Path(db_path).expanduser().resolve()
    wanted = chosen_kinds(sources)
    findings: list[Finding] = []
    settings: Settings | None = None
    config_path = db_path.parent / CONFIG_NAME
    try:
        settings = load_settings(db_path)
        note = "" if config_path.exists() else " not found: defaults apply (`init` writes one)"
        findings.append(Finding("config", True, f"{config_path}{note}"))
    except ConfigError as exc:
        findings += [Finding("config", False, problem) for problem in exc.problems]
    topics_path = settings.topics_path if settings else _topics_path(config_path)
    topics: Topics | None = None
    try:
        topics = load_topics(topics_path)
        findings.append(Finding("topics", True, f"{topics_path}: {_describe(topics)}"))
    except ConfigError as exc:
        findings += [Finding("topics", False, problem) for problem in exc.problems]
    if topics is not None and "reddit" in wanted:
        findings.append(_reddit(topics))
    if settings is not None:
        findings += [_smtp(settings), _model(settings)]
    return findings


def _topics_path(config_path: Path) -> Path:
    """[paths] topics from a stablewatch.toml that failed validation, if it can be read."""
    try:
        value = tomllib.loads(config_path.read_text(encoding="utf-8"))["paths"]["topics"]
    except (OSError, ValueError, KeyError, TypeError):
        return DEFAULT_TOPICS
    return (
        (config_path.parent / value).resolve()
        if isinstance(value, str) and value
        else (DEFAULT_TOPICS)
    )


def _describe(topics: Topics) -> str:
    subreddits = {s for t in topics.topics for s in t.subreddits}
    queries = {q for t in topics.topics for q in t.queries}
    forums = ", ".join(f"{f['kind']} {f.get('name') or f['url']}" for f in topics.forums)
    return (
        f"{len(topics.topics)} topics, {len(topics.keywords)} keywords, "
        f"{len(subreddits)} subreddits, {len(queries)} Reddit searches; "
        f"forums: {forums or 'none'}"
    )


def _reddit(topics: Topics) -> Finding:
    from collectors.errors import CredentialsError
    from jobs.sources import reddit_collector

    if not any(t.subreddits or t.queries for t in topics.topics):
        return Finding("reddit", True, "no subreddits or queries in topics.toml: not collected")
    try:
        collector = reddit_collector(topics)
    except CredentialsError as exc:
        return Finding("reddit", False, str(exc))
    collector.close()  # type: ignore[attr-defined]
    return Finding("reddit", True, "credentials present (not tried: check sends no request)")


def _smtp(settings: Settings) -> Finding:
    smtp = settings.smtp
    if smtp is None:
        return Finding(
            "smtp", True, f"no [smtp] host: digests are only written to {settings.outbox}"
        )
    if smtp.username and not smtp.password:
        return Finding(
            "smtp",
            False,
            f"[smtp] username {smtp.username!r} is set but STABLEWATCH_SMTP_PASSWORD is not",
        )
    login = f" as {smtp.username}" if smtp.username else ""
    tls = " with STARTTLS" if smtp.starttls else ""
    recipients = ", ".join(settings.digest_to)
    return Finding("smtp", True, f"{smtp.host}:{smtp.port}{tls}{login}, to {recipients}")


def _model(settings: Settings) -> Finding:
    from classifier.errors import ModelNotFoundError
    from jobs.model import model_id_of

    try:
        return Finding("model", True, f"{model_id_of(settings.model_dir)} ({settings.model_dir})")
    except ModelNotFoundError as exc:
        return Finding("model", False, str(exc))
