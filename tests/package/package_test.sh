#!/usr/bin/env bash
# The Debian package, built and unpacked into a scratch root (dpkg-deb -x) as dpkg would lay
# it out: the files where the package promises them, the configuration a conffile with the
# installed system's paths and valid for the server it ships, the maintainer scripts, and a
# service unit that systemd-analyze accepts, with the sandboxing and limits it must have.
# Usage: package_test.sh BUILD_DIR   (run by ctest, label "package")
set -euo pipefail

build_dir=$(cd "$1" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() {
  echo "package test: $*" >&2
  exit 1
}

cpack --config "$build_dir/CPackConfig.cmake" -G DEB -B "$work/out" >"$work/cpack.log" 2>&1 ||
  { cat "$work/cpack.log"; fail "cpack failed"; }
deb=$(ls "$work"/out/haven_*.deb)
[ -f "$deb" ] || fail "no haven_*.deb was made"

# Control data: name, dependencies, the conffile, the maintainer scripts.
[ "$(dpkg-deb -f "$deb" Package)" = haven ] || fail "the package is not named haven"
depends=$(dpkg-deb -f "$deb" Depends)
for lib in libhiredis0.14 libprotobuf32 libssl3 libicu72 libboost-json1.81.0 adduser; do
  [[ "$depends" == *"$lib"* ]] || fail "Depends lacks $lib: $depends"
done
mkdir "$work/control"
dpkg-deb -e "$deb" "$work/control"
grep -qx /etc/haven/haven.toml "$work/control/conffiles" || fail "haven.toml is not a conffile"
for script in postinst prerm postrm; do
  [ -x "$work/control/$script" ] || fail "no executable $script"
done
grep -q "adduser --system" "$work/control/postinst" || fail "postinst makes no haven user"

# The files.
root="$work/root"
dpkg-deb -x "$deb" "$root"
for file in usr/bin/haven-server usr/bin/haven-admin etc/haven/haven.toml usr/share/haven/crisis/en.toml \
  lib/systemd/system/haven.service usr/share/doc/haven/deploying.md; do
  [ -f "$root/$file" ] || fail "/$file is missing"
done
[ -x "$root/usr/bin/haven-server" ] || fail "/usr/bin/haven-server is not executable"
"$root/usr/bin/haven-server" --version | grep -Eq '^haven-server [0-9]+\.[0-9]+\.[0-9]+$' ||
  fail "haven-server --version does not say its version"

# The packaged configuration names the installed paths, and the server it ships accepts it
# (checked with the scratch root standing in for /).
config="$root/etc/haven/haven.toml"
grep -qx 'static_dir = "/usr/share/haven/web"' "$config" || fail "static_dir is not the installed one"
grep -qx 'crisis_dir = "/usr/share/haven/crisis"' "$config" || fail "crisis_dir is not the installed one"
grep -qx 'audit_file = "/var/lib/haven/audit.jsonl"' "$config" || fail "audit_file is not in /var/lib/haven"
mkdir -p "$root/var/lib/haven"
sed -e "s|\"/usr/share/haven|\"$root/usr/share/haven|" -e "s|\"/var/lib/haven|\"$root/var/lib/haven|" \
  "$config" >"$work/check.toml"
(cd "$work" && "$root/usr/bin/haven-server" --check-config --config "$work/check.toml") \
  >"$work/check.log" 2>&1 || { cat "$work/check.log"; fail "the packaged config is refused"; }

# The unit: what it must say, and systemd's own verdict on it.
unit="$root/lib/systemd/system/haven.service"
for line in "User=haven" "ExecStart=/usr/bin/haven-server --config /etc/haven/haven.toml" \
  "Restart=on-failure" "KillSignal=SIGTERM" "ProtectSystem=strict" "NoNewPrivileges=yes" \
  "PrivateTmp=yes" "ReadWritePaths=/var/lib/haven" "StateDirectory=haven"; do
  grep -qx "$line" "$unit" || fail "the unit lacks $line"
done
nofile=$(sed -n 's/^LimitNOFILE=//p' "$unit")
[ "${nofile:-0}" -ge 65536 ] || fail "LimitNOFILE ($nofile) is too low for many connections"
# The stop timeout must outlast the drain (server.drain_grace_ms, 5000 by default).
stop=$(sed -n 's/^TimeoutStopSec=\([0-9]*\)s$/\1/p' "$unit")
[ "${stop:-0}" -gt 5 ] || fail "TimeoutStopSec ($stop s) does not outlast the drain grace"
! grep -q '^ExecReload=' "$unit" || fail "ExecReload promises a reload the server does not have"
if command -v systemd-analyze >/dev/null; then
  # Verified against this machine's systemd units, with the unpacked binary in its commands.
  mkdir "$work/units"
  sed "s|/usr/bin/haven-server|$root/usr/bin/haven-server|g" "$unit" >"$work/units/haven.service"
  systemd-analyze verify --man=no "$work/units/haven.service" >"$work/verify.log" 2>&1 ||
    { cat "$work/verify.log"; fail "systemd-analyze verify refuses the unit"; }
  if grep -qi "haven.service" "$work/verify.log"; then
    cat "$work/verify.log"
    fail "systemd-analyze verify has remarks on the unit"
  fi
else
  fail "systemd-analyze is missing (scripts/setup.sh installs systemd with HAVEN_SETUP_TEST=1)"
fi
echo "package test: $(basename "$deb") ok"
