#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz with clang (build-fuzz/) and runs each for a
# bounded time from its checked-in seed corpus; any crash, leak, undefined behaviour or failed
# assertion of a target fails. Targets: WebSocket frames, both codecs, post text (UTF-8,
# crisis matching, redaction), JWTs, handle folding, the config loader, static path resolution
# and the WebSocket upgrade checks.
# Usage: scripts/fuzz.sh [SECONDS_PER_TARGET]   (default 15, what scripts/test.sh uses: about
# 2 minutes of runs after the build, about 3 minutes in all on the 2-core CI machine; a longer
# run, e.g. 120 or 600, is worth doing after changing a decoder or a parser). A crash leaves
# its input in build-fuzz/crashes/: add it to the target's corpus as a regression input.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-15}
build_dir=${HAVEN_FUZZ_BUILD_DIR:-build-fuzz}
jobs=${HAVEN_JOBS:-$(nproc)}
targets=(ws_frames codec text jwt handle config static_path upgrade)

cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g" \
  -DHAVEN_BUILD_TESTS=OFF -DHAVEN_FUZZ=ON >/dev/null
cmake --build "$build_dir" --parallel "$jobs" --target "${targets[@]/%/_fuzz}"

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
mkdir -p "$build_dir/crashes"
for target in "${targets[@]}"; do
  # New inputs go to a scratch copy: the checked-in corpus stays the reviewed seeds. What a
  # target writes in $TMPDIR (static_path makes a folder to serve) goes to another.
  work=$(mktemp -d)
  scratch=$(mktemp -d)
  cp tests/fuzz/corpus/"$target"/* "$work"/
  echo "== fuzz $target: ${seconds}s"
  log="$build_dir/${target}.log"
  if ! TMPDIR="$scratch" "$build_dir/tests/fuzz/${target}_fuzz" -max_total_time="$seconds" \
      -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
      -artifact_prefix="$build_dir/crashes/${target}-" "$work" >"$log" 2>&1; then
    tail -n 60 "$log"
    rm -rf "$work" "$scratch"
    echo "fuzz: $target failed; the input is in $build_dir/crashes/" >&2
    exit 1
  fi
  grep -E "^stat::number_of_executed_units|^stat::peak_rss_mb" "$log" || true
  rm -rf "$work" "$scratch"
done
