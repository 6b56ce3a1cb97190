"""Wall-clock deadlines for collecting: one per source, never past the run's.

`jobs/` opens a scope around each source's harvest (``with deadline_scope(d): ...``).
The transports (`collectors.http.HttpClient` and the Reddit requestor) read `current()`
before every request: they shorten its timeouts to the time left, and refuse to start a
request, or a back-off sleep, that would end past the deadline (`DeadlineExceeded`).
Collectors know nothing of it; a deadline ends a harvest like any other fetch error.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from collectors.errors import DeadlineExceeded

Clock = Callable[[], float]


class Deadline:
    """A point in monotonic time; `label` names what it limits in messages ("reddit")."""

    def __init__(
        self,
        seconds: float,
        label: str,
        *,
        clock: Clock = time.monotonic,
        parent: Deadline | None = None,
    ) -> None:
        self.seconds = float(seconds)
        self.label = label
        self._clock = clock
        self.at = clock() + self.seconds
        if parent is not None and parent.at < self.at:  # the run ends first: it binds
            self.at, self.seconds, self.label = parent.at, parent.seconds, parent.label

    def remaining(self) -> float:
        return max(0.0, self.at - self._clock())

    @property
    def expired(self) -> bool:
        return self._clock() >= self.at

    @property
    def message(self) -> str:
        return f"{self.label} deadline of {self.seconds:g} s reached"

    def check(self, what: str = "") -> None:
        """Raise `DeadlineExceeded` (naming `what` was not done) once the deadline passed."""
        if self.expired:
            raise DeadlineExceeded(f"{what}: {self.message}" if what else self.message)

    def timeout(self, wanted: float, what: str = "") -> float:
        """`wanted` seconds, or less when the deadline comes first; raises when it passed."""
        self.check(what)
        return max(0.001, min(wanted, self.remaining()))

    def check_wait(self, seconds: float, what: str = "") -> None:
        """Raise instead of sleeping `seconds` when the sleep would end past the deadline."""
        if seconds >= self.remaining():
            prefix = f"{what}: " if what else ""
            raise DeadlineExceeded(
                f"{prefix}{self.message} (a retry would have waited {seconds:.1f} s)"
            )


_CURRENT: ContextVar[Deadline | None] = ContextVar("stablewatch_deadline", default=None)


def current() -> Deadline | None:
    """The deadline of the harvest running now, if any."""
    return _CURRENT.get()


@contextmanager
def deadline_scope(deadline: Deadline | None) -> Iterator[Deadline | None]:
    """Make `deadline` the current one for the duration (None: no deadline)."""
    token = _CURRENT.set(deadline)
    try:
        yield deadline
    finally:
        _CURRENT.reset(token)
