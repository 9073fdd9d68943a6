#!/usr/bin/env bash
# Haven's benchmark suite, W1-W5, driven by tests/load's haven-load. Never part of CI.
#
#   scripts/bench.sh                 the full suite (about 3 minutes of load, plus the build)
#   scripts/bench.sh --reduced       a short version that shows everything works (~1 minute)
#   scripts/bench.sh --only W1,W4    some workloads only
#   scripts/bench.sh --out DIR       where results go (default build-bench/bench-<time>/)
#   scripts/bench.sh --no-build      use the binaries already in build-bench/
#   scripts/bench.sh --report DIR    redo summary, table and chart from DIR/results.jsonl
#
# Every workload gets a fresh server (Release build, one shard, pinned to CPU 0 with taskset;
# the generator runs on CPU 1), so one workload's state and memory never leak into the next.
#   W1     fan-out: 1 room x 1,000 subscribers, 100 posts/s: server CPU us per delivery
#   W1max  the same room, publish rate stepped up until a step fails the criteria
#          (>= 99.9 % delivered, p99 <= 50 ms): the highest passing rate
#   W2     500 rooms x 20 members, 2,000 posts/s in total: server CPU % and p99
#   W3     18,000 idle joined connections (in rooms of 20): server RSS per connection
#   W4     connect + Hello + Join 10,000 clients, 256 in flight: total time
#   W5     2 instances on Redis (broker.kind = "redis"), 1,000 subscribers split over both,
#          100 posts/s: p99 and the CPU of both instances and Redis together
# Next to W1 and W2, haven-send-floor measures this machine's floor for their shapes: the CPU
# that one write per delivery costs with nothing else done (floor-W1, floor-W2). A write on
# loopback costs several microseconds of kernel time here, so W1 and W2 are reported against
# that floor as well as in absolute figures (W5, which makes W1's deliveries on two instances,
# against floor-W5, the same shape).
# Output: results.jsonl (one haven-load JSON object per run), summary.json (the headline
# figure of each workload), a table on stdout, and chart.png (gnuplot; chart.svg without it):
# p99 latency against delivered rate, from every posting step.
#
# This machine caps open files at 20,000 per process (hard limit): W3's 18,000 connections
# fit in one generator process (haven-load raises its soft limit to the hard limit) and one
# server. Larger counts need several generator processes, each with --server-pid, and a
# server started with a higher limit.
#
# Environment: HAVEN_BENCH_BUILD_DIR (default build-bench), HAVEN_JOBS (build jobs, 2),
# HAVEN_BENCH_SERVER_CPU / HAVEN_BENCH_LOAD_CPU (0 / 1), HAVEN_BENCH_RAMP (W1max steps,
# FROM:TO:FACTOR, default 1000:16000:1.2), HAVEN_BENCH_BATCH_US (2000, see below).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

reduced=0
only=""
out=""
build=1
report_only=0
while [ $# -gt 0 ]; do
  case "$1" in
    --reduced) reduced=1 ;;
    --only) only=$2; shift ;;
    --out) out=$2; shift ;;
    --no-build) build=0 ;;
    --report) out=$2; report_only=1; shift ;;
    -h|--help) awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"; exit 0 ;;
    *) echo "bench: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done

