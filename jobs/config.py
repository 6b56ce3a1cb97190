"""Settings: where the database, topics, model and outbox live, and how to send email."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = PROJECT_ROOT / "data"
DEFAULT_TOPICS = DATA_DIR / "topics.toml"
DEFAULT_MODEL_DIR = DATA_DIR / "models" / "stablewatch-heads"
DEFAULT_TRAIN_DIR = DATA_DIR / "train"
SAMPLE_ARCHIVE = DATA_DIR / "sample" / "posts.jsonl"
CONFIG_NAME = "stablewatch.toml"


class ConfigError(Exception):
    """The configuration is missing or invalid; the message says what to fix."""


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

    @property
    def keywords(self) -> list[str]:
        return [k for t in self.topics for k in t.keywords]


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int = 25
    starttls: bool = False
    username: str | None = None
    password: str | None = None
    timeout: float = 30.0


@dataclass(frozen=True)
class Settings:
    """Everything a command needs to know, resolved to absolute paths."""

    db_path: Path
    topics_path: Path = DEFAULT_TOPICS
    model_dir: Path = DEFAULT_MODEL_DIR
    backbone: str | None = None
    outbox: Path = Path("outbox")
    digest_from: str = "stablewatch@localhost"
    digest_to: tuple[str, ...] = ("analysts@localhost",)
    smtp: SmtpSettings | None = None
    daily_at: str = "06:30"
    retry_days: int = 7  # unsent digests of the last N days are retried by later runs
    unsubscribe: str | None = None  # List-Unsubscribe target (mailto: or https: URL)

    @property
    def config_path(self) -> Path:
        return self.db_path.parent / CONFIG_NAME

    def topics(self) -> Topics:
        return load_topics(self.topics_path)


def load_topics(path: Path) -> Topics:
    """Read and check a topics.toml file."""
    data = _read_toml(path)
    raw_topics = data.get("topics") or []
    if not raw_topics:
        raise ConfigError(f"{path}: no [[topics]] defined")
    topics = []
    for i, raw in enumerate(raw_topics):
        if not raw.get("name") or not raw.get("keywords"):
            raise ConfigError(f"{path}: topic #{i + 1} needs a name and keywords")
        topics.append(
            Topic(
                name=str(raw["name"]),
                keywords=[str(k) for k in raw["keywords"]],
                subreddits=[str(s) for s in raw.get("subreddits", [])],
                queries=[str(q) for q in raw.get("queries", [])],
            )
        )
    collect = data.get("collect", {})
    return Topics(
        topics=topics,
        forums=list(data.get("forums", [])),
        reddit=dict(data.get("reddit", {})),
        lookback_days=int(collect.get("lookback_days", 3)),
        revisit_days=int(collect.get("revisit_days", 3)),
    )


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None


def load_settings(db_path: Path | str) -> Settings:
    """Settings for a database: defaults, then stablewatch.toml beside it, then environment."""
    db_path = Path(db_path).expanduser().resolve()
    config_path = db_path.parent / CONFIG_NAME
    data = _read_toml(config_path) if config_path.exists() else {}
    base = config_path.parent

    def path_of(section: str, key: str, default: Path) -> Path:
        value = data.get(section, {}).get(key)
        return (base / value).resolve() if value else default

    digest = data.get("digest", {})
    smtp_raw = data.get("smtp", {})
    host = os.environ.get("STABLEWATCH_SMTP_HOST") or smtp_raw.get("host") or ""
    smtp = None
    if host:
        smtp = SmtpSettings(
            host=host,
            port=int(os.environ.get("STABLEWATCH_SMTP_PORT") or smtp_raw.get("port", 25)),
            starttls=bool(smtp_raw.get("starttls", False)),
            username=os.environ.get("STABLEWATCH_SMTP_USER") or smtp_raw.get("username") or None,
            password=os.environ.get("STABLEWATCH_SMTP_PASSWORD") or None,
        )
    to = os.environ.get("STABLEWATCH_DIGEST_TO")
    recipients = tuple(a.strip() for a in to.split(",")) if to else tuple(digest.get("to", ()))
    return Settings(
        db_path=db_path,
        topics_path=path_of("paths", "topics", DEFAULT_TOPICS),
        model_dir=path_of("paths", "model_dir", DEFAULT_MODEL_DIR),
        backbone=data.get("classifier", {}).get("backbone") or None,
        outbox=path_of("paths", "outbox", base / "outbox"),
        digest_from=digest.get("from", "stablewatch@localhost"),
        digest_to=recipients or ("analysts@localhost",),
        smtp=smtp,
        daily_at=str(data.get("schedule", {}).get("daily_at", "06:30")),
        retry_days=int(digest.get("retry_days", 7)),
        unsubscribe=digest.get("list_unsubscribe") or None,
    )


DEFAULT_CONFIG = """\
# stablewatch configuration for the database beside this file.
# Relative paths are relative to this file. Secrets come from the environment.

[paths]
# topics = "topics.toml"            # default: the topics.toml bundled with stablewatch
# model_dir = "models/my-heads"     # default: the trained heads bundled with stablewatch
outbox = "outbox"                   # digests are written here as .eml files

[classifier]
# backbone = "/path/to/local/hf-model"   # default: the backbone the heads were trained on

[digest]
from = "stablewatch@localhost"
to = ["analysts@localhost"]
retry_days = 7                      # digests not sent (SMTP down) are retried for this long
# list_unsubscribe = "mailto:analysts-leave@example.org"   # adds a List-Unsubscribe header

[smtp]
# Leave host empty to only write .eml files. Password: STABLEWATCH_SMTP_PASSWORD.
host = ""
port = 25
starttls = false
username = ""

[schedule]
daily_at = "06:30"                  # UTC, used by `stablewatch schedule`
"""


def write_default_config(db_path: Path) -> bool:
    """Write stablewatch.toml beside the database unless one exists. True if written."""
    path = Path(db_path).expanduser().resolve().parent / CONFIG_NAME
    if path.exists():
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(DEFAULT_CONFIG, encoding="utf-8")
    return True
