#!/usr/bin/env bash
# hubd next to PostgreSQL 15 on the same generated day, in one run.
#
#   bash bench/run_postgres.sh [build-dir] [parcels] [reps] [single]
#
# The day: `hubgen --seed 1 --parcels N` (default 100,000 parcels, about
# 320 k scan events). PostgreSQL side: a temporary cluster (initdb into a
# temp directory, run as the `postgres` user, else `nobody`, when this runs
# as root; listening on a free 127.0.0.1 port, its unix socket in the temp
# directory; fsync, synchronous_commit and full_page_writes on, as a real
# deployment runs) and one table, one row per scan event: hub_seq (the
# event's place in the day's file; primary key), scanner_id, seq,
# event_time, kind, station, parcel_id, bag_id, vehicle_id, load_id and the
# ScanEvent's protobuf bytes as bytea (bench/pg_rows.py converts the day).
# psql loads it over TCP loopback three ways, each into a fresh table:
#
#   copy     COPY ... FROM STDIN (FORMAT csv): the whole day, one transaction
#   batched  INSERT of 1,000 rows per statement, one transaction each
#   single   one INSERT per event, each its own commit, for the first
#            `single` events only (default 5,000: ~2 ms per fsync here);
#            events/s over those, and the whole day's time scaled from it
#
# hubd side: a fresh hubd per run (temp data dir, --durability fsync, then
# wal) and `hubreplay --verify --json` of the same day flat out (its 20
# scanner sessions; reference data over HTTP between epochs, as the day
# has it); events/s = hubreplay's acked_per_s, and every run must verify
# with 0 differences. Each rep runs copy, batched, single, hubd fsync, hubd
# wal in that order; the table prints the medians over `reps` (default 3)
# and the ratios hubd/PostgreSQL of those medians.
#
# What is compared: hubd applies the hub's rules to every event (sort
# decisions, reconciliations, cases), keeps cases and their indexes, and
# acks each event once it is durable; PostgreSQL only stores rows (with a
# primary-key index). Loopback only; everything started here is stopped and
# removed on exit; each step is bounded by `timeout`.
set -euo pipefail
cd "$(dirname "$0")/.."
b=${1:-build}
parcels=${2:-100000}
reps=${3:-3}
single=${4:-5000}
pgbin=${PGBIN:-/usr/lib/postgresql/15/bin}
py=/usr/bin/python3

for t in initdb pg_ctl postgres psql; do
  [ -x "$pgbin/$t" ] || {
    echo "PostgreSQL 15 not found ($pgbin/$t): install it with 'apt-get install postgresql-15'" >&2
    exit 2
  }
done
command -v protoc > /dev/null || { echo "protoc not found: apt-get install protobuf-compiler" >&2; exit 2; }
"$py" -c 'import google.protobuf' 2> /dev/null || {
  echo "$py cannot import google.protobuf: apt-get install python3-protobuf" >&2
  exit 2
}
for t in hubd hubgen hubreplay; do
  [ -x "$b/$t" ] || { echo "$b/$t not built: bash scripts/build.sh hubd hubgen hubreplay" >&2; exit 2; }
done

work=$(mktemp -d /tmp/hubd-pgbench.XXXXXX)
pgroot=$(mktemp -d /tmp/hubd-pg.XXXXXX)
pid=
pg_started=
as_pg() { "$@"; }
if [ "$(id -u)" = 0 ]; then
  pguser=postgres
  id "$pguser" > /dev/null 2>&1 || pguser=nobody
  chown "$pguser" "$pgroot"
  as_pg() { (cd "$pgroot" && runuser -u "$pguser" -- "$@"); }
fi
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2> /dev/null && wait "$pid" 2> /dev/null
  [ -n "$pg_started" ] && as_pg "$pgbin/pg_ctl" -D "$pgroot/data" -m immediate -w stop > /dev/null 2>&1
  rm -rf "$work" "$pgroot"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

now() { date +%s.%N; }
export PGOPTIONS="-c client_min_messages=warning"

