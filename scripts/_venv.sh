# Shared by scripts/serve and scripts/test: a virtual environment in .venv with the project
# installed (editable), reinstalled only when setup.cfg or pyproject.toml change.
# Usage: source scripts/_venv.sh [extras]
set -euo pipefail
PYTHON=${PYTHON:-$(command -v python3.11 || command -v python3)}
"$PYTHON" - <<'PY' || { echo "MHFA Reach needs Python 3.11 or newer (found $("$PYTHON" --version))" >&2; exit 1; }
import sys
sys.exit(0 if sys.version_info >= (3, 11) else 1)
PY
if [ ! -x .venv/bin/python ]; then
  echo "Creating a virtual environment in .venv"
  "$PYTHON" -m venv .venv
fi
extras=${1:-}
stamp=.venv/.installed${extras:+-$extras}
if [ ! -f "$stamp" ] || [ setup.cfg -nt "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  echo "Installing MHFA Reach${extras:+ with [$extras]} into .venv (first run takes a minute)"
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".${extras:+[$extras]}"
  touch "$stamp"
fi
