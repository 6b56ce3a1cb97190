"""Errors collectors raise or record; none of them carries a traceback into the database."""

from __future__ import annotations


class CredentialsError(Exception):
    """Credentials are missing or rejected; the message names exactly what to set."""


class RedditCredentialsError(CredentialsError):
    """Reddit client id, secret or user agent missing or rejected."""


class RunLimitReached(Exception):
    """A limit of this run is spent (request budget or deadline); no request was sent."""


class BudgetExhausted(RunLimitReached):
    """The run's request budget is spent; no further request was sent."""


class DeadlineExceeded(RunLimitReached):
    """The source's (or the run's) wall-clock deadline has passed; no request was sent."""


class SourceFailed(Exception):
    """A request failed for good: retries ran out (`transient`) or the answer was final."""

    def __init__(self, message: str, *, transient: bool) -> None:
        super().__init__(message)
        self.transient = transient


class HostUnreachable(SourceFailed):
    """The host left the last several attempts unanswered; it is not asked again this run."""

    def __init__(self, message: str) -> None:
        super().__init__(message, transient=True)


class TokenRequestFailed(SourceFailed):
    """Reddit's token endpoint gave no usable answer; no request of the run can succeed."""

    def __init__(self, message: str) -> None:
        super().__init__(message, transient=True)


class MalformedResponse(Exception):
    """The server answered with JSON of an unexpected shape."""
