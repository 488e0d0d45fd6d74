# Sourced by scripts/demo and scripts/test: make .venv with the pinned dependencies (once), point at the data.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

pick_python() {
  for cand in "${PYTHON:-}" python3.12 python3.11 python3.13 python3; do
    [ -n "$cand" ] || continue
    if command -v "$cand" >/dev/null 2>&1 &&
       "$cand" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
      echo "$cand"; return 0
    fi
  done
  echo "collabgraph needs Python 3.11 or newer; set PYTHON=/path/to/python3.11" >&2
  return 1
}

stamp_now="$(cat pyproject.toml constraints.txt | sha256sum | cut -d' ' -f1)"
if [ ! -x .venv/bin/python ] || [ "$(cat .venv/.stamp 2>/dev/null)" != "$stamp_now" ]; then
  py="$(pick_python)"
  echo "Setting up .venv with $("$py" --version) and the pinned dependencies (first run only)…" >&2
  [ -x .venv/bin/python ] || "$py" -m venv .venv
  if ! .venv/bin/python -m pip install --disable-pip-version-check -c constraints.txt -e '.[dev]' \
       > .venv/install.log 2>&1; then
    grep -v '^WARNING: Location' .venv/install.log | tail -30 >&2
    echo "installing the dependencies failed; the full log is .venv/install.log" >&2
    exit 1
  fi
  echo "$stamp_now" > .venv/.stamp
fi

# Data: --data-dir / $COLLABGRAPH_DATA win; else the shared checkout beside the repository when present.
if [ -z "${COLLABGRAPH_DATA:-}" ] && [ -d "$root/../shared/data" ]; then
  export COLLABGRAPH_DATA="$root/../shared/data"
fi
export LITELLM_LOCAL_MODEL_COST_MAP=True HF_HUB_OFFLINE=1
export PATH="$root/.venv/bin:$PATH"
