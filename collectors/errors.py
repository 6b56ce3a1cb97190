"""Errors collectors raise or record, under `CollectorError` (and the root
`stablewatch.errors.StablewatchError`); none of them carries a traceback into the database.
"""

from __future__ import annotations

from stablewatch.errors import StablewatchError


class CollectorError(StablewatchError):
    """A source could not be read, or one of its records could not be."""


class CredentialsError(CollectorError):
    """Credentials are missing or rejected; the message names exactly what to set."""


class RedditCredentialsError(CredentialsError):
    """Reddit client id, secret or user agent missing or rejected."""


class HttpError(CollectorError):
    """A request failed; the message names the URL and the reason."""

    def __init__(self, message: str, url: str = "", status: int | None = None) -> None:
        super().__init__(message)
        self.url = url
        self.status = status


class HttpStatusError(HttpError):
    """The server answered with a non-success status (after any retries)."""


class ResponseTooLarge(HttpError):
    """The body exceeded `HttpSettings.max_bytes`; reading stopped there."""


class MalformedResponse(HttpError):
    """The answer is not in the expected format: not JSON, or JSON of an unexpected shape."""


class RunLimitReached(CollectorError):
    """A limit of this run is spent (request budget or deadline); no request was sent."""


class BudgetExhausted(RunLimitReached):
    """The run's request budget is spent; no further request was sent."""


class DeadlineExceeded(RunLimitReached):
    """The source's (or the run's) wall-clock deadline has passed; no request was sent."""


class SourceFailed(CollectorError):
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


class ArchiveError(CollectorError):
    """The archive file cannot be read at all."""


class RecordError(CollectorError, ValueError):
    """A record that is not a valid post; the message says which field and why. A
    ValueError too: it is rejected alone, like any other record error."""
