#!/usr/bin/env bash
# A year of running, in small: what a long uptime costs at restart, what a
# checkpoint costs the acks, where the bytes of a day go, and memory over a
# week. Loopback only; each part starts its own hubd on a fresh directory.
# Usage: bash bench/run_year.sh [BUILD_DIR] [PARCELS_PER_DAY] [DAYS]
# (PARTS="restart bytes rss" by default; set it to run some of them.)
#   restart   days of PARCELS_PER_DAY replayed back to back into one hubd,
#             kill -9 after each (never a clean stop, which would write a
#             checkpoint): records replayed and recovery_ms at the
#             restart, with checkpoints (every 250,000 records, a quarter of
#             the default, so small days show it) and without
#   pause     the sequencer's checkpoint pauses of those runs (p50/p99)
#   bytes     one 1 M-parcel day: bytes per event by column family after a
#             clean stop and after --compact
#   rss       DAYS days through one hubd (forget_after_days 2): RSS, parcels
#             and entity index after each day
#   retention 4 days through one hubd with retention_days 1 (a test
#             setting): the sequencer's pause per Retention record, and the
#             data directory before and after a compaction drops the rest
set -euo pipefail
b=${1:-build}
parcels=${2:-200000}
days=${3:-7}
work=$(mktemp -d /tmp/hubd-year.XXXXXX)
pid=
trap '{ [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; } || true; rm -rf "$work"' EXIT
printf '[[api.tokens]]\nname = "bench"\ntoken = "bench-admin"\nrole = "admin"\n' > "$work/hubd.toml"

start() {  # start DB_DIR LOG EXTRA...: hubd in the background, waits for ready
  local db=$1 log=$2; shift 2
  "$b/hubd" --data-dir "$db" --listen 127.0.0.1:0 --http 127.0.0.1:0 --config "$work/hubd.toml" \
    --durability wal "$@" > "$log" 2>&1 &
  pid=$!
  for _ in $(seq 6000); do grep -q event=ready "$log" && break; sleep 0.05; done
  port=$(grep -o 'listen=127.0.0.1:[0-9]*' "$log" | tail -1 | cut -d: -f2)
  http=$(grep -o ' http=127.0.0.1:[0-9]*' "$log" | tail -1 | cut -d: -f2)
}
replay() { "$b/hubreplay" --target "127.0.0.1:$port" --http "127.0.0.1:$http" --in "$1" --token bench-admin > /dev/null 2>&1; }
gen() {  # gen DAY_INDEX PARCELS -> $work/dayN
  local d=$1
  [ -d "$work/day$d-$2" ] || "$b/hubgen" --seed $((d + 1)) --parcels "$2" --date "$(date -u -d "2026-10-01 + $d days" +%F)" \
    --id-prefix "d$d-" --out "$work/day$d-$2" > /dev/null
}
parts=${PARTS:-restart bytes rss retention}
want() { [[ " $parts " == *" $1 "* ]]; }
metric() { curl -s "http://127.0.0.1:$http/metrics" | awk -v n="$1" '$1 == n { print $2 }'; }

want restart && echo "== restart after kill -9 against uptime ($parcels parcels a day)"
want restart && for mode in checkpoints none; do
  extra=(--checkpoint-records 250000)
  [ "$mode" = none ] && extra=(--checkpoint-records 0 --checkpoint-interval-s 0)
  db="$work/restart-$mode"
  for d in 1 2 3 4; do
    gen "$d" "$parcels"
    start "$db" "$work/$mode-$d.log" "${extra[@]}"
    replay "$work/day$d-$parcels"
    if [ "$mode" = checkpoints ]; then
      grep -o 'pause_ms=[0-9.]*' "$work/$mode-$d.log" | cut -d= -f2 >> "$work/pauses" || true
    fi
    kill -9 "$pid"; wait "$pid" 2>/dev/null || true
    start "$db" "$work/$mode-$d-after.log" "${extra[@]}"
    line=$(grep event=ready "$work/$mode-$d-after.log")
    echo "$mode uptime_days=$d hub_seq=$(grep -o 'hub_seq=[0-9]*' <<<"$line" | head -1 | cut -d= -f2)" \
      "replayed=$(grep -o 'replayed=[0-9]*' <<<"$line" | cut -d= -f2)" \
      "recovery_ms=$(grep -o 'recovery_ms=[0-9]*' <<<"$line" | cut -d= -f2)"
    kill -9 "$pid"; wait "$pid" 2>/dev/null || true
  done
