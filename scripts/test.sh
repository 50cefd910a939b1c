#!/usr/bin/env bash
# Set up (idempotent) and run every test: engine + QGIS tests on the Debian
# stack that QGIS uses, then the engine tests again on the current PyPI stack.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --pypi
export QT_QPA_PLATFORM=offscreen
export PYTHONDONTWRITEBYTECODE=1
status=0
echo "== tests on the Debian/QGIS stack (.venv)"
.venv/bin/python -m pytest tests "$@" || status=$?
echo "== engine tests on the current PyPI stack (.venv-pypi)"
.venv-pypi/bin/python -m pytest tests/engine -p no:pytest_qgis "$@" || status=$((status ? status : $?))
exit $status
