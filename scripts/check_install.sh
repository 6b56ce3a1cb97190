#!/usr/bin/env bash
# The user's path, from scratch: `pip install .` (not editable) into an empty venv, then
# `stablewatch daily --sample` from another directory. Checks that the wheel ships the
# bundled data and that every dependency the default model needs is declared.
# Slow (installs torch and the rest again), so .ci/run calls it instead of the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$PYTHON" -m venv "$tmp/venv"
"$tmp/venv/bin/pip" install -q --upgrade pip
"$tmp/venv/bin/pip" install -q torch==2.13.0   # the CPU wheel, pinned as in setup.sh
"$tmp/venv/bin/pip" install -q .
mkdir "$tmp/elsewhere"
cd "$tmp/elsewhere"
"$tmp/venv/bin/stablewatch" --db "$tmp/x/db" daily --sample --no-send
test -f "$tmp/x/outbox/stablewatch-2026-11-23.eml"
echo "check_install: pip install . and daily --sample from another directory work"
