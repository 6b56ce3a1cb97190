"""The long-running alternative to cron: run the daily job every day at a fixed UTC time."""

from __future__ import annotations

import logging
from collections.abc import Callable

from apscheduler.executors.debug import DebugExecutor
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger

from jobs.config import ConfigError, Settings

log = logging.getLogger("stablewatch.scheduler")
JOB_ID = "stablewatch-daily"


def parse_hhmm(value: str) -> tuple[int, int]:
    try:
        hour, minute = (int(part) for part in value.split(":"))
    except ValueError:
        raise ConfigError(f"schedule time must be HH:MM (UTC), got {value!r}") from None
    if not (0 <= hour < 24 and 0 <= minute < 60):
        raise ConfigError(f"schedule time out of range: {value!r}")
    return hour, minute


def build_scheduler(
    settings: Settings, job: Callable[[], object], at: str | None = None
) -> BlockingScheduler:
    """A scheduler with one daily job at `at` (HH:MM UTC, default from the config).

    Missed runs (machine asleep) are run once within 6 hours, never twice in a row. The
    job runs in the main thread (DebugExecutor), so SIGTERM reaches it like any command:
    the run is marked aborted and the daemon stops.
    """
    hour, minute = parse_hhmm(at or settings.daily_at)
    scheduler = BlockingScheduler(timezone="UTC", executors={"default": DebugExecutor()})
    scheduler.add_job(
        job,
        CronTrigger(hour=hour, minute=minute, timezone="UTC"),
        id=JOB_ID,
        name="stablewatch daily",
        coalesce=True,
        max_instances=1,
        misfire_grace_time=6 * 3600,
    )
    return scheduler
