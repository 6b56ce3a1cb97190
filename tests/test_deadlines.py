"""Deadlines and dead hosts: no source runs past its deadline, a host that never answers
is given up, and a back-off wait that would cross the deadline is not slept. Servers are
loopback; the last test runs the real CLI in a child process."""

from __future__ import annotations

import email.utils
import time

import pytest
from faults import rows, run_cli
from loopback import Loopback, Reply, SilentHost, fast_client

from collectors.deadline import Deadline, current, deadline_scope
from collectors.errors import DeadlineExceeded
from collectors.http import HttpError
from collectors.retry import backoff, retry_after_seconds
from jobs.config import DEFAULT_MODEL_DIR
from tests.conftest import configure_db


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("7", 7.0),
        ("0.25", 0.25),
        (" 3 ", 3.0),
        ("-4", 0.0),
        ("", None),
        (None, None),
        ("soon", None),
        ("nan", None),
    ],
)
def test_retry_after_values(header, seconds):
    assert retry_after_seconds(header) == seconds


def test_retry_after_as_a_date_and_backoff():
    in_a_minute = email.utils.formatdate(time.time() + 60, usegmt=True)
    assert 55 <= retry_after_seconds(in_a_minute) <= 60
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # in the past
    assert [backoff(a, 1.0, 5.0) for a in range(5)] == [1.0, 2.0, 4.0, 5.0, 5.0]


def test_a_deadline_binds_by_the_run_when_the_run_ends_first():
    clock = [100.0]
    run = Deadline(30, "run", clock=lambda: clock[0])
    source = Deadline(600, "hackernews", clock=lambda: clock[0], parent=run)
    assert source.remaining() == 30 and source.message == "run deadline of 30 s reached"
    clock[0] = 131.0
    with pytest.raises(DeadlineExceeded, match="GET x: run deadline of 30 s reached"):
        source.check("GET x")
    assert current() is None
    with deadline_scope(source):
        assert current() is source
    assert current() is None


def test_a_silent_host_is_given_up_after_one_url_and_one_more_attempt():
    client = fast_client(timeout=0.2, max_retries=1)
    with SilentHost() as host:
        with pytest.raises(HttpError, match=r"connection failed \(ReadTimeout\) \(gave up"):
            client.get(f"{host.url}/a")  # its whole retry schedule: 2 attempts
        for path in ("/b", "/c"):
            with pytest.raises(HttpError, match="left the last 3 attempts unanswered"):
                client.get(f"{host.url}{path}")
    assert client.requests == 3  # /b got one attempt, /c none


def test_a_slow_url_among_answering_ones_does_not_give_up_the_host():
    client = fast_client(timeout=0.2, max_retries=1)
    with Loopback() as server:
        server.route("/slow", Reply({"late": True}, delay=0.5))
        server.route("/fast", Reply({"ok": True}))
        with pytest.raises(HttpError, match="connection failed"):
            client.get(f"{server.url}/slow")
        assert client.get_json(f"{server.url}/fast") == {"ok": True}
        with pytest.raises(HttpError, match="connection failed"):
            client.get(f"{server.url}/slow")
        assert client.get_json(f"{server.url}/fast") == {"ok": True}


def test_the_deadline_cuts_a_request_to_a_silent_host():
    client = fast_client(timeout=15.0)  # alone, one URL would take 5 x 15 s
    with SilentHost() as host, deadline_scope(Deadline(0.5, "hackernews")):
        with pytest.raises(DeadlineExceeded, match="hackernews deadline of 0.5 s reached"):
            client.get(f"{host.url}/items/1")
        with pytest.raises(DeadlineExceeded):
            client.get(f"{host.url}/items/2")
    assert client.requests <= 2


def test_a_back_off_wait_past_the_deadline_is_not_slept():
    slept: list[float] = []
    client = fast_client(slept, backoff_base=10.0)
    with Loopback() as server, deadline_scope(Deadline(5.0, "feed")):
        server.route("/feed", Reply(b"busy", status=503))
        with pytest.raises(DeadlineExceeded, match="a retry would have waited 10.0 s"):
            client.get(f"{server.url}/feed")
    assert slept == [] and client.requests == 1


FORUMS = """
[collect]
run_deadline = 60
[[topics]]
name = "yuan stablecoins"
keywords = ["yuan"]
[[forums]]
kind = "hackernews"
name = "Hacker News"
url = "{url}"
queries = ["yuan stablecoin", "digital yuan", "offshore yuan"]
deadline = 2
[[forums]]
kind = "feed"
name = "A feed on the same dead host"
url = "{url}/rss.xml"
deadline = 2
"""


def test_daily_with_a_host_that_never_answers_ends_within_its_deadlines(tmp_path):
    with SilentHost() as host:
        db = configure_db(tmp_path, DEFAULT_MODEL_DIR, FORUMS.format(url=host.url))
        result = run_cli(
            [
                "--db",
                db,
                "daily",
                "--date",
                "2026-11-20",
                "--no-send",
                "--source",
                "hackernews",
                "--source",
                "feed",
            ],
            cwd=tmp_path,
            timeout=90,
        )

    assert result.returncode == 2, result.stderr  # finished; every source failed
    (run,) = rows(db, "SELECT status, errors, missing_data FROM runs")
    assert run["status"] == "partial" and run["missing_data"] == 1
    assert run["errors"].count("hackernews deadline of 2 s reached") == 3  # every query
    assert "feed deadline of 2 s reached" in run["errors"]
    assert "MISSING DATA" in (tmp_path / "out" / "stablewatch-2026-11-20.eml").read_text()
