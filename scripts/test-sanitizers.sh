#!/usr/bin/env bash
# The suites once more with AddressSanitizer, LeakSanitizer and UndefinedBehaviorSanitizer
# (build-sanitize/): the unit and broker suites built sanitized, and the integration suite of
# the regular build (build/) driving a sanitized haven-server, Beast sessions, TLS and Redis
# included. Memory errors, leaks and undefined behaviour anywhere in the server stop it and
# fail the step; the server's reports are kept in build-sanitize/sanitizer-reports/ and printed.
# Run by scripts/test.sh after the regular suites (it needs their build); needs what they need
# (scripts/setup.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

build_dir=${HAVEN_SANITIZE_BUILD_DIR:-build-sanitize}
regular_build=${HAVEN_BUILD_DIR:-build}
jobs=${HAVEN_JOBS:-$(nproc)}
# -O1 keeps the sanitized build and its runs fast enough for CI; debug information names
# the lines in a report.
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g" -DHAVEN_BUILD_TESTS=ON -DHAVEN_SANITIZE=ON >/dev/null
cmake --build "$build_dir" --parallel "$jobs" --target haven_unit_tests haven_broker_tests haven_crisis_eval \
  haven-server

# Unit and broker suites: reports go to stderr, which ctest shows for a failing test.
(
  export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1}
  export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
  cd "$build_dir"
  ctest --output-on-failure --timeout 600 -j "${HAVEN_TEST_JOBS:-2}" -L 'unit|redis'
)

# The integration suite against the sanitized server. A server that finds an error exits at
# once (its test then fails), and at every exit it checks for leaks; each report lands in a
# file of its own, so none is lost in a test's server log.
reports="$(pwd)/$build_dir/sanitizer-reports"
rm -rf "$reports"
mkdir -p "$reports"
status=0
(
  export HAVEN_SERVER_BINARY="$(pwd)/$build_dir/haven-server"
  export HAVEN_SERVER_SANITIZED=1  # tests skip bounds on its resident memory
  export ASAN_OPTIONS="detect_leaks=1:strict_string_checks=1:log_path=$reports/asan"
  export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$reports/ubsan"
  cd "$regular_build"
  ctest --output-on-failure --timeout 600 -j "${HAVEN_TEST_JOBS:-2}" -L integration
) || status=$?
if compgen -G "$reports/*" >/dev/null; then
  for report in "$reports"/*; do
    echo "== $report"
    cat "$report"
  done
  echo "test-sanitizers: the sanitized server reported errors (above; kept in $reports)" >&2
  exit 1
fi
exit "$status"