done

want restart && echo "== checkpoint pauses of the sequencer (the runs above)"
want restart && sort -n "$work/pauses" | awk '{ v[NR] = $1 } END {
  if (NR == 0) { print "none"; exit }
  printf "checkpoints=%d p50_ms=%s p99_ms=%s max_ms=%s\n", NR, v[int((NR + 1) / 2)], v[int(NR * 0.99 + 0.99)], v[NR] }'

if want bytes; then
echo "== bytes per event by column family, one 1 M-parcel day"
"$b/hubgen" --seed 1 --parcels 1000000 --out "$work/day0-1000000" > /dev/null  # ids without a prefix
start "$work/bytes" "$work/bytes.log"
replay "$work/day0-1000000"
kill -TERM "$pid"; wait "$pid" 2>/dev/null || true
events=$(grep -o '"events":"[0-9]*"' "$work/day0-1000000/plan.json" | grep -o '[0-9]*')
per_event() {  # family=F sst_bytes=N ... / wal_bytes=N / total_bytes=N -> bytes per event
  awk -v e="$events" -F'[ =]' '$1 == "family" { printf "%s=%.2f ", $2, $4 / e; next }
                                $1 ~ /_bytes$/ { printf "%s=%.2f ", $1, $2 / e } END { print "" }'
}
echo "after a clean stop ($events events):"; "$b/hubd" --data-dir "$work/bytes" --store-stats | per_event
echo "after --compact:"; "$b/hubd" --data-dir "$work/bytes" --compact --store-stats 2>/dev/null | per_event
rm -rf "$work/bytes" "$work/day0-1000000"
fi

if want rss; then
echo "== memory over $days days through one hubd (forget_after_days 2)"
start "$work/rss" "$work/rss.log" --forget-after-days 2
for d in $(seq 1 "$days"); do
  gen "$d" "$parcels"
  replay "$work/day$d-$parcels"
  echo "day=$d rss_mib=$(awk '/VmRSS/ { printf "%.1f", $2 / 1024 }' /proc/$pid/status)" \
    "parcels_in_hub=$(metric hubd_parcels_in_hub) entity_index=$(metric hubd_entity_index_entries)" \
    "db_mib=$(( $(du -sb "$work/rss" | cut -f1) / 1048576 ))"
done
kill -TERM "$pid"; wait "$pid" 2>/dev/null || true

fi

want retention || exit 0
echo "== retention: 4 days of $parcels parcels, retention_days 1"
start "$work/ret" "$work/ret.log" --retention-days 1 --allow-short-retention
for d in 1 2 3 4; do gen "$d" "$parcels"; replay "$work/day$d-$parcels"; done
grep -o 'event=retention .*' "$work/ret.log" | sed 's/^/  /' || true
echo "records in the log: $(curl -s "http://127.0.0.1:$http/metrics" | awk '$1 == "hubd_hub_sequence" { h = $2 } $1 == "hubd_retained_through_hub_sequence" { r = $2 } END { print h - r " of " h }')"
kill -TERM "$pid"; wait "$pid" 2>/dev/null || true
echo "data dir $(( $(du -sb "$work/ret" | cut -f1) / 1048576 )) MiB at stop;" \
  "$("$b/hubd" --data-dir "$work/ret" --compact --store-stats 2>/dev/null | awk -F= '/^total_bytes/ { printf "%d MiB", $2 / 1048576 }') after --compact"
