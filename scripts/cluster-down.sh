#!/usr/bin/env bash
# Stops exactly what scripts/cluster-up.sh started (recorded in build/cluster/pids): nginx
# first, then the Haven instances (SIGTERM: they drain), then Redis.
set -uo pipefail
cd "$(dirname "$0")/.."
state="build/cluster"
[ -f "$state/pids" ] || { echo "no cluster recorded in $state"; exit 0; }

stop() {  # name pid
  kill -TERM "$2" 2>/dev/null || return 0
  for _ in $(seq 100); do kill -0 "$2" 2>/dev/null || return 0; sleep 0.1; done
  echo "$1 did not stop in time; killing it"
  kill -KILL "$2" 2>/dev/null
}

# Read in this shell (not a pipeline's subshell) so `wait` waits for the draining instances:
# Redis must outlive them, they release their presence in it on the way out.
while read -r name pid; do stop "$name" "$pid"; done < <(grep '^nginx ' "$state/pids")
while read -r name pid; do stop "$name" "$pid" & done < <(grep '^haven-' "$state/pids")
wait
while read -r name pid; do stop "$name" "$pid"; done < <(grep '^redis ' "$state/pids")
rm -f "$state/pids"
echo "cluster down"
