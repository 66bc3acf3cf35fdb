#!/usr/bin/env bash
# Installs everything and opens riskmap on the bundled demo (会宁县, fictitious data).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/system-deps.sh app
scripts/venv.sh
exec .venv/bin/riskmap "$@"
