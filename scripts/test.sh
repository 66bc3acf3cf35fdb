#!/usr/bin/env bash
# Installs everything (system packages, .venv with the test extras) and runs the whole test suite.
# Extra arguments go to pytest, e.g. scripts/test.sh tests/grading -q
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/system-deps.sh test
scripts/venv.sh test
export QT_QPA_PLATFORM=offscreen
exec .venv/bin/python -m pytest "$@"
