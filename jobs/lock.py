"""One run at a time per database, so cron and the scheduler daemon never overlap."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class AlreadyRunning(Exception):
    """Another stablewatch run holds the lock for this database."""


@contextmanager
def run_lock(db_path: Path) -> Iterator[None]:
    """Hold an exclusive lock on `<db>.lock` for the duration; fail fast if taken."""
    lock_path = Path(f"{db_path}.lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "unknown"
            raise AlreadyRunning(
                f"another stablewatch run (pid {holder}) is working on {db_path}; "
                f"it holds {lock_path}"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield
    finally:
        os.close(fd)