build_dir=${HAVEN_BENCH_BUILD_DIR:-$root/build-bench}
out=${out:-$build_dir/bench-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$out"
out=$(cd "$out" && pwd)
results=$out/results.jsonl
if [ "$report_only" = 1 ]; then
  [ -s "$results" ] || { echo "bench: no $results" >&2; exit 2; }
  build=0
  only=none  # run no workload
  reduced=0
  [ -e "$out/REDUCED" ] && reduced=1
else
  : > "$results"
  rm -f "$out/REDUCED"
  [ "$reduced" = 1 ] && echo "a reduced run: smaller counts, shorter steps" > "$out/REDUCED"
fi

# ---- workload sizes: full, and the reduced run that only shows the tooling works -----------
if [ "$reduced" = 1 ]; then
  w1_seconds=3; w1max_rates=25,50,100; w1max_seconds=2
  w2_seconds=3; w3_connections=2000; w3_seconds=2; w4_clients=2000; w5_seconds=3
else
  w1_seconds=10; w1max_rates=""; w1max_seconds=4
  w2_seconds=10; w3_connections=18000; w3_seconds=10; w4_clients=10000; w5_seconds=10
fi
# The rate search: geometric steps until a step fails (or the ceiling is reached).
w1max_ramp=${HAVEN_BENCH_RAMP:-1000:16000:1.2}
# W1, W2 and W5 run at modest rates and want exact latencies: the generator reacts to every
# frame. The rate search pushes up to millions of deliveries a second: the generator waits 2 ms
# between polls so each read() takes many frames (its CPU per delivery drops several-fold,
# which it must at 8 million deliveries a second), adding at most 2 ms to latencies judged
# against a 50 ms limit.
fast_batch=(--batch-us "${HAVEN_BENCH_BATCH_US:-2000}")

server_cpu=${HAVEN_BENCH_SERVER_CPU:-0}
load_cpu=${HAVEN_BENCH_LOAD_CPU:-1}
if [ "$(nproc)" -lt 2 ]; then server_cpu=0; load_cpu=0; fi

want() { [ -z "$only" ] || [[ ",$only," == *",$1,"* ]]; }

# ---- tools and binaries -----------------------------------------------------------------
need_packages=()
command -v jq >/dev/null || need_packages+=(jq)
command -v gnuplot >/dev/null || need_packages+=(gnuplot-nox)
command -v taskset >/dev/null || need_packages+=(util-linux)
if want W5 && ! command -v redis-server >/dev/null; then need_packages+=(redis-server); fi
if [ ${#need_packages[@]} -gt 0 ]; then
  echo "bench: installing ${need_packages[*]}"
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  if ! { "${sudo_cmd[@]}" apt-get update -qq &&
         "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${need_packages[@]}"; }; then
    echo "bench: could not install ${need_packages[*]}; continuing without what is missing" >&2
  fi
fi
command -v jq >/dev/null || { echo "bench: jq is required" >&2; exit 2; }

if [ "$report_only" = 1 ]; then
  :
elif [ "$build" = 1 ]; then
  cmake -S "$root" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
  ninja -C "$build_dir" -j "${HAVEN_JOBS:-2}" haven-server haven-load haven-send-floor
fi
server_bin=$build_dir/haven-server
load_bin=$build_dir/tests/haven-load
floor_bin=$build_dir/tests/haven-send-floor
if [ "$report_only" = 0 ] && ! { [ -x "$server_bin" ] && [ -x "$load_bin" ]; }; then
  echo "bench: build $server_bin and $load_bin first" >&2; exit 2
fi

# ---- servers ------------------------------------------------------------------------------
pids=()
cleanup() {
  # SIGINT: the servers close connections and exit at once (no drain grace period).
  for pid in "${pids[@]}"; do kill -INT "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  pids=()
}
trap cleanup EXIT

# Below the ephemeral range (32768+), so no client socket of anyone's holds the port.
free_port() {
  local port
  for _ in $(seq 1 50); do
    port=$(shuf -i 12000-32000 -n 1)
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then echo "$port"; return; fi
  done
  echo "bench: no free port" >&2; exit 2
}

# write_config FILE PORT [REDIS_URL]: one shard, guests, limits raised so the generator is
# never refused or cut off as a slow consumer, 1,000 rooms load-0 .. load-999.
write_config() {
  local file=$1 port=$2 redis=${3:-}
  {
    echo "# haven benchmark configuration, written by scripts/bench.sh"
    echo "[server]"
    echo "address = \"127.0.0.1\""
    echo "port = $port"
    echo "shards = 1"
    echo "static_dir = \"\""
    echo
    echo "[limits]"
    echo "posts_per_second = 1000.0"
    echo "post_burst = 10000"
    echo "outbound_queue_bytes = 16777216"
    echo "outbound_queue_messages = 100000"
    echo "handshake_timeout_ms = 60000"
    echo "hello_timeout_ms = 60000"
    echo "idle_timeout_ms = 3600000"
    echo "# Every generated client comes from 127.0.0.1: one address, thousands of people."
    echo "connections_per_address = 1000000"
    echo "upgrades_per_address = 1000000"
    echo "new_guests_per_address_per_hour = 1000000"
    echo
    echo "[auth]"
    echo "guest_enabled = true"
    echo "guest_secret = \"benchmark-guest-secret-0123456789abcdef\""
    echo
    echo "[broker]"
    if [ -n "$redis" ]; then
      echo "kind = \"redis\""
      echo "redis_url = \"$redis\""
      echo "key_prefix = \"bench:\""
    else
      echo "kind = \"memory\""
    fi
    echo
    echo "[moderation]"
    echo "crisis_dir = \"$root/config/crisis\""
    echo
    echo "[log]"
    echo "level = \"warn\""
    for i in $(seq 0 999); do
      printf '\n[[rooms]]\nid = "load-%d"\ntitle = "Load %d"\ncapacity = 20000\n' "$i" "$i"
    done
  } > "$file"
}

# start_server NAME [REDIS_URL]: sets srv_port and srv_pid; waits until /readyz answers 200.
start_server() {
  local name=$1 redis=${2:-} port pid attempt
  for attempt in 1 2 3; do
    port=$(free_port)
    write_config "$out/$name.toml" "$port" "$redis"
    taskset -c "$server_cpu" "$server_bin" --config "$out/$name.toml" >"$out/$name.log" 2>&1 &
    pid=$!
    pids+=("$pid")
    for _ in $(seq 1 300); do
      if curl -fsS -o /dev/null "http://127.0.0.1:$port/readyz" 2>/dev/null; then
        srv_port=$port; srv_pid=$pid; return
      fi
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.05
    done
    # A port taken between the check and the bind: try another one.
    grep -q "cannot listen" "$out/$name.log" && ! kill -0 "$pid" 2>/dev/null && continue
    break
  done
  echo "bench: $name did not become ready; see $out/$name.log" >&2
  cat "$out/$name.log" >&2
  exit 1
}

stop_servers() { cleanup; }

load() {  # load LABEL ARGS...: runs haven-load on the generator CPU, appending its JSON
  local label=$1; shift
  echo "== $label: haven-load $*"
  taskset -c "$load_cpu" "$load_bin" --label "$label" --json "$results" "$@" || {
    echo "bench: $label: haven-load failed (status $?)" >&2; return 0; }
}

floor() {  # floor LABEL ARGS...: the one-write-per-delivery floor, sender on the server's CPU
  local label=$1; shift
  echo "== $label: haven-send-floor $*"
  "$floor_bin" --label "$label" --json "$results" --sender-cpu "$server_cpu" \
    --reader-cpu "$load_cpu" "$@" || echo "bench: $label: haven-send-floor failed" >&2
}

# ---- the suite ----------------------------------------------------------------------------
if want W1; then
  floor floor-W1 --connections 1000 --rate 100 --seconds "$w1_seconds"
  start_server w1; port=$srv_port; pid=$srv_pid
  load W1 -m broadcast -s "127.0.0.1:$port" --server-pid "$pid" -n 1000 -p 2 \
    --rate 100 --duration "$w1_seconds"
  stop_servers
fi

if want W1max; then
  start_server w1max; port=$srv_port; pid=$srv_pid
  if [ -n "$w1max_rates" ]; then steps=(--rates "$w1max_rates"); else steps=(--ramp "$w1max_ramp"); fi
  # -p 0: one publisher per 800 posts/s of the highest step (each stays under its own budget).
  load W1max -m broadcast -s "127.0.0.1:$port" --server-pid "$pid" -n 1000 -p 0 \
    "${fast_batch[@]}" "${steps[@]}" --duration "$w1max_seconds" --stop-on-fail --min-delivered 0.999 --max-p99-ms 50
  stop_servers
fi

if want W2; then
  floor floor-W2 --connections 10000 --rate 2000 --per-round 20 --seconds "$w2_seconds"
  start_server w2; port=$srv_port; pid=$srv_pid
  load W2 -m rooms -s "127.0.0.1:$port" --server-pid "$pid" -n 10000 -r 500 \
    --rate 2000 --duration "$w2_seconds"
  stop_servers
fi

if want W3; then
  start_server w3; port=$srv_port; pid=$srv_pid
  load W3 -m idle -s "127.0.0.1:$port" --server-pid "$pid" -n "$w3_connections" \
    -r $(( (w3_connections + 19) / 20 )) --duration "$w3_seconds" --local-addrs 32
  stop_servers
fi

if want W4; then
  start_server w4; port=$srv_port; pid=$srv_pid
  load W4 -m storm -s "127.0.0.1:$port" --server-pid "$pid" -n "$w4_clients" \
    -r $(( (w4_clients + 19) / 20 )) --in-flight 256 --local-addrs 32
  stop_servers
fi

if want W5; then
  if command -v redis-server >/dev/null; then
    floor floor-W5 --connections 1000 --rate 100 --seconds "$w5_seconds"
    redis_port=$(free_port)
    taskset -c "$server_cpu" redis-server --port "$redis_port" --bind 127.0.0.1 --save "" \
      --appendonly no --daemonize no --dir "$out" >"$out/redis.log" 2>&1 &
    redis_pid=$!
    pids+=("$redis_pid")
    for _ in $(seq 1 100); do
      redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break
      sleep 0.05
    done
    start_server w5a "redis://127.0.0.1:$redis_port"; port_a=$srv_port; pid_a=$srv_pid
    start_server w5b "redis://127.0.0.1:$redis_port"; port_b=$srv_port; pid_b=$srv_pid
    load W5 -m broadcast -s "127.0.0.1:$port_a" -s "127.0.0.1:$port_b" \
      --server-pid "$pid_a" --server-pid "$pid_b" --server-pid "$redis_pid" -n 1000 -p 2 \
      --rate 100 --duration "$w5_seconds"
    stop_servers
  else
    echo "bench: W5 skipped (no redis-server)" >&2
  fi
fi

# ---- summary, table, chart ----------------------------------------------------------------
machine="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores, $(uname -sr)"
jq -s --arg machine "$machine" --argjson reduced "$reduced" '
  def last_pass: ([.steps[] | select(.pass)] | last);
  ([.[] | select(.mode == "floor") | {(.label): .floor.us_per_write}] | add // {}) as $floors |
  {
    machine: $machine,
    reduced: ($reduced == 1),
    floors_us_per_write: $floors,
    workloads: [ .[] | select(.mode != "floor") | . as $run | {
      label: .label, mode,
      clients: .params.clients,
      rooms: .params.rooms,
      headline: (
        if .label == "W1max" then
          (last_pass) as $p |
          { max_posts_per_second: ($p.posts_per_second // 0),
            max_deliveries_per_second: ($p.deliveries_per_second // 0),
            p99_ms_at_max: ($p.latency_ms.p99 // null),
            first_failing_rate: ([$run.steps[] | select(.pass | not)] | first | .target_rate // null),
            steps: [$run.steps[] | {rate: .target_rate, delivered_ratio, p99_ms: .latency_ms.p99, pass}] }
        elif .mode == "broadcast" or .mode == "rooms" then
          .steps[0] | { posts_per_second, deliveries_per_second, delivered_ratio,
            p50_ms: .latency_ms.p50, p99_ms: .latency_ms.p99, p999_ms: .latency_ms.p999,
            max_ms: .latency_ms.max,
            server_cpu_pct: .usage.server_cpu_pct,
            server_cpu_us_per_delivery: .usage.server_cpu_us_per_delivery,
            generator_cpu_us_per_delivery: .usage.generator_cpu_us_per_delivery,
            floor_us_per_write: $floors["floor-" + $run.label],
            times_floor: (if $floors["floor-" + $run.label] then
              .usage.server_cpu_us_per_delivery / $floors["floor-" + $run.label] else null end),
            errors: .errors.total }
        elif .mode == "idle" then
          { connections: .idle.connections,
            server_rss_per_connection_bytes: .idle.server_rss_per_connection_bytes,
            server_rss_kb: .idle.usage.server_rss_kb,
            server_rss_before_kb: .setup.server_rss_before_kb }
        else
          { clients: .setup.ready, failed: .setup.failed, seconds: .setup.seconds,
            joins_per_second: .setup.joins_per_second,
            join_p99_ms: .setup.join_latency_ms.p99,
            server_cpu_ms: .setup.usage.server_cpu_ms }
        end),
      errors: .totals.errors.total,
      load_average_1m: .machine.load_average_1m,
      cpu_pressure_pct: .machine.cpu_pressure_some_avg10,
      passed
    } ]
  }' "$results" > "$out/summary.json"

echo
echo "Haven benchmark$([ "$reduced" = 1 ] && echo " (REDUCED run: smaller counts, shorter steps)") on $machine"
jq -r '
  def f(x; n): if x == null then "-" else ((x * pow(10; n) | round) / pow(10; n) | tostring) end;
  (["workload", "figure", "value", "p99 ms", "delivered", "errors", "CPU pressure"] | @tsv),
  (.workloads[] | .headline as $h |
    def vs_floor: if $h.times_floor then " (" + f($h.times_floor; 2) + "x the floor of " + f($h.floor_us_per_write; 2) + " us/write)" else "" end;
    if .label == "W1" then [.label, "server CPU us/delivery", f($h.server_cpu_us_per_delivery; 2) + vs_floor, f($h.p99_ms; 2), f($h.delivered_ratio * 100; 3) + "%", .errors]
    elif .label == "W1max" then
      if $h.max_posts_per_second > 0 then
        [.label, "max posts/s passing (deliveries/s); next step failed: " + f($h.first_failing_rate; 0), f($h.max_posts_per_second; 0) + " (" + f($h.max_deliveries_per_second; 0) + ")", f($h.p99_ms_at_max; 2), "-", .errors]
      else
        [.label, "no step passed; first step failed: " + f($h.first_failing_rate; 0) + " posts/s", "-", f($h.steps[0].p99_ms; 2), f($h.steps[0].delivered_ratio * 100; 3) + "%", .errors]
      end
    elif .label == "W2" then [.label, "server CPU % (us/delivery)", f($h.server_cpu_pct; 1) + " (" + f($h.server_cpu_us_per_delivery; 2) + ")" + vs_floor, f($h.p99_ms; 2), f($h.delivered_ratio * 100; 3) + "%", .errors]
    elif .label == "W3" then [.label, "server RSS bytes/idle connection (n=" + ($h.connections | tostring) + ")", f($h.server_rss_per_connection_bytes; 0), "-", "-", .errors]
    elif .label == "W4" then [.label, "connect+join " + ($h.clients | tostring) + " clients, s", f($h.seconds; 2), f($h.join_p99_ms; 1), "-", .errors]
    elif .label == "W5" then [.label, "total CPU % (2 instances + Redis; us/delivery)", f($h.server_cpu_pct; 1) + " (" + f($h.server_cpu_us_per_delivery; 2) + ")" + vs_floor, f($h.p99_ms; 2), f($h.delivered_ratio * 100; 3) + "%", .errors]
    else [.label, .mode, "-", "-", "-", .errors] end
    + [if .cpu_pressure_pct < 0 then "-" else f(.cpu_pressure_pct; 0) + "%" end] | @tsv)
' "$out/summary.json" | column -t -s $'\t'
echo "(CPU pressure: share of time runnable tasks waited for a CPU at the end of the run,"
echo " /proc/pressure/cpu avg10; above ~10 % other work on the machine distorts the figures)"
echo
echo "generator CPU per received delivery, per posting step:"
jq -r 'def r3: . * 1000 | round / 1000;
  . as $r | .steps[]? | "  \($r.label) \(.target_rate) posts/s: \(.usage.generator_cpu_us_per_delivery // 0 | r3) us (own code \(.usage.generator_user_us_per_delivery // 0 | r3) us, kernel \(.usage.generator_sys_us_per_delivery // 0 | r3) us), \(.frames_per_read | . * 10 | round / 10) frames per read"' "$results"

# The chart: p99 latency against delivered rate, one series per workload.
jq -r '. as $r | .steps[]? | [$r.label, .deliveries_per_second, .latency_ms.p99, (if .pass then 1 else 0 end)] | @tsv' \
  "$results" > "$out/chart.tsv"
if [ "${HAVEN_BENCH_CHART:-png}" != svg ] && command -v gnuplot >/dev/null && [ -s "$out/chart.tsv" ]; then
  labels=$(cut -f1 "$out/chart.tsv" | awk '!seen[$0]++' | tr '\n' ' ')
  plot=""
  for l in $labels; do
    plot+="${plot:+, }'< awk -F\"\\t\" \"\\\$1==\\\"$l\\\"\" $out/chart.tsv' using 2:3 with linespoints pt 7 title '$l'"
  done
  gnuplot 2>"$out/gnuplot.log" <<EOF
set terminal pngcairo size 900,560 noenhanced font 'sans,10'
set output '$out/chart.png'
set title "Haven: p99 latency against delivered rate$([ "$reduced" = 1 ] && echo ' (reduced run)')\n$machine"
set xlabel 'deliveries per second'
set ylabel 'p99 latency (ms)'
set logscale y
set xrange [0:*]
set yrange [0.1:*]
set grid
set key bottom right box opaque
set arrow from graph 0, first 50 to graph 1, first 50 nohead dashtype 2 lc rgb '#aa0000'
set label 'p99 limit 50 ms' at graph 0.75, first 65 tc rgb '#aa0000'
plot $plot
EOF
  echo "chart: $out/chart.png"
elif [ -s "$out/chart.tsv" ]; then
  # No gnuplot: a plain SVG scatter plot, log-scaled latency, drawn with awk.
  awk -F'\t' -v title="Haven: p99 latency against delivered rate ($machine)" '
    { label[NR]=$1; x[NR]=$2; y[NR]=($3 > 0.01 ? $3 : 0.01); if ($2 > xmax) xmax=$2; if (y[NR] > ymax) ymax=y[NR] }
    END {
      W=900; H=560; L=70; R=20; T=40; B=50; if (xmax <= 0) xmax=1; ly0=log(0.01)/log(10); ly1=log(ymax*2)/log(10)
      split("#1f77b4 #d62728 #2ca02c #ff7f0e #9467bd #8c564b", colors, " ")
      printf "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" font-family=\"sans-serif\" font-size=\"12\">\n", W, H
      printf "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/><text x=\"%d\" y=\"20\">%s</text>\n", L, title
      printf "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"black\"/><line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"black\"/>\n", L, H-B, W-R, H-B, L, T, L, H-B
      printf "<text x=\"%d\" y=\"%d\">deliveries per second (max %.0f)</text><text x=\"10\" y=\"%d\">p99 ms (log)</text>\n", W/2-80, H-10, xmax, T-5
      for (i=1; i<=NR; i++) {
        if (!(label[i] in color)) { n++; color[label[i]]=colors[(n-1)%6+1]; printf "<text x=\"%d\" y=\"%d\" fill=\"%s\">%s</text>\n", W-R-80, T+15*n, color[label[i]], label[i] }
        px=L+(W-L-R)*x[i]/xmax; py=(H-B)-(H-T-B)*(log(y[i])/log(10)-ly0)/(ly1-ly0)
        printf "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\" fill=\"%s\"><title>%s %.0f/s p99 %.2f ms</title></circle>\n", px, py, color[label[i]], label[i], x[i], y[i]
      }
      print "</svg>"
    }' "$out/chart.tsv" > "$out/chart.svg"
  echo "chart: $out/chart.svg"
fi
echo "results: $results"
echo "summary: $out/summary.json"
