#!/usr/bin/env bash
# hubd under other allocators, measured before adopting one: the same
# generated day replayed flat out and verified against a fresh hubd with
# glibc's malloc, jemalloc and mimalloc (Debian's libjemalloc2 and
# libmimalloc2.0, by LD_PRELOAD), alternating, `rounds` times; events/s,
# p99 ack latency and the daemon's peak RSS, and each allocator's medians.
#
#   bash bench/run_alloc.sh [build-dir] [parcels] [rounds]
set -euo pipefail
cd "$(dirname "$0")/.."
b=${1:-build}
parcels=${2:-300000}
rounds=${3:-3}
lib=/usr/lib/x86_64-linux-gnu
declare -A preload=([glibc]="" [jemalloc]="$lib/libjemalloc.so.2" [mimalloc]="$lib/libmimalloc.so.2")
for a in jemalloc mimalloc; do
  [ -e "${preload[$a]}" ] || { echo "${preload[$a]} missing: apt-get install libjemalloc2 libmimalloc2.0" >&2; exit 1; }
done
work=$(mktemp -d /tmp/hubd-alloc.XXXXXX)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$work"' EXIT
printf '[[api.tokens]]\nname = "bench"\ntoken = "bench-admin"\nrole = "admin"\n' > "$work/hubd.toml"
"$b/hubgen" --seed 1 --parcels "$parcels" --out "$work/day" > /dev/null

printf '%-10s %10s %10s %8s %9s\n' allocator events events/s p99_ms rss_mib
for r in $(seq "$rounds"); do
  for a in glibc jemalloc mimalloc; do
    rm -rf "$work/db"
    env ${preload[$a]:+LD_PRELOAD=${preload[$a]}} "$b/hubd" --data-dir "$work/db" --listen 127.0.0.1:0 \
      --http 127.0.0.1:0 --config "$work/hubd.toml" > "$work/hubd.log" 2>&1 &
    pid=$!
    for _ in $(seq 200); do grep -q event=ready "$work/hubd.log" && break; sleep 0.05; done
    port=$(grep -o 'listen=127.0.0.1:[0-9]*' "$work/hubd.log" | cut -d: -f2)
    http=$(grep -o ' http=127.0.0.1:[0-9]*' "$work/hubd.log" | cut -d: -f2)
    json=$("$b/hubreplay" --target "127.0.0.1:$port" --http "127.0.0.1:$http" --in "$work/day" \
      --token bench-admin --verify --json 2>"$work/replay.err") || { cat "$work/replay.err" >&2; exit 1; }
    rss=$(grep VmHWM /proc/$pid/status | awk '{print $2/1024}')
    kill -TERM "$pid"; wait "$pid" || true; pid=
    python3 - "$a" "$json" "$rss" "$work/rows" <<'PY'
import json, sys
a, doc, rss = sys.argv[1], json.loads(sys.argv[2]), float(sys.argv[3])
rate = doc.get("acked_per_s", 0)
p99 = doc.get("latency_ms", {}).get("p99", 0)
print(f"{a:<10} {doc['events_acked']:>10} {rate:>10.0f} {p99:>8.2f} {rss:>9.1f}")
open(sys.argv[4], "a").write(f"{a} {rate} {rss}\n")
PY
  done
done
python3 - "$work/rows" <<'PY'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    a, rate, rss = line.split()
    rows.setdefault(a, []).append((float(rate), float(rss)))
base = statistics.median(r for r, _ in rows["glibc"])
for a, v in rows.items():
    rate = statistics.median(r for r, _ in v)
    print(f"median {a:<9} {rate:>9.0f} events/s = {rate / base:.2f} x glibc, peak RSS {statistics.median(s for _, s in v):.0f} MiB")
PY
