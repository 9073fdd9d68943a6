#!/usr/bin/env bash
# Installs what is missing, builds everything (Release) and runs every test through ctest.
# Exits non-zero on any failure. CI runs exactly this (see .ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."

HAVEN_SETUP_TEST=1 scripts/setup.sh
scripts/build.sh
scripts/build-web.sh --e2e
cd "${HAVEN_BUILD_DIR:-build}"
ctest --output-on-failure --timeout 300 -j "${HAVEN_TEST_JOBS:-2}"
