"""Run the stablewatch CLI in this process and send this process a signal the N-th time a
given function is called: a crash (SIGKILL) or a stop request (SIGTERM) at a precise point.

    python tests/crash_at.py jobs.store:Store.save_scores 2 SIGKILL -- --db x.db daily --sample

The function still runs for real up to that point (nothing is replaced); the signal is
sent just before its N-th call does anything. Used by tests/test_crashes.py.
"""

from __future__ import annotations

import functools
import importlib
import os
import signal
import sys
from typing import Any


def arm(target: str, nth: int, signame: str) -> None:
    module_name, _, attr_path = target.partition(":")
    owner: Any = importlib.import_module(module_name)
    *parents, name = attr_path.split(".")
    for parent in parents:
        owner = getattr(owner, parent)
    original = getattr(owner, name)
    calls = 0

    @functools.wraps(original)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == nth:
            os.kill(os.getpid(), getattr(signal, signame))
        return original(*args, **kwargs)

    setattr(owner, name, wrapper)


def main(argv: list[str]) -> None:
    target, nth, signame, separator, *cli_args = argv
    assert separator == "--", __doc__
    arm(target, int(nth), signame)
    from jobs.cli import cli

    cli.main(cli_args, prog_name="stablewatch")


if __name__ == "__main__":
    main(sys.argv[1:])
