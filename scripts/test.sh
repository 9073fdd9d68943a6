#!/usr/bin/env bash
# Installs what is missing, builds everything (Release) and runs every test through ctest,
# then the unit and broker suites again under AddressSanitizer and UBSan
# (scripts/test-sanitizers.sh) and every fuzz target for a bounded time (scripts/fuzz.sh).
# Exits non-zero on any failure. CI runs exactly this (see .ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."

HAVEN_SETUP_TEST=1 scripts/setup.sh
scripts/build.sh
scripts/build-web.sh --e2e
(cd "${HAVEN_BUILD_DIR:-build}" && ctest --output-on-failure --timeout 300 -j "${HAVEN_TEST_JOBS:-2}")
scripts/test-sanitizers.sh
scripts/fuzz.sh "${HAVEN_FUZZ_SECONDS:-15}"
