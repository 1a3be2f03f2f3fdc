#!/usr/bin/env bash
# Installs every Debian package hubd needs to build, test and benchmark.
# Idempotent: does nothing when all are present. Run as root (or via sudo).
set -euo pipefail
packages=(
  build-essential cmake ninja-build pkg-config ccache
  protobuf-compiler libprotobuf-dev
  librocksdb-dev
  libboost-dev libboost-system-dev libssl-dev openssl
  libconcurrentqueue-dev
  libspdlog-dev libfmt-dev libcli11-dev libtomlplusplus-dev libsystemd-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  clang libclang-rt-14-dev llvm
  python3 python3-protobuf util-linux
  nlohmann-json3-dev tzdata
  nats-server libnats-dev
  chromium
)
# The browser test (tests/browser) runs on Node.js with npm; Debian's when
# the machine has none of its own.
command -v npm >/dev/null || packages+=(nodejs npm)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi
echo "install-deps: installing ${missing[*]}"
sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -q
"${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
