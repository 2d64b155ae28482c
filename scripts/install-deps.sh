#!/usr/bin/env bash
# Installs the Debian packages sluice needs to build, test, demo and benchmark.
# Idempotent: when every package is already installed it does nothing (and needs no network).
set -euo pipefail

# What building the binary needs (the Containerfile's build stage installs only these: --build).
build_packages=(
  build-essential cmake ninja-build ccache pkg-config git
  # libraries (DESIGN.md "Dependencies")
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev libssl-dev
  libsimdjson-dev libyaml-cpp-dev libpugixml-dev libcli11-dev libspdlog-dev libfmt-dev
  libpcre2-dev libsqlite3-dev libpq-dev nlohmann-json3-dev
  libhiredis-dev  # the Redis integration tests' own client (the gateway speaks RESP itself)
  libgtest-dev libgmock-dev libbenchmark-dev
  libmimalloc-dev  # the gateway's allocator (docs/performance.md)
  libhnswlib-dev  # the semantic cache's vector index (header-only)
)
# What testing, the demo and the benchmarks add.
test_packages=(
  # test and benchmark peers, all on loopback
  nginx-light wrk redis-server postgresql sqlite3 prometheus chromium
  tinyproxy  # the HTTP proxy of tests/e2e/proxy.test.mjs (CONNECT, Basic auth)
  curl ca-certificates procps openssl
  linux-perf  # make flame
  strace  # make bench: system calls per request (bench/gateway/syscalls.sh)
)
only_build=false
[ "${1:-}" = "--build" ] && only_build=true
packages=("${build_packages[@]}")
$only_build || packages+=("${test_packages[@]}")
if [ "${1:-}" = "--list" ]; then printf '%s\n' "${packages[@]}"; exit 0; fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node.js may come from elsewhere than Debian (e.g. a newer build with its own npm); only when the
# commands are missing do Debian's packages fill in.
if ! $only_build; then
  command -v node >/dev/null 2>&1 || missing+=(nodejs)
  command -v npm >/dev/null 2>&1 || missing+=(npm)
  # kubectl renders deploy/kubernetes/ offline in the manifest test; any kubectl will do (a cloud
  # SDK's or the upstream one), Debian's kubernetes-client fills in only when there is none.
  command -v kubectl >/dev/null 2>&1 || missing+=(kubernetes-client)
fi
if [ ${#missing[@]} -eq 0 ]; then
  echo "deps: all ${#packages[@]} packages present"
  exit 0
fi
echo "deps: installing ${missing[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
# Debian starts these services on install; tests start their own private instances instead.
for svc in nginx redis-server postgresql tinyproxy; do
  $SUDO systemctl disable --now "$svc" >/dev/null 2>&1 || $SUDO service "$svc" stop >/dev/null 2>&1 || true
done
