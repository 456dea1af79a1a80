#!/usr/bin/env bash
# Creates the benchmark-only venv that holds ensemble-boxes (WBF), kept apart from the
# project's .venv so the library never depends on it. Idempotent; re-run to repair.
set -euo pipefail
here="$(cd "$(dirname "$0")/../.." && pwd)"
venv="${GEOBENCH_VENV:-$here/.venv-geobench}"
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --upgrade pip
"$venv/bin/pip" install --quiet "ensemble-boxes==1.0.9" numpy
"$venv/bin/python" -c "import ensemble_boxes; print('ensemble-boxes ok')"
