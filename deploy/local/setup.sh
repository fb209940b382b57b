#!/usr/bin/env bash
# Installs what building and testing kindred needs on a fresh Debian/Ubuntu
# machine. Idempotent: installs only what is missing, so a second run is quick.
#
#   - clang and libclang-dev: RocksDB's Rust bindings are generated with bindgen
#   - a C/C++ toolchain, pkg-config, OpenSSL and zlib headers: RocksDB and librdkafka are built from source
#   - Java 17 (21 where Debian ships that instead) and Maven: the local Apache Kafka broker (deploy/local/kafka.sh)
#   - the openssl tool: kafka.sh generates the CA and certificate of the
#     broker's SASL_SSL listener with it
#   - Prometheus (Debian's package: prometheus and promtool): the tests check
#     the services' metrics, the alert rules and the dashboard's queries with it
#
# The Rust toolchain (cargo) must already be installed.
set -euo pipefail

log() { printf 'setup.sh: %s\n' "$*" >&2; }

packages=(clang libclang-dev build-essential pkg-config libssl-dev zlib1g-dev openjdk-17-jre-headless maven openssl prometheus curl)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
# Maven or Java may come from elsewhere than Debian's packages: accept them.
if command -v mvn >/dev/null; then missing=("${missing[@]/maven}"); fi
if command -v java >/dev/null && java -version 2>&1 | grep -qE 'version "(1[7-9]|2[0-9])'; then
  missing=("${missing[@]/openjdk-17-jre-headless}")
fi
read -r -a missing <<<"${missing[*]:-}"

if [ "${#missing[@]}" -gt 0 ]; then
  log "installing ${missing[*]}"
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  # An install an earlier run was cut off in leaves packages half
  # configured (apt-get refuses until they are); finish it first, only then
  # (dpkg does not wait for the lock as apt-get does below).
  if [ -n "$(dpkg --audit 2>/dev/null)" ]; then
    "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive dpkg --configure -a
  fi
  "${sudo_cmd[@]}" apt-get -o DPkg::Lock::Timeout=300 update -qq
  # Debian ships one OpenJDK per release (17 in 12, 21 in 13): Kafka runs
  # on either.
  candidate() { apt-cache policy "$1" 2>/dev/null | grep -q 'Candidate: [0-9]'; }
  if [[ " ${missing[*]} " == *" openjdk-17-jre-headless "* ]] && ! candidate openjdk-17-jre-headless \
     && candidate openjdk-21-jre-headless; then
    missing=("${missing[@]/openjdk-17-jre-headless/openjdk-21-jre-headless}")
  fi
  # Without recommends: prometheus recommends node-exporter, and on a machine
  # that starts services on install both would listen on 9090 and 9100.
  "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 \
    install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # The package starts its own server on *:9090 where systemd runs, open to
  # the network and taking the port prometheus.sh uses: kindred only needs
  # the binaries.
  if [[ " ${missing[*]} " == *" prometheus "* ]] && command -v systemctl >/dev/null \
     && systemctl is-active --quiet prometheus 2>/dev/null; then
    log "stopping and disabling the prometheus service the package started (kindred runs its own)"
    "${sudo_cmd[@]}" systemctl disable --now prometheus >/dev/null 2>&1 || true
  fi
else
  log "system packages present"
fi

command -v cargo >/dev/null || { log "error: cargo not found: install the Rust toolchain (https://rustup.rs)"; exit 1; }
