#!/usr/bin/env bash
# Configures and builds Haven (Release) into build/. Used by run.sh and test.sh.
# Usage: scripts/build.sh [ninja targets...]
set -euo pipefail
cd "$(dirname "$0")/.."

build_dir=${HAVEN_BUILD_DIR:-build}
jobs=${HAVEN_JOBS:-$(nproc)}
# Re-running the configure step is cheap and keeps the build type what these scripts promise.
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DHAVEN_BUILD_TESTS=ON >/dev/null
cmake --build "$build_dir" --parallel "$jobs" ${1:+--target "$@"}
