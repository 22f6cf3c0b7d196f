#!/usr/bin/env bash
# Creates .venv with the Python readers the tests cross-check against (datasets, pyarrow, duckdb,
# huggingface_hub). Test-only: arcforge itself never imports them. Idempotent and quick when done.
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ -x .venv/bin/python ] && .venv/bin/python -c "import datasets, pyarrow, duckdb, huggingface_hub" 2>/dev/null; then
  exit 0
fi
python3 -m venv .venv
# Prefer the machine's configured package indexes directly, so pip does not wait on an unreachable public index.
mapfile -t indexes < <(python3 -m pip config get global.extra-index-url 2>/dev/null | tr ' ' '\n' | sed '/^$/d')
args=()
if [ ${#indexes[@]} -gt 0 ]; then
  args+=(--index-url "${indexes[0]}")
  for extra in "${indexes[@]:1}"; do args+=(--extra-index-url "$extra"); done
fi
.venv/bin/pip install -q "${args[@]}" datasets pyarrow duckdb huggingface_hub
