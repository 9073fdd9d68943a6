#!/usr/bin/env bash
# The unit and broker suites once more on a build with AddressSanitizer and
# UndefinedBehaviorSanitizer (build-sanitize/): memory errors, leaks and undefined behaviour
# anywhere in the chat logic, the brokers, framing and HTTP routing stop the process that has
# them, and so fail the test that ran it. (The Beast sessions and the integration suite are
# not in it yet: a sanitized Beast build alone takes longer than the rest of CI.)
# Run by scripts/test.sh after the regular suites; needs what they need (scripts/setup.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

build_dir=${HAVEN_SANITIZE_BUILD_DIR:-build-sanitize}
jobs=${HAVEN_JOBS:-$(nproc)}
# -O1 keeps the sanitized build and its runs fast enough for CI; debug information names
# the lines in a report.
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g" -DHAVEN_BUILD_TESTS=ON -DHAVEN_SANITIZE=ON >/dev/null
cmake --build "$build_dir" --parallel "$jobs" --target haven_unit_tests haven_broker_tests

# Reports go to stderr, which ctest shows for a failing test; every finding is fatal.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
cd "$build_dir"
ctest --output-on-failure --timeout 600 -j "${HAVEN_TEST_JOBS:-2}" -L 'unit|redis'
