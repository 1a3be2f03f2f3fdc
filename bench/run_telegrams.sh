#!/usr/bin/env bash
# Telegram ingest next to the protobuf path, in one run: the same generated
# day (hubgen) replayed flat out (hubreplay) against a fresh hubd in a temp
# directory on loopback, with its sorters as scan sessions or as devices
# speaking telegrams (hubgen --telegram, hubd [[device]]), with 1 sorter (one
# connection) and with 200 (200 devices). Prints one table row per run:
# the day's events and sort reads, seconds, events/s, sort reads/s (over the
# whole replay: the other stations' scan sessions run alongside, epoch by
# epoch) and ack latency (for a telegram read: until its reply).
#
#   bash bench/run_telegrams.sh [build-dir] [parcels] [profile] [devices]
#
# Bounded: 30,000 parcels by default (a few seconds per run); every run is
# --verify'd, so a wrong number is never printed for a wrong replay.
set -euo pipefail
cd "$(dirname "$0")/.."
b=${1:-build}
parcels=${2:-30000}
profile=${3:-datalogic-multi}
devices=${4:-200}
profiles="$PWD/deploy/devices"
[ -f "$profiles/$profile.toml" ] || { echo "no device profile $profiles/$profile.toml" >&2; exit 2; }
work=$(mktemp -d /tmp/hubd-telegrams.XXXXXX)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$work"' EXIT

# DWS readings only where the profile carries a weight (hubreplay refuses a
# reading the telegram cannot carry).
readings=(--rate AMBIGUOUS_READ=0.5)
grep -q '"weight"' "$profiles/$profile.toml" && readings+=(--dws-percent 30 --rate WEIGHT_MISMATCH=0.5)

# One run: $1 label, $2 sorters, $3 "telegram" or "protobuf".
run() {
  local label=$1 sorters=$2 mode=$3 day="$work/day-$1" cfg="$work/hubd-$1.toml"
  local extra=() replay_extra=()
  printf '[[api.tokens]]\nname = "bench"\ntoken = "bench-admin"\nrole = "admin"\n' > "$cfg"
  # Devices listen on port 0 (any free port): hubd's device_listening lines
  # name the ports, handed to hubreplay as --device (fixed ports collided
  # with ephemeral ones on a busy machine).
  [ "$mode" = telegram ] && extra=(--telegram "SORTER=$profile")
  # --start 2h: telegram reads carry hubd's clock; the day must lie before it.
  "$b/hubgen" --seed 1 --parcels "$parcels" --sorters "$sorters" --start 2h --multi-read-percent 10 \
    "${readings[@]}" "${extra[@]}" --out "$day" > /dev/null
  if [ "$mode" = telegram ]; then
    sed "s|^profile = \"$profile\"|profile = \"$profiles/$profile.toml\"|" "$day/devices.toml" >> "$cfg"
    replay_extra=(--devices "$day/devices.toml" --profile-dir "$profiles")
  fi
  : > "$work/hubd.log"
  "$b/hubd" --data-dir "$work/db-$label" --listen 127.0.0.1:0 --http 127.0.0.1:0 --config "$cfg" \
    > "$work/hubd.log" 2>&1 &
  pid=$!
  for _ in $(seq 400); do grep -q event=ready "$work/hubd.log" && break; sleep 0.05; done
  grep -q event=ready "$work/hubd.log" || { echo "hubd did not start:" >&2; cat "$work/hubd.log" >&2; exit 1; }
  local port http
  # The ready line's ports (the device_listening lines before it say listen= too).
  port=$(grep event=ready "$work/hubd.log" | grep -o 'listen=127.0.0.1:[0-9]*' | cut -d: -f2)
  http=$(grep event=ready "$work/hubd.log" | grep -o ' http=127.0.0.1:[0-9]*' | cut -d: -f2)
  if [ "$mode" = telegram ]; then
    while read -r scanner dport; do replay_extra+=(--device "$scanner=127.0.0.1:$dport"); done < <(
      grep event=device_listening "$work/hubd.log" | sed -E 's/.*scanner=([^ ]+) .* port=([0-9]+) .*/\1 \2/')
  fi
  local json
  if ! json=$("$b/hubreplay" --target "127.0.0.1:$port" --http "127.0.0.1:$http" --in "$day" \
      --token bench-admin --verify --json "${replay_extra[@]}" 2>"$work/replay.err"); then
    echo "$label: hubreplay failed:" >&2; cat "$work/replay.err" >&2; exit 1
  fi
  kill -TERM "$pid"; wait "$pid" || true; pid=
  # Sort reads: the telegram run of the same day counted them (its sorts go
  # as telegrams); the protobuf run of that day sends as many sort scans.
  local sorts
  sorts=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1]).get("telegram_reads", 0))' "$json")
  if [ "$mode" = telegram ]; then last_sorts=$sorts; else sorts=$last_sorts; fi
  python3 - "$label" "$sorters" "$mode" "$sorts" "$json" <<'EOF'
