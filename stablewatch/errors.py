"""The root of every error stablewatch raises on purpose, like praw's `PRAWException`.

Each package keeps its errors beside its code, all under `StablewatchError`, so a caller
catches the root (the CLI prints its one-line message and exits 1; a `ConfigError` exits
64). The tree:

    StablewatchError
    ├── collectors.errors.CollectorError      a source could not be read
    │   ├── CredentialsError                  └── RedditCredentialsError
    │   ├── HttpError                          (HTTP and API answers)
    │   │   ├── HttpStatusError
    │   │   ├── ResponseTooLarge
    │   │   └── MalformedResponse             └── MalformedFeed, MalformedTokenResponse
    │   ├── SourceFailed                       └── HostUnreachable, TokenRequestFailed
    │   ├── RunLimitReached                    └── BudgetExhausted, DeadlineExceeded
    │   ├── ArchiveError
    │   └── RecordError (also a ValueError)   one bad record, rejected alone
    ├── classifier.errors.ClassifierError      └── ModelNotFoundError, BackboneUnavailable
    ├── jobs.config.ConfigError                a configuration mistake (exit 64)
    ├── jobs.sources.SourceError               a requested source cannot start
    ├── jobs.store.StoreError                  └── NoDatabase, jobs.readonly.ReadOnlyError
    ├── jobs.lock.RunLockError                 └── AlreadyRunning, LockUnavailable
    ├── jobs.digest.DigestError
    └── jobs.formats.FormatError
"""

from __future__ import annotations


class StablewatchError(Exception):
    """Something stablewatch could not do; the message says what, and what to do, in one
    line."""


def error_line(exc: BaseException) -> str:
    """An unexpected exception as runs.errors and the CLI show it: its type and message on
    one line."""
    return " ".join(f"{type(exc).__name__}: {exc}".split())
