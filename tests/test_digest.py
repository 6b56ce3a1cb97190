"""The digest email: rendering, the outbox, and sending to a real SMTP server on loopback."""

from __future__ import annotations

import dataclasses
import email
import socket
from email import policy

import pytest
from aiosmtpd.controller import Controller

from jobs.config import SmtpSettings
from jobs.digest import build_digest, write_digest
from jobs.pipeline import run_daily
from jobs.store import Store
from tests.conftest import FIXTURES


class Inbox:
    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd API)
        self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


@pytest.fixture
def smtp_server():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield inbox, controller.port
    finally:
        controller.stop()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


ARCHIVE = FIXTURES / "archive_small.jsonl"


def test_digest_is_sent_once(settings, smtp_server):
    inbox, port = smtp_server
    settings = dataclasses.replace(
        settings, smtp=SmtpSettings(host="127.0.0.1", port=port, timeout=5),
        digest_to=("desk@example.org",),
    )
    report = run_daily(settings, "2026-03-02", archives=[ARCHIVE])
    assert report.digest["sent_at"] and report.digest["send_error"] is None
    assert len(inbox.messages) == 1
    msg = inbox.messages[0]
    assert msg["To"] == "desk@example.org" and "2026-03-02" in msg["Subject"]
    assert msg.get_body(("html",)) is not None and msg.get_body(("plain",)) is not None
    run_daily(settings, "2026-03-02", archives=[ARCHIVE])
    assert len(inbox.messages) == 1  # same content, already sent


def test_unreachable_smtp_keeps_the_eml_and_records_the_error(settings):
    settings = dataclasses.replace(
        settings, smtp=SmtpSettings(host="127.0.0.1", port=free_port(), timeout=2)
    )
    report = run_daily(settings, "2026-03-02", archives=[ARCHIVE])
    assert report.status == "partial"
    assert "ConnectionRefusedError" in report.digest["send_error"]
    with open(report.digest["path"], "rb") as fh:
        assert b"stablewatch" in fh.read()


def test_digest_without_data_says_so(settings):
    with Store.open(settings.db_path) as store:
        digest = build_digest(store, "2026-01-01")
        row = write_digest(store, settings, digest)
    assert "No posts for this day" in digest.text
    assert "MISSING DATA" not in digest.subject  # no run recorded a failure
    assert row["path"].endswith("stablewatch-2026-01-01.eml")


def test_digest_shows_change_since_previous_day(settings):
    run_daily(settings, "2026-03-03", archives=[ARCHIVE])
    with Store.open(settings.db_path) as store:
        digest = build_digest(store, "2026-03-02")
    assert "vs previous day" in digest.text
    assert "pts)" in digest.text or "n/a" in digest.text


class FlakyInbox(Inbox):
    """Refuses the first ``failures`` messages with a temporary error, then accepts."""

    def __init__(self, failures: int) -> None:
        super().__init__()
        self.failures = failures
        self.refused = 0

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd API)
        if self.refused < self.failures:
            self.refused += 1
            return "451 4.3.0 try again later"
        return await super().handle_DATA(server, session, envelope)


def test_a_digest_that_failed_twice_is_delivered_once_by_a_later_run(settings):
    inbox = FlakyInbox(failures=2)
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        settings = dataclasses.replace(
            settings, smtp=SmtpSettings(host="127.0.0.1", port=controller.port, timeout=5))
        first = run_daily(settings, "2026-03-01", archives=[ARCHIVE])
        assert first.digest["send_error"] and "451" in first.digest["send_error"]
        second = run_daily(settings, "2026-03-02", archives=[ARCHIVE])  # retry fails again
        assert second.digest["sent_at"]  # the day's own digest went through
        with Store.open(settings.db_path) as store:
            assert store.digest("2026-03-01")["sent_at"] is None
            assert "still not sent" in store.latest_run("daily", "2026-03-02")["errors"][-1]
        run_daily(settings, "2026-03-03", archives=[ARCHIVE])  # retried, delivered
        run_daily(settings, "2026-03-03", archives=[ARCHIVE])  # nothing left to send
    finally:
        controller.stop()
    days = [m["Subject"].split()[1].rstrip(":") for m in inbox.messages]
    assert days == ["2026-03-02", "2026-03-01", "2026-03-03"]  # each once, the old one retried
    with Store.open(settings.db_path) as store:
        assert all(store.digest(d)["sent_at"] for d in days)