import json, sys
label, sorters, mode, sorts, doc = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), json.loads(sys.argv[5])
secs = doc["seconds"]
lat = doc.get("latency_ms", {})
print(f"{label:<18} {mode:<9} {sorters:>7} {doc['events_acked']:>9} {sorts:>10} "
      f"{secs:>8.2f} {doc.get('acked_per_s', 0):>9.0f} {sorts / secs:>9.0f} "
      f"{lat.get('p50', 0):>8.2f} {lat.get('p99', 0):>8.2f} {doc.get('verify_differences', -1):>5}")
EOF
}

# Flat out: $1 devices on one hubd (datalogic-multi, a routed destination),
# each connection sending its share of $2 reads as fast as TCP takes them
# (bench/telegram_flood.py); no epochs, no other stations.
flood() {
  local n=$1 reads=$2 cfg="$work/flood.toml"
  printf '[[api.tokens]]\nname = "bench"\ntoken = "bench-admin"\nrole = "admin"\n' > "$cfg"
  for i in $(seq "$n"); do
    printf '[[device]]\nscanner_id = "FLOOD-%d"\nlisten = "127.0.0.1:0"\nprofile = "%s"\n' "$i" \
      "$profiles/datalogic-multi.toml" >> "$cfg"
    printf 'parcel_patterns = ["^P[0-9]+$"]\ndestination_pattern = "^D-SH$"\n' >> "$cfg"
  done
  "$b/hubd" --data-dir "$work/db-flood-$n" --listen 127.0.0.1:0 --http 127.0.0.1:0 --config "$cfg" \
    > "$work/hubd.log" 2>&1 &
  pid=$!
  for _ in $(seq 400); do grep -q event=ready "$work/hubd.log" && break; sleep 0.05; done
  local http ports
  http=$(grep event=ready "$work/hubd.log" | grep -o ' http=127.0.0.1:[0-9]*' | cut -d: -f2)
  curl -sf -H 'Authorization: Bearer bench-admin' -X POST "http://127.0.0.1:$http/v1/reference" \
    -d '{"changes":[{"upsert_route":{"destination":"D-SH","route_code":"R-SH","chute":"C7","load_id":"L-SH"}}]}' \
    > /dev/null
  ports=$(grep event=device_listening "$work/hubd.log" | sed -E 's/.* port=([0-9]+) .*/\1/' | paste -sd,)
  /usr/bin/python3 bench/telegram_flood.py --ports "$ports" --reads "$reads"
  kill -TERM "$pid"; wait "$pid" || true; pid=
}

echo "parcels $parcels  profile $profile  ($(nproc) cores)"
printf '%-18s %-9s %7s %9s %10s %8s %9s %9s %8s %8s %5s\n' run path sorters events sort-reads seconds \
  events/s sorts/s p50-ms p99-ms diffs
last_sorts=0
run tele-1 1 telegram
run proto-1 1 protobuf
run tele-$devices "$devices" telegram
run proto-$devices "$devices" protobuf
echo "flat out, datalogic-multi telegrams, durability fsync:"
flood 1 "$parcels"
flood "$devices" "$parcels"
