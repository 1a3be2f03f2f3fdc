#!/usr/bin/env bash
# The feed's cost and rates, in one run (docs/feed.md): the same generated day
# (hubgen) replayed flat out (hubreplay --verify) against a fresh hubd with the
# feed off and on, alternating, `rounds` times each; with the feed on, how
# long until every record is in the stream (publish rate). Then the catch-up
# after an outage: the day replayed while NATS is down (ingest must not
# care), NATS started, and the time until the feed has caught up.
# Everything on loopback, in a temp directory; nats-server is Debian's.
# The feed's modes: off; on (the default [feed] priority, "idle"); low
# (priority = "low", nice 19); MODES="off on low" picks them (default
# "off on"). NATS_IDLE=1 runs nats-server under SCHED_IDLE (NATS_NICE=19 at
# nice 19): on a small machine that stands in for NATS on its own machines,
# as in production.
#
#   bash bench/run_feed.sh [build-dir] [parcels] [rounds]
set -euo pipefail
cd "$(dirname "$0")/.."
b=${1:-build}
parcels=${2:-30000}
rounds=${3:-3}
modes=${MODES:-off on}
work=$(mktemp -d /tmp/hubd-feed.XXXXXX)
pid= nats_pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; [ -n "$nats_pid" ] && kill "$nats_pid" 2>/dev/null; rm -rf "$work"' EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
nats_port=$(free_port)
start_nats() {
  ${NATS_NICE:+nice -n "$NATS_NICE"} ${NATS_IDLE:+chrt --idle 0} nats-server -js -a 127.0.0.1 -p "$nats_port" -sd "$work/nats" > "$work/nats.log" 2>&1 &
  nats_pid=$!
  for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$nats_port) 2>/dev/null && return; sleep 0.05; done
  echo "nats-server did not start" >&2; cat "$work/nats.log" >&2; exit 1
}
stop_nats() { kill "$nats_pid"; wait "$nats_pid" || true; nats_pid=; }

"$b/hubgen" --seed 1 --parcels "$parcels" --anomaly-percent 2 --out "$work/day" > /dev/null

# Starts hubd on a fresh data directory; $1 label, $2 "off", "on" or "low".
start_hubd() {
  local cfg="$work/hubd-$1.toml"
  printf '[[api.tokens]]\nname = "bench"\ntoken = "bench-admin"\nrole = "admin"\n' > "$cfg"
  [ "$2" != off ] && printf '[feed]\nenabled = true\nhub_id = "B%s"\nservers = ["nats://127.0.0.1:%s"]\n' \
    "$1" "$nats_port" >> "$cfg"
  [ "$2" = low ] && printf 'priority = "low"\n' >> "$cfg"
  "$b/hubd" --data-dir "$work/db-$1" --listen 127.0.0.1:0 --http 127.0.0.1:0 --config "$cfg" \
    > "$work/hubd-$1.log" 2>&1 &
  pid=$!
  for _ in $(seq 400); do grep -q event=ready "$work/hubd-$1.log" && break; sleep 0.05; done
  port=$(grep event=ready "$work/hubd-$1.log" | grep -o 'listen=127.0.0.1:[0-9]*' | cut -d: -f2)
  http=$(grep event=ready "$work/hubd-$1.log" | grep -o ' http=127.0.0.1:[0-9]*' | cut -d: -f2)
}
replay() {
  "$b/hubreplay" --target "127.0.0.1:$port" --http "127.0.0.1:$http" --in "$work/day" \
    --token bench-admin --verify --json 2>"$work/replay.err" || { cat "$work/replay.err" >&2; exit 1; }
}
# Seconds until /healthz/detail says the feed has caught up.
wait_caught_up() {
  python3 - "$http" <<'PY'
import json, sys, time, urllib.request
start = time.monotonic()
while True:
    d = json.load(urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/healthz/detail"))["feed"]
    if d["state"] == "caught_up" and d["lag_records"] == 0 and d["last_hub_seq"] > 0:
        print(f"{time.monotonic() - start:.3f} {d['last_hub_seq']} {d['messages_published']}")
        break
    time.sleep(0.01)
PY
}
stop_hubd() { kill -TERM "$pid"; wait "$pid" || true; pid=; rm -rf "$work"/db-*; }

start_nats
printf '%-10s %-5s %9s %8s %10s %8s %8s %11s %14s\n' run feed events seconds events/s p50_ms p99_ms after_s publish_msg/s
for r in $(seq "$rounds"); do
  for mode in $modes; do
    start_hubd "$mode$r" "$mode"
    t0=$(date +%s.%N)
    json=$(replay)
    extra="-"; rate="-"
    if [ "$mode" != off ]; then
      read -r after seqs msgs < <(wait_caught_up)
      t1=$(date +%s.%N)
      total=$(python3 -c "print(f'{$t1 - $t0:.3f}')")
      extra=$after
      rate=$(python3 -c "print(f'{$msgs / $total:.0f}')")
    fi
    stop_hubd
    python3 - "$mode$r" "$mode" "$json" "$extra" "$rate" "$work/rates" <<'PY'
import json, sys
label, mode, doc, after, rate = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), sys.argv[4], sys.argv[5]
lat = doc.get("latency_ms", {})
print(f"{label:<10} {mode:<5} {doc['events_acked']:>9} {doc['seconds']:>8.2f} {doc.get('acked_per_s', 0):>10.0f} "
      f"{lat.get('p50', 0):>8.2f} {lat.get('p99', 0):>8.2f} {after:>11} {rate:>14}")
with open(sys.argv[6], "a") as f:
    f.write(f"{label[len(mode):]} {mode} {doc.get('acked_per_s', 0)}\n")
PY
  done
done

python3 - "$work/rates" <<'PY'
import statistics, sys
# Medians, and the median of each round's ratio to that round's off (a
# noisy machine drifts between rounds more than within one).
rates, rounds = {}, {}
for line in open(sys.argv[1]):
    rnd, mode, r = line.split()
    rates.setdefault(mode, []).append(float(r))
    rounds.setdefault(rnd, {})[mode] = float(r)
off = statistics.median(rates["off"]) if "off" in rates else None
for mode, rs in rates.items():
    m = statistics.median(rs)
    line = f"median {mode:<4} {m:>9.0f} events/s"
    if off and mode != "off":
        ratios = sorted(r[mode] / r["off"] for r in rounds.values() if mode in r and "off" in r)
        line += (f"  = {m / off:.2f} x off; per-round ratio median {statistics.median(ratios):.2f}"
                 f" (min {ratios[0]:.2f}, max {ratios[-1]:.2f})")
    print(line)
PY

# Catch-up after an outage: the day goes in while NATS is down.
stop_nats
start_hubd outage on
json=$(replay)
acked=$(python3 -c 'import json,sys; print(round(json.loads(sys.argv[1])["acked_per_s"]))' "$json")
start_nats
read -r secs seqs msgs < <(wait_caught_up)
stop_hubd
python3 -c "print(f'outage: replayed at $acked events/s with NATS down; after NATS came back, {$msgs} messages ({$seqs} records) in {$secs} s = {$msgs / $secs:.0f} messages/s, {$seqs / $secs:.0f} records/s (includes reconnect backoff)')"
