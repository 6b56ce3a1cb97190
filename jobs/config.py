"""Settings (stablewatch.toml): where the database, topics, model and outbox live, and how
to send email. Reading and validating a TOML file is here too; topics.toml itself is read
by `jobs.topics`."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from jobs.config_schema import ConfigFile, problems
from stablewatch.errors import StablewatchError

M = TypeVar("M", bound=BaseModel)

# The bundled data (data/ in a checkout, the stablewatch_data package when installed)
DATA_DIR = Path(str(files("stablewatch_data")))
DEFAULT_TOPICS = DATA_DIR / "topics.toml"
DEFAULT_MODEL_DIR = DATA_DIR / "models" / "stablewatch-heads"
DEFAULT_TRAIN_DIR = DATA_DIR / "train"
SAMPLE_ARCHIVE = DATA_DIR / "sample" / "posts.jsonl"
CONFIG_NAME = "stablewatch.toml"


class ConfigError(StablewatchError):
    """The configuration is missing or invalid; the message says what to fix, in one line.

    `problems` lists every mistake found (the message shows the first and counts the rest).
    """

    def __init__(self, message: str, problems: Sequence[str] | None = None) -> None:
        super().__init__(message)
        self.problems = list(problems or [message])


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


def validate(model: type[M], data: dict[str, Any], path: Path) -> M:
    """`data` read from `path` as `model`, or ConfigError naming every mistake."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        found = [f"{path}: {p}" for p in problems(exc, model, data)]
        more = f" (and {len(found) - 1} more; `stablewatch check` lists all)" if found[1:] else ""
        raise ConfigError(found[0] + more, found) from None


def read_toml(path: Path) -> dict[str, Any]:
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}") from None
    except IsADirectoryError:
        raise ConfigError(f"{path} is a folder, not a config file") from None
    except PermissionError:
        raise ConfigError(f"cannot read {path}: permission denied") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None


def _env_port(name: str) -> int | None:
    value = os.environ.get(name)
    if not value:
        return None
    if not value.strip().isdigit() or not 1 <= int(value) <= 65535:
        raise ConfigError(f"{name}: expected a port number (1-65535), got {value!r}")
    return int(value)


def read_config(db_path: Path | str) -> ConfigFile:
    """stablewatch.toml beside the database, validated (all defaults when it is absent)."""
    config_path = Path(db_path).expanduser().resolve().parent / CONFIG_NAME
    data = read_toml(config_path) if config_path.exists() else {}
    return validate(ConfigFile, data, config_path)


def load_settings(db_path: Path | str) -> Settings:
    """Settings for a database: defaults, then stablewatch.toml beside it, then environment."""
    db_path = Path(db_path).expanduser().resolve()
    config = read_config(db_path)
    base = db_path.parent

    def path_of(value: str | None, default: Path) -> Path:
        return (base / value).resolve() if value else default

    host = os.environ.get("STABLEWATCH_SMTP_HOST") or config.smtp.host
    port = _env_port("STABLEWATCH_SMTP_PORT")
    smtp = None
    if host:
        smtp = SmtpSettings(
            host=host,
            port=port or config.smtp.port,
            starttls=config.smtp.starttls,
            username=os.environ.get("STABLEWATCH_SMTP_USER") or config.smtp.username or None,
            password=os.environ.get("STABLEWATCH_SMTP_PASSWORD") or None,
            timeout=config.smtp.timeout,
        )
    to = os.environ.get("STABLEWATCH_DIGEST_TO")
    recipients = tuple(a.strip() for a in to.split(",") if a.strip()) if to else ()
    return Settings(
        db_path=db_path,
        topics_path=path_of(config.paths.topics, DEFAULT_TOPICS),
        model_dir=path_of(config.paths.model_dir, DEFAULT_MODEL_DIR),
        backbone=config.classifier.backbone or None,
        outbox=path_of(config.paths.outbox, base / "outbox"),
        digest_from=config.digest.from_,
        digest_to=recipients or tuple(config.digest.to),
        smtp=smtp,
        daily_at=config.schedule.daily_at,
        retry_days=config.digest.retry_days,
        unsubscribe=config.digest.list_unsubscribe or None,
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
