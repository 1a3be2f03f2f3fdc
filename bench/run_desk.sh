#!/usr/bin/env bash
# The supervisor's desk under load (issue 14): page load and stream latency
# while a hub day is replayed flat out, against the same probes with ingest
# idle, in one run. Usage (after a build):
#   bash bench/run_desk.sh [BUILD_DIR] [--parcels N] [--idle-s S] ...
# BUILD_DIR defaults to $BUILD_DIR or ./build (hubd, hubgen, hubreplay).
# One hubd (--durability wal, a token, loopback, a temp data dir) and three
# phases: idle-empty (no day yet), ingest (hubreplay flat out with a day of
# hubgen --parcels N, default 600000), idle-full (the day held, no ingest).
# In each: a cold page load every 250 ms (GET /, its assets, /v1/hub, the
# worklist, /v1/summary, /v1/report), one /v1/exceptions/stream held open,
# and a probe scanner sending one PARCEL_DAMAGED every 50 ms, timed from
# send and from its ack to its case on the stream. Needs /usr/bin/python3
# with python3-protobuf and protoc. Prints a table; writes nothing else.
# Exit 1 when a probe case never reached the stream or anything failed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
exec /usr/bin/python3 "$here/desk_bench.py" "$@"
