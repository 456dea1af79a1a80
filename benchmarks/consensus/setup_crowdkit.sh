#!/usr/bin/env bash
# Create the crowd-kit reference environment used only by the comparison benchmarks.
# crowd-kit 1.4.2 breaks on scikit-learn >= 1.6 (Wawa, ZeroBasedSkill), so it gets its own
# venv with the versions it was released against; it never touches the project's .venv.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
VENV="${CROWDKIT_VENV:-$ROOT/.venv-crowdkit}"
PY="${PYTHON:-python3.11}"
if [ ! -x "$VENV/bin/python" ]; then
  "$PY" -m venv "$VENV"
fi
"$VENV/bin/pip" install --quiet --upgrade pip
"$VENV/bin/pip" install --quiet "crowd-kit==1.4.2" "scikit-learn==1.5.2" "pandas==2.2.3" "numpy==2.1.3"
"$VENV/bin/python" -c "import crowdkit, sklearn, pandas, numpy; print('crowd-kit ready:', sklearn.__version__, pandas.__version__, numpy.__version__)"
