"""Stopping cleanly on SIGTERM (what cron, systemd and `kill` send) and Ctrl-C.

`stop_on_sigterm()` turns the first SIGTERM into `Stopped`, raised in the main thread
wherever it is (a network wait, scoring, a write): the run records itself 'aborted',
every open transaction rolls back, the lock is released and the CLI exits 143. Later
signals during that cleanup are ignored so it can finish.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType


class Stopped(BaseException):
    """The process was asked to stop by a signal (a BaseException, like KeyboardInterrupt,
    so that no `except Exception` swallows it)."""

    def __init__(self, signum: int) -> None:
        self.signum = signum
        super().__init__(f"stopped by {signal.Signals(signum).name}")


def stop_reason(exc: BaseException) -> str | None:
    """'stopped by SIGTERM' / 'stopped by Ctrl-C' for a stop request, else None."""
    if isinstance(exc, Stopped):
        return str(exc)
    if isinstance(exc, KeyboardInterrupt):
        return "stopped by Ctrl-C (SIGINT)"
    return None


@contextmanager
def stop_on_sigterm() -> Iterator[None]:
    """Raise `Stopped` on the first SIGTERM for the duration (main thread only; elsewhere,
    and when signals cannot be set, this does nothing)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    raised = False

    def handler(signum: int, frame: FrameType | None) -> None:
        nonlocal raised
        if not raised:
            raised = True
            raise Stopped(signum)

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
