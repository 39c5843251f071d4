#!/usr/bin/env bash
# Installs what the tests need beyond npm packages (Debian packages, Python tooling). Each need is one
# idempotent script beside this one; each is quick when its tools are already installed.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
for s in "$here"/*.sh; do
  [ "$(basename "$s")" = all.sh ] && continue
  echo "== setup: $(basename "$s")"
  bash "$s"
done
