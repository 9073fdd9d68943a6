#!/usr/bin/env bash
# Builds the web client into client-web/dist (served by haven-server) with npm.
# `npm ci` runs only when node_modules is missing or package-lock.json changed since the last
# install. With --e2e it also installs the browser tests' dependencies (tests/e2e).
# Used by run.sh and test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/check-node.sh

install_deps() {  # $1 = folder with package.json and package-lock.json
  local stamp="$1/node_modules/.haven-lock.sha256"
  local sum
  sum=$(sha256sum "$1/package-lock.json" | cut -d' ' -f1)
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$sum" ]; then
    echo "build-web: npm ci in $1"
    (cd "$1" && npm ci --no-audit --no-fund --loglevel=error)
    echo "$sum" > "$stamp"
  fi
}

install_deps client-web
(cd client-web && npm run --silent build)
if [ "${1:-}" = "--e2e" ]; then
  install_deps tests/e2e
fi
