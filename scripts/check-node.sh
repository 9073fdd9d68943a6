#!/usr/bin/env bash
# Checks that Node.js is new enough for the web client's build (Vite 7 needs 20.19+ or 22.12+;
# Debian 12's own nodejs package is 18, too old: install Node.js 20 or 22 from nodejs.org or
# NodeSource). Exits 1 with a message saying what is missing.
set -euo pipefail

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "haven: Node.js 20.19+ or 22.12+ with npm is needed to build the web client; not found" >&2
  exit 1
fi
version=$(node --version)  # v20.20.2
IFS=. read -r major minor _ <<<"${version#v}"
if { [ "$major" -eq 20 ] && [ "$minor" -ge 19 ]; } || { [ "$major" -eq 22 ] && [ "$minor" -ge 12 ]; } ||
  [ "$major" -ge 23 ]; then
  exit 0
fi
echo "haven: the web client's build needs Node.js 20.19+ or 22.12+ (found $version;" \
  "Debian 12's nodejs is 18)" >&2
exit 1
