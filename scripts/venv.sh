#!/usr/bin/env bash
# Creates .venv beside the repository (once) and installs riskmap into it in editable mode.
#   scripts/venv.sh            the application
#   scripts/venv.sh test       the application and the test tools
set -euo pipefail
cd "$(dirname "$0")/.."
python="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
    "$python" -m venv .venv
fi
extras=""
if [ "${1:-}" = "test" ]; then extras="[test,postgis]"; fi
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
.venv/bin/python -m pip install -q -e ".${extras}"
