#!/usr/bin/python3
"""A hubgen day's scan events as PostgreSQL rows, for bench/run_postgres.sh.

    pg_rows.py --pb-dir DIR --day DAY --out OUT --batch 1000 --single 20000

Reads DAY/events.bin (hubgen: varint-length-prefixed hub.v1.ClientFrame
frames, each one ScanEvent) with Python modules protoc generated into
--pb-dir, and writes, one row per event in file order (hub_seq = 1, 2, ...):

  OUT/events.csv   all rows, for COPY ... (FORMAT csv)
  OUT/batched.sql  the same rows as INSERTs of --batch rows each
  OUT/single.sql   the first --single rows, one INSERT each

Columns (see run_postgres.sh's CREATE TABLE): hub_seq, scanner_id, seq,
event_time, kind, station, parcel_id, bag_id, vehicle_id, load_id, body
(the ScanEvent's protobuf bytes). Prints the number of rows.

Needs Debian's python3-protobuf, which only /usr/bin/python3 sees.
"""
import argparse
import csv
import datetime
import os
import sys

IDS = ("parcel_id", "bag_id", "vehicle_id", "load_id")


def frames(data):
    i, n = 0, len(data)
    while i < n:
        size = shift = 0
        while True:
            b = data[i]
            i += 1
            size |= (b & 0x7F) << shift
            shift += 7
            if b < 0x80:
                break
        yield data[i:i + size]
        i += size


def sql_text(v):
    return "NULL" if v is None else "'" + v.replace("'", "''") + "'"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pb-dir", required=True)
    ap.add_argument("--day", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--batch", type=int, default=1000)
    ap.add_argument("--single", type=int, default=20000)
    a = ap.parse_args()
    sys.path.insert(0, a.pb_dir)
    from hub.v1 import session_pb2  # noqa: E402 (generated at run time)

    frame = session_pb2.ClientFrame()
    rows = []
    with open(os.path.join(a.day, "events.bin"), "rb") as f:
        data = f.read()
    for hub_seq, raw in enumerate(frames(data), start=1):
        frame.ParseFromString(raw)
        e = frame.event
        kind = e.WhichOneof("body")
        body = getattr(e, kind)
        ids = [getattr(body, k) or None if k in body.DESCRIPTOR.fields_by_name else None for k in IDS]
        t = datetime.datetime.fromtimestamp(e.event_time_ms / 1000, tz=datetime.timezone.utc)
        rows.append((hub_seq, e.scanner_id, e.seq, t.isoformat(timespec="milliseconds"), kind,
                     e.station or None, *ids, "\\x" + e.SerializeToString().hex()))

    with open(os.path.join(a.out, "events.csv"), "w", newline="") as f:
        w = csv.writer(f)
        for r in rows:
            w.writerow(["" if v is None else v for v in r])  # empty unquoted field: NULL

    def values(r):
        return "(%d,%s,%d,'%s',%s,%s,%s,%s,%s,%s,'%s')" % (
            r[0], sql_text(r[1]), r[2], r[3], sql_text(r[4]), sql_text(r[5]),
            *(sql_text(v) for v in r[6:10]), r[10])

    head = "INSERT INTO scan_events VALUES "
    with open(os.path.join(a.out, "batched.sql"), "w") as f:
        for i in range(0, len(rows), a.batch):
            f.write(head + ",\n".join(values(r) for r in rows[i:i + a.batch]) + ";\n")
    with open(os.path.join(a.out, "single.sql"), "w") as f:
        for r in rows[:a.single]:
            f.write(head + values(r) + ";\n")
    print(len(rows))


if __name__ == "__main__":
    main()
