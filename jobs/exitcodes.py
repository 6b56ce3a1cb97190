"""Exit codes of the `stablewatch` command, one name each (sysexits.h where one fits)."""

from __future__ import annotations

EX_USAGE = 64  # a mistake in the command line or the configuration; nothing ran
