"""One run at a time per database, so cron and the scheduler daemon never overlap.

Every command that writes (init, collect, score, summarize, digest, daily) holds the lock
for its whole run; commands that only read (status, digest --print on nothing new) do not
need it. While the lock is held, a `runs` row still marked 'running' by another process
can only belong to a process that is gone.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from stablewatch.errors import StablewatchError


class RunLockError(StablewatchError):
    """The run lock cannot be taken."""


class AlreadyRunning(RunLockError):
    """Another stablewatch run holds the lock for this database."""


class LockUnavailable(RunLockError):
    """The lock file cannot be created (a read-only or missing folder)."""


@contextmanager
def run_lock(db_path: Path) -> Iterator[None]:
    """Hold an exclusive lock on `<db>.lock` for the duration; fail fast if taken."""
    lock_path = Path(f"{db_path}.lock")
    try:
        lock_path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise LockUnavailable(
            f"cannot create the lock file {lock_path}: {exc.strerror or exc}; the database "
            "folder must be writable"
        ) from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "unknown"
            raise AlreadyRunning(
                f"another stablewatch run (pid {holder}) is working on {db_path}; "
                f"it holds {lock_path}"
            ) from None
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, str(os.getpid()).encode(), 0)
        except OSError:
            pass  # the pid is a courtesy for the message above; the flock is what counts
        yield
    finally:
        os.close(fd)
