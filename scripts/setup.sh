#!/usr/bin/env bash
# Installs the Debian packages Haven builds, runs and tests with. Idempotent: packages that
# are already present are not fetched again, and apt-get runs only when one is missing.
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config
  libboost1.81-dev libboost-json1.81-dev libboost-program-options1.81-dev libboost-url1.81-dev
  libhiredis-dev libprotobuf-dev protobuf-compiler doctest-dev libssl-dev
  libtomlplusplus-dev libspdlog-dev libicu-dev redis-server openssl
)
if [ "${HAVEN_SETUP_TEST:-0}" = 1 ]; then
  # nginx-light: the integration test of config/nginx.conf's logging runs a real nginx.
  packages+=(chromium libclang-rt-14-dev clang nginx-light)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