echo "generating the day: $parcels parcels ..." >&2
"$b/hubgen" --seed 1 --parcels "$parcels" --out "$work/day" > /dev/null
mkdir -p "$work/pb"
protoc -I proto --python_out="$work/pb" proto/hub/v1/*.proto
rows=$(timeout 600 "$py" bench/pg_rows.py --pb-dir "$work/pb" --day "$work/day" --out "$work" \
  --batch 1000 --single "$single")
[ "$single" -le "$rows" ] || single=$rows

# The cluster. initdb --no-sync only skips syncing initdb's own files; the
# server runs with fsync on.
port=$("$py" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
as_pg "$pgbin/initdb" -D "$pgroot/data" -U postgres --auth=trust -E UTF8 --locale=C --no-sync > "$pgroot/initdb.log"
pg_started=1
as_pg "$pgbin/pg_ctl" -D "$pgroot/data" -l "$pgroot/server.log" -w -t 60 start \
  -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$pgroot -c fsync=on -c synchronous_commit=on -c full_page_writes=on" \
  > /dev/null || { cat "$pgroot/server.log" >&2; exit 1; }
psql() { "$pgbin/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U postgres -d postgres "$@"; }
settings=$(psql -At -c "SELECT version()" -c "SHOW fsync" -c "SHOW synchronous_commit" -c "SHOW wal_sync_method" \
  -c "SHOW shared_buffers" | paste -sd '|')

fresh_table() {
  psql -c "DROP TABLE IF EXISTS scan_events" -c "CREATE TABLE scan_events (
      hub_seq bigint PRIMARY KEY, scanner_id text NOT NULL, seq bigint NOT NULL,
      event_time timestamptz NOT NULL, kind text NOT NULL, station text, parcel_id text,
      bag_id text, vehicle_id text, load_id text, body bytea NOT NULL)" -c "CHECKPOINT"
}
# $1 method, $2 rows expected, then the psql arguments that load them.
pg_load() {
  local method=$1 expect=$2 t0 t1 got
  shift 2
  fresh_table
  t0=$(now)
  timeout 900 "$pgbin/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U postgres -d postgres "$@" > /dev/null
  t1=$(now)
  got=$(psql -At -c "SELECT count(*) FROM scan_events")
  [ "$got" = "$expect" ] || { echo "$method: $got rows, expected $expect" >&2; exit 1; }
  echo "$method $expect $t0 $t1"
}

hubd_run() {
  local d=$1 dir="$work/db-$1" cfg="$work/hubd.toml" json port http
  rm -rf "$dir"
  printf '[[api.tokens]]\nname = "bench"\ntoken = "bench-admin"\nrole = "admin"\n' > "$cfg"
  "$b/hubd" --data-dir "$dir" --listen 127.0.0.1:0 --http 127.0.0.1:0 --config "$cfg" --durability "$d" \
    > "$work/hubd.log" 2>&1 &
  pid=$!
  for _ in $(seq 400); do grep -q event=ready "$work/hubd.log" && break; sleep 0.05; done
  grep -q event=ready "$work/hubd.log" || { echo "hubd did not start:" >&2; cat "$work/hubd.log" >&2; exit 1; }
  port=$(grep event=ready "$work/hubd.log" | grep -o 'listen=127.0.0.1:[0-9]*' | cut -d: -f2)
  http=$(grep event=ready "$work/hubd.log" | grep -o ' http=127.0.0.1:[0-9]*' | cut -d: -f2)
  if ! json=$(timeout 900 "$b/hubreplay" --target "127.0.0.1:$port" --http "127.0.0.1:$http" --in "$work/day" \
      --token bench-admin --verify --json 2> "$work/replay.err"); then
    echo "hubd $d: hubreplay failed:" >&2; cat "$work/replay.err" >&2; exit 1
  fi
  kill -TERM "$pid"; wait "$pid" || true; pid=
  rm -rf "$dir"
  echo "hubd-$d $json"
}

results="$work/results"
: > "$results"
for rep in $(seq "$reps"); do
  echo "rep $rep/$reps ..." >&2
  pg_load copy "$rows" -c "\\copy scan_events FROM '$work/events.csv' WITH (FORMAT csv)" >> "$results"
  pg_load batched "$rows" -f "$work/batched.sql" >> "$results"
  pg_load single "$single" -f "$work/single.sql" >> "$results"
  hubd_run fsync >> "$results"
  hubd_run wal >> "$results"
  tail -5 "$results" | cut -c1-160 >&2
done

"$py" - "$results" "$parcels" "$rows" "$single" "$settings" "$(nproc)" <<'EOF'
import json, statistics, sys
path, parcels, rows, single, settings, cores = sys.argv[1:7]
rows, single = int(rows), int(single)
runs = {}
for line in open(path):
    name, rest = line.split(" ", 1)
    if name.startswith("hubd-"):
        doc = json.loads(rest)
        if doc.get("verify_differences") != 0:
            sys.exit(f"{name}: verify_differences={doc.get('verify_differences')}")
        runs.setdefault(name, []).append(doc["acked_per_s"])
    else:
        n, t0, t1 = rest.split()
        runs.setdefault(name, []).append(int(n) / (float(t1) - float(t0)))
med = {k: statistics.median(v) for k, v in runs.items()}
version, fsync, sync_commit, wal_sync, shared = settings.split("|")
print(f"day: {parcels} parcels, {rows} events; {cores} cores; {len(runs['copy'])} rep(s), medians")
print(f"{version.split(' on ')[0]}: fsync={fsync} synchronous_commit={sync_commit} "
      f"wal_sync_method={wal_sync} shared_buffers={shared}")
labels = {
    "copy": "PostgreSQL COPY (one transaction)",
    "batched": "PostgreSQL INSERT, 1,000 rows/txn",
    "single": f"PostgreSQL INSERT+COMMIT per event*",
    "hubd-fsync": "hubd fsync, hubreplay --verify",
    "hubd-wal": "hubd wal, hubreplay --verify",
}
print(f"{'run':<36} {'events/s':>10} {'day s':>8}   runs (events/s)")
for k in ("copy", "batched", "single", "hubd-fsync", "hubd-wal"):
    print(f"{labels[k]:<36} {med[k]:>10,.0f} {rows / med[k]:>8.1f}   "
          + ", ".join(f"{v:,.0f}" for v in runs[k]))
print(f"* first {single} events; 'day s' scaled to the whole day")
print()
print(f"{'ratio (medians)':<24} {'hubd fsync':>10} {'hubd wal':>10}")
for k, name in (("copy", "hubd / COPY"), ("batched", "hubd / batched INSERT"),
                ("single", "hubd / per-event commit")):
    print(f"{name:<24} {med['hubd-fsync'] / med[k]:>10.2f} {med['hubd-wal'] / med[k]:>10.2f}")
EOF
