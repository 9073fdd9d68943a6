#!/usr/bin/env bash
# Installs what is missing, builds Haven (Release) and the web client, and starts it with the
# development configuration: memory broker, guests welcome, http://127.0.0.1:8080/ (WebSocket
# at /ws).
# Extra arguments go to haven-server, e.g. scripts/run.sh --config my.toml
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh
scripts/build.sh haven-server
scripts/build-web.sh
args=("$@")
[ ${#args[@]} -gt 0 ] || args=(--config config/haven.toml)
exec "${HAVEN_BUILD_DIR:-build}/haven-server" "${args[@]}"
