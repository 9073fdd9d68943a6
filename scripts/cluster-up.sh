#!/usr/bin/env bash
# A local cluster for operators: Redis, three Haven instances (8081-8083) on the Redis broker,
# and nginx in front of them as one endpoint on http://127.0.0.1:8080/.
# Everything it starts is recorded under build/cluster/ so scripts/cluster-down.sh stops
# exactly that. Instances use config/haven.toml with the broker switched by environment.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
state="$repo/build/cluster"

scripts/setup.sh
if ! command -v nginx >/dev/null 2>&1; then
  sudo_cmd=(); [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends nginx
fi
scripts/build.sh haven-server

if [ -f "$state/pids" ]; then
  echo "a cluster is already running (see $state); stop it with scripts/cluster-down.sh" >&2
  exit 1
fi
mkdir -p "$state/redis" "$state/nginx"
: > "$state/pids"

redis_port=${HAVEN_CLUSTER_REDIS_PORT:-6399}
redis-server --port "$redis_port" --bind 127.0.0.1 --dir "$state/redis" --save "" \
  --appendonly yes --logfile redis.log --daemonize yes --pidfile "$state/redis/redis.pid"
for _ in $(seq 50); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.1; done
echo "redis $(cat "$state/redis/redis.pid")" >> "$state/pids"

# One guest secret for all instances, so a guest keeps their identity across instances.
guest_secret=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
for port in 8081 8082 8083; do
  HAVEN_BROKER=redis HAVEN_REDIS_URL="redis://127.0.0.1:$redis_port" HAVEN_PORT=$port \
  HAVEN_GUEST_SECRET="$guest_secret" HAVEN_TRUSTED_PROXIES=127.0.0.1 \
    nohup "${HAVEN_BUILD_DIR:-build}/haven-server" --config config/haven.toml > "$state/haven-$port.log" 2>&1 &
  echo "haven-$port $!" >> "$state/pids"
done
for port in 8081 8082 8083; do
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.1; done
done

nginx -p "$state/nginx" -c "$repo/config/nginx.conf"
echo "nginx $(cat "$state/nginx/nginx.pid")" >> "$state/pids"

echo "cluster up: http://127.0.0.1:8080/ -> haven on 8081 8082 8083, redis on $redis_port"
echo "logs in $state; stop with scripts/cluster-down.sh"
