#!/usr/bin/env bash
# Installs what is needed, builds everything (daemon, tests, benchmarks) and
# runs the whole test suite; then the hardening checks (fuzz targets for a
# bounded time, unit tests under ASan+UBSan: scripts/test-hardening.sh),
# unless SKIP_HARDENING=1.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
(cd "${BUILD_DIR:-build}" && ctest --output-on-failure -j"$(nproc)" --timeout 600)
[ "${SKIP_HARDENING:-0}" = 1 ] || bash scripts/test-hardening.sh
