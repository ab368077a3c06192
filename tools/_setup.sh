# Shared by tools/serve and tools/test: create .venv and install mcprt into it (idempotent, quick when
# nothing changed). Usage: MCPRT_EXTRAS=dev source tools/_setup.sh   (or: source tools/_setup.sh dev)
# Scripts set MCPRT_EXTRAS (even to ""): a script sourcing this without arguments would otherwise hand over
# its own "$@" (bash keeps the caller's positional parameters), e.g. `tools/serve --stdio` as the extras.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY="${PYTHON:-python3}"
if ! "$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "mcprt needs Python >= 3.11 (set PYTHON=/path/to/python3.11)" >&2
  exit 1
fi
VENV="$ROOT/.venv"
[ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
EXTRAS="${MCPRT_EXTRAS-${1:-}}"
SPEC="$ROOT"
[ -n "$EXTRAS" ] && SPEC="$ROOT[$EXTRAS]"
STAMP="$VENV/.mcprt-installed-${EXTRAS:-base}"
HASH="$(cat "$ROOT/pyproject.toml" | sha256sum | cut -d' ' -f1)"
# Runtime only is satisfied by any install of this pyproject.toml (every extra includes the runtime).
installed() { [ -f "$1" ] && [ "$(cat "$1")" = "$HASH" ]; }
current=false
if [ -z "$EXTRAS" ]; then
  for stamp in "$VENV"/.mcprt-installed-*; do
    if installed "$stamp"; then current=true; fi
  done
elif installed "$STAMP"; then
  current=true
fi
if ! $current; then
  echo "mcprt: installing into .venv (${EXTRAS:-runtime only}) ..." >&2
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip >&2
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check -e "$SPEC" >&2
  echo "$HASH" > "$STAMP"
fi
export PATH="$VENV/bin:$PATH"
