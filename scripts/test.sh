#!/usr/bin/env bash
# Installs everything (system packages, .venv with the test extras) and runs the whole test suite.
# Extra arguments go to pytest, e.g. scripts/test.sh tests/grading -q
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/system-deps.sh test
scripts/venv.sh test
# With RISKMAP_BUILD_BUNDLE=1 the self-contained bundle is built first (~2-4 min on two cores), so
# tests/test_bundle.py runs it; otherwise those tests are skipped with their reason
if [ "${RISKMAP_BUILD_BUNDLE:-}" = 1 ]; then scripts/build-bundle.sh --for-tests; fi
export QT_QPA_PLATFORM=offscreen
exec .venv/bin/python -m pytest "$@"
