"""The scheduler daemon's job and the lock that keeps runs from overlapping."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from jobs.config import ConfigError
from jobs.lock import AlreadyRunning, run_lock
from jobs.pipeline import run_daily
from jobs.scheduler import JOB_ID, build_scheduler, parse_hhmm
from tests.conftest import FIXTURES


def test_scheduler_runs_daily_at_the_configured_utc_time(settings):
    scheduler = build_scheduler(settings, lambda: None, at="05:45")
    job = scheduler.get_job(JOB_ID)
    fire = job.trigger.get_next_fire_time(None, datetime(2026, 3, 1, 6, 0, tzinfo=UTC))
    assert fire == datetime(2026, 3, 2, 5, 45, tzinfo=UTC)
    assert job.max_instances == 1 and job.coalesce


@pytest.mark.parametrize("bad", ["25:00", "7", "noon"])
def test_bad_schedule_time(bad):
    with pytest.raises(ConfigError):
        parse_hhmm(bad)


def test_second_run_is_refused_while_the_first_holds_the_lock(settings):
    with run_lock(settings.db_path), pytest.raises(AlreadyRunning, match="another stablewatch"):
        run_daily(settings, "2026-03-02", archives=[FIXTURES / "archive_small.jsonl"])
    with run_lock(settings.db_path):  # released after the first holder exits
        pass
