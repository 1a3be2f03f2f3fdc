#!/usr/bin/env bash
# Runs the ingest benchmark matrix and, in the same run, the RocksDB ceilings
# it is compared with. Usage (after a build):
#   bash bench/run_ingest.sh [BUILD_DIR]
# Loopback only; each configuration starts and stops its own hubd.
#
# The ceilings (hub_bench BM_LogAppendCeiling, bench/store_commit_bench.cc):
# RocksDB appending hubd's log alone, configured, keyed and valued as hubd's
# log, for 4 s of wall time each (memtable flushes included), in groups of
# 64, 1024 and 16384, with sync off (`wal`) and on (`fsync`). Each hubd line
# then prints its ratio to the ceiling of its durability and of the group
# size nearest its own mean group commit (from hubd's /metrics, on a log
# scale: 64 below 256, 1024 below 4096, else 16384). CEILING_REPS=3 takes
# the median of 3 runs of each ceiling (about 75 s instead of 25 s).
set -euo pipefail
b=${1:-build}
reps=${CEILING_REPS:-1}
ceil_json=$(mktemp /tmp/hubd-ceiling.XXXXXX.json)
trap 'rm -f "$ceil_json"' EXIT
"$b/hub_bench" --benchmark_filter='LogAppendCeiling' --benchmark_repetitions="$reps" \
  --benchmark_format=json --benchmark_out_format=json --benchmark_out="$ceil_json" > /dev/null 2>&1
# "mode group puts/s" lines, and printed.
ceilings=$(python3 - "$ceil_json" "$reps" <<'EOF'
import json, re, statistics, sys
doc, reps = json.load(open(sys.argv[1])), int(sys.argv[2])
runs = {}
for b in doc["benchmarks"]:
    if b.get("run_type") == "aggregate":
        continue
    m = re.search(r"group:(\d+)/fsync:(\d)", b["name"])
    runs.setdefault((("wal", "fsync")[int(m.group(2))], int(m.group(1))), []).append(b)
for (mode, group), bs in sorted(runs.items(), key=lambda kv: (kv[0][0] != "wal", kv[0][1])):
    rates = [b["items_per_second"] for b in bs]
    flushes = [int(b["flushes"]) for b in bs]
    print(f"{mode} {group} {statistics.median(rates):.0f} "
          f"{' '.join(f'{r / 1e3:.0f}k' for r in rates)} {'/'.join(map(str, flushes))}")
EOF
)
echo "ceilings: RocksDB appending hubd's log alone, ${HUBD_CEILING_SECONDS:-4} s each, $reps run(s), median puts/s"
printf '%-6s %6s %10s  %-24s %s\n' mode group puts/s runs flushes
while read -r mode group rate runs flushes; do
  printf '%-6s %6s %10s  %-24s %s\n' "$mode" "$group" "$rate" "$runs" "$flushes"
done <<< "$ceilings"
echo

run() {
  local line
  line=$("$b/hub_ingest_bench" --hubd "$b/hubd" "$@")
  python3 - "$ceilings" "$line" <<'EOF'
import sys
ceil = {}
for l in sys.argv[1].splitlines():
    mode, group, rate = l.split()[:3]
    ceil[(mode, int(group))] = float(rate)
for l in sys.argv[2].splitlines():
    print(l)
    if not l.startswith("ingest "):
        continue
    kv = dict(f.split("=", 1) for f in l.split()[1:] if "=" in f)
    mean = float(kv.get("mean_group", "0"))
    group = 64 if mean < 256 else 1024 if mean < 4096 else 16384
    c = ceil[(kv["durability"], group)]
    print(f"  -> {float(kv['acked_per_s']):.0f} acked/s = {float(kv['acked_per_s']) / c:.2f} x "
          f"ceiling {kv['durability']}/group {group} ({c:.0f} puts/s; hubd mean group {mean:.0f})")
EOF
}
for d in wal fsync; do
  for c in 1 4 16; do
    run --durability $d --connections $c --events 600000 --frames-per-write 64 --window 8192
  done
done
# Real scanners: one frame per write, 1,000 sessions; and just before, the
# same load against a server that only acks each read (hub_ingest_bench
# --ack-server: loopback sockets, framing and parsing, no hubd), the
# one-frame ceiling this line is compared with.
one=(--connections 1000 --events 400000 --frames-per-write 1 --window 64)
ceil1=$("$b/hub_ingest_bench" --ack-server "${one[@]}")
echo "$ceil1"
line1=$(run --durability wal "${one[@]}")
echo "$line1"
rate() { grep -o 'acked_per_s=[0-9]*' <<< "$1" | head -1 | cut -d= -f2; }
awk -v h="$(rate "$line1")" -v c="$(rate "$ceil1")" \
  'BEGIN { printf "  -> %.0f acked/s = %.2f x the one-frame ceiling (%.0f acked/s)\n", h, h / c, c }'
# Ack latency at 100 k events/s offered (the ratio is then the share of the
# ceiling offered, not a limit).
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
