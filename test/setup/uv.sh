#!/usr/bin/env bash
# uv builds step environments fast (Sluice falls back to venv + pip without it); the environment tests
# use it when present. Quick when already installed.
set -euo pipefail
if command -v uv >/dev/null 2>&1; then exit 0; fi
python3 -m pip install --quiet --disable-pip-version-check 'uv>=0.4'
# pyenv puts new console scripts on PATH only after a rehash.
if command -v pyenv >/dev/null 2>&1; then pyenv rehash || true; fi
command -v uv >/dev/null 2>&1 || { echo "uv installed but not on PATH" >&2; exit 1; }
