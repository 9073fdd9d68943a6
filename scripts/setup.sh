#!/usr/bin/env bash
# Installs the Debian packages Haven builds, runs and tests with. Idempotent: packages that
# are already present are not fetched again, and apt-get runs only when one is missing.
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config
  libboost1.81-dev libboost-json1.81-dev libboost-program-options1.81-dev libboost-url1.81-dev
  libhiredis-dev libprotobuf-dev protobuf-compiler doctest-dev libssl-dev
  libtomlplusplus-dev libspdlog-dev libicu-dev libhowardhinnant-date-dev tzdata redis-server
  openssl
)
if [ "${HAVEN_SETUP_TEST:-0}" = 1 ]; then
  # nginx-light: the integration test of config/nginx.conf's logging runs a real nginx.
  # systemd: systemd-analyze verifies the service unit the package installs.
  # prometheus: promtool checks the alert rules (its daemon is kept from starting, below).
  packages+=(chromium libclang-rt-14-dev clang nginx-light systemd prometheus)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

# The web client's build needs a newer Node.js than Debian 12 ships: say so now, rather than
# when the build reaches it (the server alone builds without it).
scripts_dir="$(dirname "$0")"
"$scripts_dir/check-node.sh" || echo "setup: the web client will not build until then" >&2

if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq
  # No service a package brings may start while installing (prometheus would listen on every
  # address): policy-rc.d answers "not allowed" for the length of the install.
  policy=/usr/sbin/policy-rc.d
  placed_policy=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | "${sudo_cmd[@]}" tee "$policy" >/dev/null
    "${sudo_cmd[@]}" chmod +x "$policy"
    placed_policy=1
  fi
  status=0
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" || status=$?
  [ "$placed_policy" = 0 ] || "${sudo_cmd[@]}" rm -f "$policy"
  [ "$status" = 0 ] || exit "$status"
fi
