#!/usr/bin/env bash
# Installs what is needed, builds, and runs hubd on its embedded default: a
# RocksDB directory ./hubd-data. Extra arguments go to hubd (see --help).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh hubd
exec build/hubd --data-dir "${HUBD_DATA_DIR:-hubd-data}" "$@"
