#!/usr/bin/env bash
# Proves the domain core links neither RocksDB nor Boost.Asio: the link line
# of a program built from hub_core alone names neither, the program runs, and
# the core archive has no undefined symbol from either library.
set -euo pipefail
build=$1 probe=$2 archive=$3
link="$build/CMakeFiles/hub_core_probe.dir/link.txt"
echo "hub_core_probe link line: $(cat "$link")"
if grep -Eiq 'rocksdb|boost' "$link"; then
  echo "FAIL: the core's link line names RocksDB or Boost"; exit 1
fi
"$probe"
if nm -C --undefined-only "$archive" | grep -Eq 'rocksdb::|boost::'; then
  echo "FAIL: hub_core refers to RocksDB or Boost symbols"; exit 1
fi
echo "OK: hub_core links protobuf only"
