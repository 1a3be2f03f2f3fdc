#!/usr/bin/env python3
"""Telegram ingest flat out: every device connection sends its reads as fast
as TCP takes them (datalogic-multi telegrams: STX object,parcel,routing
label CR LF) and reads its answers on a second thread; prints one JSON line
with reads, seconds, reads/s and how many answers came back.

    telegram_flood.py --ports 7410,7411 --reads 100000

Used by bench/run_telegrams.sh; loopback only, bounded by --reads and a
60 s limit.
"""
import argparse
import json
import socket
import threading
import time


def device(port, reads, first, results, index):
    s = socket.create_connection(("127.0.0.1", port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    got = [0]

    def reader():
        s.settimeout(60)
        buf = b""
        while got[0] < reads:
            chunk = s.recv(1 << 16)
            if not chunk:
                break
            buf += chunk
            n = buf.count(b"\r\n")
            got[0] += n
            buf = buf[buf.rfind(b"\r\n") + 2:] if n else buf

    t = threading.Thread(target=reader)
    t.start()
    batch = []
    for i in range(reads):
        o = first + i
        batch.append(b"\x02%d,P%d,D-SH\r\n" % (o, o))
        if len(batch) == 512:
            s.sendall(b"".join(batch))
            batch = []
    if batch:
        s.sendall(b"".join(batch))
    t.join()
    s.close()
    results[index] = got[0]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ports", required=True)
    ap.add_argument("--reads", type=int, default=100000, help="in all, shared by the devices")
    a = ap.parse_args()
    ports = [int(p) for p in a.ports.split(",")]
    each = a.reads // len(ports)
    results = [0] * len(ports)
    threads = [threading.Thread(target=device, args=(p, each, i * each, results, i))
               for i, p in enumerate(ports)]
    start = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    secs = time.monotonic() - start
    print(json.dumps({"devices": len(ports), "reads": each * len(ports), "answers": sum(results),
                      "seconds": round(secs, 3), "reads_per_s": round(each * len(ports) / secs)}))


if __name__ == "__main__":
    main()
