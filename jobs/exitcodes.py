"""Exit codes of every command, for cron and scripts (documented in README and
docs/reliability.md)."""

from __future__ import annotations

import signal

EX_OK = 0  # everything worked
EX_FAILED = 1  # the command failed: nothing (more) was done; the one-line message says why
EX_PARTIAL = 2  # finished, but a source or the email failed (details in runs.errors)
EX_USAGE = 64  # bad command line or configuration (sysexits.h EX_USAGE); nothing ran
EX_INTERRUPTED = 128 + signal.SIGINT  # 130: stopped by Ctrl-C; the run is marked 'aborted'
EX_TERMINATED = 128 + signal.SIGTERM  # 143: stopped by SIGTERM; the run is marked 'aborted'
