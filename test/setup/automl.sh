#!/usr/bin/env bash
# AutoML steps run in a Python environment that Sluice builds itself (lib/automl/environment.ts: the pins
# of lib/automl/runtime/requirements.txt, built with uv by lib/environments on the agent). This script only
# pre-warms uv's wheel cache with those pins, so that the first build in the tests links wheels instead of
# downloading ~150 MB. Quick when warm (an offline install into a throwaway venv); nothing is installed
# into the machine's own python3.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bash "$here/uv.sh" # runs after this one in all.sh's order; idempotent
req="$here/../../lib/automl/runtime/requirements.txt"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
uv venv --quiet "$tmp/venv"
if uv pip install --quiet --offline --python "$tmp/venv/bin/python" -r "$req" >/dev/null 2>&1; then
  echo "automl: uv cache holds the AutoML environment's wheels"
  exit 0
fi
uv pip install --quiet --python "$tmp/venv/bin/python" -r "$req"
echo "automl: uv cache warmed with the AutoML environment's wheels"
