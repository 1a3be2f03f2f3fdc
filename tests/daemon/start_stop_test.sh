#!/usr/bin/env bash
# Starts hubd on a fresh data directory, waits for it to report ready, sends
# SIGTERM and expects a clean exit 0 with a checkpoint; a second start must
# recover from that directory; a bad option must be refused.
set -euo pipefail
hubd=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

run_once() {
  # A new log per run: the background child truncates its file only after
  # the fork, so re-using one file races with the readiness check.
  local log="$dir/log.$1"
  "$hubd" --data-dir "$dir/db" --listen 127.0.0.1:0 --http 127.0.0.1:0 >"$log" 2>&1 &
  local pid=$!
  for _ in $(seq 1 100); do
    grep -q 'event=ready' "$log" && break
    kill -0 "$pid" 2>/dev/null || { cat "$log"; echo "FAIL: hubd exited early"; exit 1; }
    sleep 0.1
  done
  grep -q 'event=ready' "$log" || { cat "$log"; echo "FAIL: never ready"; exit 1; }
  kill -TERM "$pid"
  local rc=0
  wait "$pid" || rc=$?
  cat "$log"
  [ "$rc" -eq 0 ] || { echo "FAIL: exit code $rc after SIGTERM"; exit 1; }
  grep -q 'event=stopped' "$log" || { echo "FAIL: no clean stop logged"; exit 1; }
}
run_once 1
run_once 2
grep -q 'hub_seq=0 replayed=0' "$dir/log.2" || { echo "FAIL: restart did not recover"; exit 1; }
"$hubd" --data-dir "$dir/db" --listen 127.0.0.1:0 --http 127.0.0.1:0 --durability bogus >/dev/null 2>&1 && { echo "FAIL: bad option accepted"; exit 1; }
echo "OK"
