#!/usr/bin/env bash
# Runs the ingest benchmark matrix and, in the same run, the raw RocksDB
# sequential-put ceiling it is compared with. Usage (after a build):
#   bash bench/run_ingest.sh [BUILD_DIR]
# Loopback only; each configuration starts and stops its own hubd.
set -euo pipefail
b=${1:-build}
"$b/hub_bench" --benchmark_filter='RawSequentialPut/group:(64|1024)' \
  --benchmark_repetitions=3 --benchmark_report_aggregates_only=true 2>/dev/null | grep _median
run() { "$b/hub_ingest_bench" --hubd "$b/hubd" "$@"; }
for d in wal fsync; do
  for c in 1 4 16; do
    run --durability $d --connections $c --events 600000 --frames-per-write 64 --window 8192
  done
done
# Real scanners: one frame per write, 1,000 sessions.
run --durability wal --connections 1000 --events 400000 --frames-per-write 1 --window 64
# Ack latency at 100 k events/s offered.
for d in wal fsync; do
  run --durability $d --connections 16 --events 500000 --frames-per-write 8 --window 4096 --rate 100000
done
# Supervisor queries while ingesting flat out (5 % of sorts raise NO_ROUTE):
# the same run without queries, with 50 exception-list pages per second, and
# with 50 parcel traces per second.
q() { run --durability wal --connections 4 --events 2000000 --frames-per-write 64 --window 8192 --no-route-percent 5 "$@"; }
q
q --query-rate 50 --query-kind exceptions
q --query-rate 50 --query-kind trace
