#!/usr/bin/env bash
# A whole hub day, generated and replayed flat out against a fresh hubd over
# loopback, verified: wall time, events/s, ack latency, peak daemon RSS,
# database size. Usage: bash bench/run_day.sh [build-dir] [parcels] [durability]
set -euo pipefail
b=${1:-build}
parcels=${2:-3000000}
durability=${3:-wal}
work=$(mktemp -d /tmp/hubd-day.XXXXXX)
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT
printf '[[api.tokens]]\nname = "bench"\ntoken = "bench-admin"\nrole = "admin"\n' > "$work/hubd.toml"

t0=$(date +%s.%N)
"$b/hubgen" --seed 1 --parcels "$parcels" --out "$work/day" | head -1
t1=$(date +%s.%N)
echo "hubgen seconds $(echo "$t1 - $t0" | bc)  files $(du -sh "$work/day" | cut -f1)"

"$b/hubd" --data-dir "$work/db" --listen 127.0.0.1:0 --http 127.0.0.1:0 --config "$work/hubd.toml" \
  --durability "$durability" > "$work/hubd.log" 2>&1 &
pid=$!
for _ in $(seq 200); do grep -q event=ready "$work/hubd.log" && break; sleep 0.05; done
port=$(grep -o 'listen=127.0.0.1:[0-9]*' "$work/hubd.log" | cut -d: -f2)
http=$(grep -o ' http=127.0.0.1:[0-9]*' "$work/hubd.log" | cut -d: -f2)

"$b/hubreplay" --target "127.0.0.1:$port" --http "127.0.0.1:$http" --in "$work/day" \
  --token bench-admin --verify 2>"$work/replay.err" | tail -4
echo "daemon peak RSS $(grep VmHWM /proc/$pid/status | awk '{print $2/1024 " MiB"}')"
# What the daemon holds at the end of the day (the peak comes earlier).
curl -s "http://127.0.0.1:$http/metrics" |
  grep -E '^hubd_(parcels_in_hub|entity_index_entries|store_memtable_bytes) ' | tr '\n' ' '
echo "RSS now $(grep VmRSS /proc/$pid/status | awk '{print $2/1024 " MiB"}')"
# CPU seconds per thread name over the whole run (the single writer is
# hub-sequencer; hub-commit writes the larger groups while it applies more).
tick=$(getconf CLK_TCK)
for t in /proc/$pid/task/*; do echo "$(cat "$t/comm") $(cut -d' ' -f14,15 "$t/stat")"; done |
  awk -v tick="$tick" '{cpu[$1] += ($2 + $3) / tick} END {
    printf "thread cpu_s"; for (n in cpu) if (cpu[n] >= 0.05) printf " %s=%.2f", n, cpu[n]; print ""}'
kill -TERM "$pid"; wait "$pid" || true
events=$(grep -o '"events":"[0-9]*"' "$work/day/plan.json" | grep -o '[0-9]*')
bytes=$(du -sb "$work/db" | cut -f1)
echo "database $((bytes / 1048576)) MiB after a clean stop, $((bytes / events)) bytes per event ($events events)"
