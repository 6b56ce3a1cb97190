"""Errors collectors raise or record; none of them carries a traceback into the database."""

from __future__ import annotations


class CredentialsError(Exception):
    """Credentials are missing or rejected; the message names exactly what to set."""


class RedditCredentialsError(CredentialsError):
    """Reddit client id, secret or user agent missing or rejected."""


class BudgetExhausted(Exception):
    """The run's request budget is spent; no further request was sent."""


class SourceFailed(Exception):
    """A request failed for good: retries ran out (`transient`) or the answer was final."""

    def __init__(self, message: str, *, transient: bool) -> None:
        super().__init__(message)
        self.transient = transient


class MalformedResponse(Exception):
    """The server answered with JSON of an unexpected shape."""
