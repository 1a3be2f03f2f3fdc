#!/usr/bin/python3
"""The supervisor's desk under load (issue 14): page load and stream latency
while a hub day is replayed flat out, against the same probes with ingest
idle. Started by bench/run_desk.sh; see its header for usage.

One hubd (--durability wal, a token, loopback, a temp data dir) and three
phases, the same probes in each:

  idle-empty  the hub before the day: no ingest
  ingest      hubreplay flat out (the day of hubgen --parcels N), probes from
              1 s after it starts until it ends
  idle-full   the hub holding the whole day: no ingest

Probes:
  page    every --page-interval s, a cold load of the page as it happens on
          sign-in: GET / and every asset it names (found once from index.html
          and the JS modules' imports), GET /v1/hub, the worklist
          (GET /v1/exceptions?order=newest&limit=100), GET /v1/summary and the
          dashboard's GET /v1/report for a shift that covers the day. One
          keep-alive connection, requests one after another (a browser
          overlaps the assets, so the page figure is an upper bound); run in
          its own process.
  stream  one GET /v1/exceptions/stream held open for the whole run (as the
          page holds one), and a probe scanner (its own id) sending one
          PARCEL_DAMAGED every --scan-interval s on the scanner port. Per
          probe case: t_send, t_ack (the cumulative ack covering its seq:
          the commit is durable) and t_stream (its case event read from the
          stream). All times are CLOCK_MONOTONIC.

Prints a table; writes nothing else. Loopback only; every wait is bounded;
the temp directory is removed at the end.
"""
import argparse
import http.client
import json
import math
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

TOKEN = "desk-bench-admin-token"
PROBE_SCANNER = "DESK-PROBE"
PHASES = ("idle-empty", "ingest", "idle-full")


# ---------------------------------------------------------------- helpers

def pct(values, p):
    """Nearest-rank percentile of a list (None when empty)."""
    if not values:
        return None
    v = sorted(values)
    return v[max(0, math.ceil(p / 100.0 * len(v)) - 1)]


def ms(x):
    if x is None:
        return "-"
    x *= 1000.0
    return f"{x:.1f}" if abs(x) < 100 else f"{x:.0f}"


def cpu_times():
    """(busy, total) jiffies of the whole machine."""
    with open("/proc/stat") as fh:
        f = [int(x) for x in fh.readline().split()[1:]]
    idle = f[3] + f[4]
    return sum(f) - idle, sum(f)


def proc_cpu(pid):
    """utime + stime of a process in seconds (0 when gone)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            f = fh.read().rsplit(")", 1)[1].split()
        return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def loadavg():
    with open("/proc/loadavg") as fh:
        return float(fh.read().split()[0])


class Http:
    """A keep-alive HTTP/1.1 client on one connection."""

    def __init__(self, port, timeout=30.0):
        self.port = port
        self.timeout = timeout
        self.conn = None

    def get(self, path, token=None):
        """(status, bytes); reconnects once when the server closed the
        connection."""
        h = {"Authorization": "Bearer " + token} if token else {}
        for attempt in (0, 1):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port,
                                                       timeout=self.timeout)
            try:
                self.conn.request("GET", path, headers=h)
                r = self.conn.getresponse()
                data = r.read()
                if r.will_close:
                    self.close()
                return r.status, data
            except (http.client.RemoteDisconnected, ConnectionResetError,
                    BrokenPipeError, http.client.CannotSendRequest):
                self.close()
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


# ---------------------------------------------------------------- page probe

def discover_assets(port):
    """What a browser fetches for the page: index.html's href/src under
    /ui/, then the JS modules' static imports, transitively."""
    c = Http(port)
    st, index = c.get("/")
    if st != 200:
        raise RuntimeError(f"GET / answered {st}")
    found = []
    for m in re.finditer(rb'(?:href|src)="(/ui/[^"]+)"', index):
        p = m.group(1).decode()
        if p not in found:
            found.append(p)
    todo = [p for p in found if p.endswith(".js")]
    while todo:
        p = todo.pop()
        st, body = c.get(p)
        if st != 200:
            raise RuntimeError(f"GET {p} answered {st}")
        base = p.rsplit("/", 1)[0]
        for m in re.finditer(rb"""(?m)^\s*import\s[^'"]*['"](\./[^'"]+)['"]""", body):
            q = base + "/" + m.group(1).decode()[2:]
            if q not in found:
                found.append(q)
                todo.append(q)
    c.close()
    return ["/"] + found


def page_probe_main(args):
    """Child process: loads the page every interval until stop_file exists
    (or --max-s passes); one JSON line per load on stdout."""
    assets = discover_assets(args.port)
    api = [("hub", "/v1/hub"),
           ("worklist", "/v1/exceptions?order=newest&limit=100"),
           ("summary", "/v1/summary"),
           ("report", "/v1/report?" + args.report_query)]
    print(json.dumps({"assets": assets}), flush=True)
    deadline = time.monotonic() + args.max_s
    nxt = time.monotonic()
    while not os.path.exists(args.stop_file) and time.monotonic() < deadline:
        now = time.monotonic()
        if now < nxt:
            time.sleep(min(nxt - now, 0.05))
            continue
        nxt = now + args.interval
        c = Http(args.port)   # a cold load: a new connection, no cache
        rec = {"t0": now, "req": {}, "errors": []}
        try:
            t = time.monotonic()
            for p in assets:
                st, _ = c.get(p)
                if st != 200:
                    rec["errors"].append(f"GET {p} {st}")
            rec["req"]["static"] = time.monotonic() - t
            for name, p in api:
                t1 = time.monotonic()
                st, body = c.get(p, TOKEN)
                rec["req"][name] = time.monotonic() - t1
                if st != 200:
                    rec["errors"].append(f"GET {p} {st} {body[:200]!r}")
        except (OSError, http.client.HTTPException) as e:
            rec["errors"].append(f"{type(e).__name__}: {e}")
        rec["page"] = time.monotonic() - now
        c.close()
        print(json.dumps(rec), flush=True)
    return 0


# ---------------------------------------------------------------- protobuf + scanner

# The scanner protocol as the black-box suite speaks it (protos, framing,
# frames): tests/blackbox/bb_lib.py.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "blackbox"))
import bb_lib  # noqa: E402


class ProbeScanner:
    """One scanner session sending PARCEL_DAMAGED scans at a fixed pace; a
    reader thread stamps each seq when an ack covers it."""

    def __init__(self, port, tag):
        self.S = bb_lib.S
        self.tag = tag
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = bytearray()
        self.lock = threading.Lock()
        self.sent = {}        # seq -> (t_send, parcel_id, phase)
        self.acked = {}       # seq -> t_ack
        self.acked_through = 0
        self.problems = []
        self._send(bb_lib.hello(PROBE_SCANNER, PROBE_SCANNER))
        w = self._recv()
        if w is None or w.WhichOneof("body") != "welcome":
            raise RuntimeError(f"probe scanner not welcomed: {w}")
        self.next_seq = w.welcome.last_durable_seq + 1
        self.acked_through = w.welcome.last_durable_seq
        self.sock.settimeout(None)
        self.reader = threading.Thread(target=self._read_loop, daemon=True)
        self.reader.start()

    def _send(self, frame):
        self.sock.sendall(bb_lib.delimited(frame))

    def _recv(self):
        while True:
            head = bb_lib._take_varint(self.buf)
            if head is not None and len(self.buf) >= head[1] + head[0]:
                n, used = head
                data = bytes(self.buf[used:used + n])
                del self.buf[:used + n]
                return self.S.ServerFrame.FromString(data)
            chunk = self.sock.recv(65536)
            if not chunk:
                return None
            self.buf += chunk

    def _read_loop(self):
        try:
            while True:
                f = self._recv()
                t = time.monotonic()
                if f is None:
                    return
                kind = f.WhichOneof("body")
                if kind == "ack":
                    with self.lock:
                        for s in range(self.acked_through + 1, f.ack.acked_seq + 1):
                            self.acked[s] = t
                        self.acked_through = max(self.acked_through, f.ack.acked_seq)
                elif kind == "reject":
                    self.problems.append(f"reject seq {f.reject.seq} "
                                         f"{self.S.RejectCode.Name(f.reject.code)}: {f.reject.reason}")
        except OSError as e:
            self.problems.append(f"probe scanner: {e}")

    def send_one(self, phase):
        seq = self.next_seq
        self.next_seq += 1
        pid = f"PROBE-{self.tag}-{seq}"
        frame = bb_lib.delimited(bb_lib.event(
            PROBE_SCANNER, seq, station=PROBE_SCANNER, t_ms=int(time.time() * 1000),
            parcel_damaged=dict(parcel_id=pid, weight_g=100, note="desk bench probe")))
        with self.lock:
            self.sent[seq] = (time.monotonic(), pid, phase)
        self.sock.sendall(frame)

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


class StreamReader:
    """GET /v1/exceptions/stream held open; stamps the first arrival of each
    probe case (by parcel id) and counts the rest."""

    PID = re.compile(rb'"parcel_id":"(PROBE-[^"]+)"')

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.sock.sendall((f"GET /v1/exceptions/stream HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                           f"Authorization: Bearer {TOKEN}\r\nAccept: text/event-stream\r\n\r\n").encode())
        self.sock.settimeout(None)
        self.arrived = {}     # parcel id -> t_stream
        self.cases = 0
        self.hello = None
        self.overflow = False
        self.ended = False
        self.problems = []
        head = bytearray()
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise RuntimeError("stream closed before its headers")
            head += chunk
        hdr, rest = bytes(head).split(b"\r\n\r\n", 1)
        if not hdr.startswith(b"HTTP/1.1 200"):
            raise RuntimeError(f"stream answered {hdr[:200]!r}")
        self.buf = bytearray(rest)
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _loop(self):
        try:
            while True:
                self._parse(time.monotonic())
                chunk = self.sock.recv(262144)
                if not chunk:
                    self.ended = True
                    return
                self.buf += chunk
        except OSError as e:
            if not self.ended:
                self.problems.append(f"stream: {e}")
            self.ended = True

    def _parse(self, t):
        while True:
            i = self.buf.find(b"\n\n")
            if i < 0:
                return
            block = bytes(self.buf[:i])
            del self.buf[:i + 2]
            if block.startswith(b"event: case"):
                self.cases += 1
                if b"PROBE-" in block:
                    m = self.PID.search(block)
                    if m:
                        self.arrived.setdefault(m.group(1).decode(), t)
            elif block.startswith(b"event: hello"):
                self.hello = block
                self.ready.set()
            elif block.startswith(b"event: overflow"):
                self.overflow = True
                self.problems.append("stream: event: overflow")

    def close(self):
        self.ended = True
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
            self.sock.close()
        except OSError:
            pass


# ---------------------------------------------------------------- orchestration

class Bench:
    def __init__(self, a):
        self.a = a
        self.b = os.path.abspath(a.build)
        self.work = tempfile.mkdtemp(prefix="hubd-desk.")
        self.hubd = self.replay = self.page = None
        self.hubd_log = []
        self.phase = None
        self.windows = {}     # phase -> (t_start, t_end)
        self.stats = {}       # phase -> dict
        self.replay_cpu = 0.0  # hubreplay's CPU seconds, sampled while it runs
        self.failed = True

    # -- processes
    def start_hubd(self):
        cfg = os.path.join(self.work, "hubd.toml")
        with open(cfg, "w") as fh:
            fh.write(f'[[api.tokens]]\nname = "desk-bench"\ntoken = "{TOKEN}"\nrole = "admin"\n')
        os.chmod(cfg, 0o600)
        self.hubd = subprocess.Popen(
            [os.path.join(self.b, "hubd"), "--data-dir", os.path.join(self.work, "data"),
             "--listen", "127.0.0.1:0", "--http", "127.0.0.1:0", "--config", cfg,
             "--durability", "wal"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        ready = threading.Event()

        def reader():
            for line in iter(self.hubd.stdout.readline, b""):
                s = line.decode(errors="replace").rstrip()
                self.hubd_log.append(s)
                m = re.search(r"event=ready listen=127\.0\.0\.1:(\d+) http=127\.0\.0\.1:(\d+)", s)
                if m:
                    self.port, self.http = int(m.group(1)), int(m.group(2))
                    ready.set()
            ready.set()
        threading.Thread(target=reader, daemon=True).start()
        if not ready.wait(60) or self.hubd.poll() is not None:
            raise RuntimeError("hubd did not become ready:\n" + "\n".join(self.hubd_log[-20:]))

    def metrics(self):
        c = Http(self.http, timeout=10)
        try:
            _, body = c.get("/metrics")
        finally:
            c.close()
        events = 0
        for line in body.decode().splitlines():
            if line.startswith("hubd_events_applied_total{"):
                events += int(float(line.rsplit(" ", 1)[1]))
        return events

    def start_page_probe(self):
        self.page_stop = os.path.join(self.work, "page.stop")
        self.page_out = open(os.path.join(self.work, "page.jsonl"), "w")
        self.page = subprocess.Popen(
            [sys.executable, os.path.abspath(__file__), "--page-probe",
             "--port", str(self.http), "--interval", str(self.a.page_interval),
             "--stop-file", self.page_stop,
             "--max-s", str(self.a.max_s + 2 * self.a.idle_s + 120),
             "--report-query", self.report_query],
            stdout=self.page_out, stdin=subprocess.DEVNULL)

    # -- phases
    def begin(self, name):
        self.phase = name
        self.stats[name] = {"t": time.monotonic(), "cpu": cpu_times(),
                            "hubd_cpu": proc_cpu(self.hubd.pid), "load0": loadavg(),
                            "probe_cpu": self.probe_cpu(),
                            "replay_cpu": self.replay_cpu,
                            "events": self.metrics(), "probes": len(self.scanner.sent)}

    def end(self, name):
        s = self.stats[name]
        t = time.monotonic()
        busy, total = cpu_times()
        s["dur"] = t - s["t"]
        s["busy"] = (busy - s["cpu"][0]) / max(1, total - s["cpu"][1])
        s["hubd_cores"] = (proc_cpu(self.hubd.pid) - s["hubd_cpu"]) / s["dur"]
        s["probe_cores"] = (self.probe_cpu() - s["probe_cpu"]) / s["dur"]
        s["replay_cores"] = (self.replay_cpu - s["replay_cpu"]) / s["dur"]
        s["other_cores"] = s["busy"] * os.cpu_count() - s["hubd_cores"] - s["probe_cores"] - s["replay_cores"]
        s["load1"] = loadavg()
        probes = len(self.scanner.sent) - s["probes"]
        s["rate"] = (self.metrics() - s["events"] - probes) / s["dur"]
        self.windows[name] = (s["t"], t)
        self.phase = None

    def probe_cpu(self):
        return proc_cpu(os.getpid()) + (proc_cpu(self.page.pid) if self.page else 0.0)

    def tick_until(self, stop, limit_s):
        """Sends probe scans every scan_interval until stop() or limit_s."""
        t_end = time.monotonic() + limit_s
        nxt = time.monotonic()
        while time.monotonic() < t_end and not stop():
            now = time.monotonic()
            if now >= nxt:
                self.scanner.send_one(self.phase)
                nxt += self.a.scan_interval
                if nxt < now:
                    nxt = now + self.a.scan_interval
            time.sleep(max(0.0, min(nxt - time.monotonic(), 0.05)))

    def run(self):
        a = self.a
        for tool in ("hubd", "hubgen", "hubreplay"):
            if not os.access(os.path.join(self.b, tool), os.X_OK):
                raise SystemExit(f"{self.b}/{tool} missing: build first (bash scripts/build.sh)")
        c0, l0 = cpu_times(), loadavg()
        time.sleep(3)
        c1 = cpu_times()
        self.before = (l0, (c1[0] - c0[0]) / max(1, c1[1] - c0[1]))
        py = os.path.join(self.work, "py")
        os.makedirs(py, exist_ok=True)
        bb_lib.load_protos(a.proto, py)
        day = os.path.join(self.work, "day")
        t = time.monotonic()
        subprocess.run([os.path.join(self.b, "hubgen"), "--seed", str(a.seed), "--parcels",
                        str(a.parcels), "--date", a.date, "--out", day],
                       check=True, stdout=subprocess.DEVNULL, timeout=600)
        plan = json.load(open(os.path.join(day, "plan.json")))
        self.day_events = int(plan["events"])
        print(f"# hubgen --seed {a.seed} --parcels {a.parcels} --date {a.date}: "
              f"{self.day_events} events ({time.monotonic() - t:.1f} s)", flush=True)
        # The dashboard's report for a shift covering the day (it starts 08:00 UTC).
        self.report_query = f"from={a.date}T08:00:00Z&to={a.date}T16:00:00Z"
        self.start_hubd()
        self.scanner = ProbeScanner(self.port, tag=str(os.getpid()))
        self.stream = StreamReader(self.http)
        if not self.stream.ready.wait(10):
            raise RuntimeError("no hello on the stream")
        if a.page_interval > 0:
            self.start_page_probe()
            time.sleep(1.0)   # the page probe's asset discovery

        print(f"# phase idle-empty ({a.idle_s:.0f} s)", flush=True)
        self.begin("idle-empty")
        self.tick_until(lambda: False, a.idle_s)
        self.end("idle-empty")

        print("# phase ingest (hubreplay flat out)", flush=True)
        replay_out = open(os.path.join(self.work, "replay.json"), "w")
        replay_err = open(os.path.join(self.work, "replay.err"), "w")
        self.replay = subprocess.Popen(
            [os.path.join(self.b, "hubreplay"), "--target", f"127.0.0.1:{self.port}",
             "--http", f"127.0.0.1:{self.http}", "--in", day, "--token", TOKEN, "--json"],
            stdout=replay_out, stderr=replay_err, stdin=subprocess.DEVNULL)
        replay_t0 = time.monotonic()
        def replay_done():
            cpu = proc_cpu(self.replay.pid)   # read before poll() may reap it
            if self.replay.poll() is not None:
                return True
            self.replay_cpu = max(self.replay_cpu, cpu)
            return False
        self.tick_until(replay_done, 1.0)
        self.begin("ingest")
        self.tick_until(replay_done, a.max_s)
        if self.replay.poll() is None:
            self.replay.kill()
            self.replay.wait()
            raise RuntimeError(f"hubreplay did not finish within {a.max_s} s")
        self.end("ingest")
        self.replay_wall = time.monotonic() - replay_t0
        replay_out.close()
        replay_err.close()
        try:
            self.replay_json = json.load(open(os.path.join(self.work, "replay.json")))
        except ValueError:
            self.replay_json = None
        self.replay_rc = self.replay.returncode

        time.sleep(1.0)   # let the tail of the day settle out of the idle figures
        print(f"# phase idle-full ({a.idle_s:.0f} s)", flush=True)
        self.begin("idle-full")
        self.tick_until(lambda: False, a.idle_s)
        self.end("idle-full")

        # Stragglers: up to 10 s for every probe's ack and stream event.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with self.scanner.lock:
                n_acked = len(self.scanner.acked)
            if n_acked >= len(self.scanner.sent) and \
                    len(self.stream.arrived) >= len(self.scanner.sent):
                break
            time.sleep(0.1)
        if self.page:
            open(self.page_stop, "w").close()
            try:
                self.page.wait(60)
            except subprocess.TimeoutExpired:
                self.page.kill()
                self.page.wait()
            self.page_out.close()
        self.report()

    # -- the table
    def report(self):
        a = self.a
        pages = {p: [] for p in PHASES}
        errors = []
        page_file = os.path.join(self.work, "page.jsonl")
        if not self.page:
            open(page_file, "w").close()
        with open(page_file) as fh:
            first = json.loads(fh.readline() or "{}")
            for line in fh:
                r = json.loads(line)
                for p, (t0, t1) in self.windows.items():
                    if t0 <= r["t0"] < t1:
                        pages[p].append(r)
                        if r["errors"]:
                            errors.append(f"{p}: {r['errors']}")
        assets = first.get("assets", [])
        probes = {p: [] for p in PHASES}
        for seq, (ts, pid, ph) in sorted(self.scanner.sent.items()):
            if ph in probes:
                probes[ph].append((ts, self.scanner.acked.get(seq), self.stream.arrived.get(pid)))

        print()
        print(f"hubd --durability wal; day: hubgen --parcels {a.parcels} ({self.day_events} events); "
              f"page every {a.page_interval or '(off)'} s, probe scan every {a.scan_interval} s; "
              f"cpu busy: the whole machine; cores: CPU seconds per second of the phase")
        if self.replay_json:
            r = self.replay_json
            print("hubreplay: " + ", ".join(f"{k}={r[k]}" for k in r
                                            if not isinstance(r[k], (dict, list)))[:600])
            for k in r:
                if isinstance(r[k], dict):
                    print(f"hubreplay {k}: " + json.dumps(r[k])[:300])
        print(f"hubreplay exit {self.replay_rc}, {self.replay_wall:.1f} s wall")
        print(f"machine before the run: {os.cpu_count()} cores, load avg 1 min {self.before[0]:.1f}, "
              f"cpu busy {100 * self.before[1]:.0f} % over 3 s")
        cols = list(PHASES)
        rows = []

        def row(label, f):
            rows.append([label] + [f(p) for p in cols])

        st = self.stats
        row("phase length s", lambda p: f"{st[p]['dur']:.1f}")
        row("ingest events/s", lambda p: f"{st[p]['rate'] / 1000:.1f} k")
        row("cpu busy (machine)", lambda p: f"{100 * st[p]['busy']:.0f} %")
        row("cores: hubd", lambda p: f"{st[p]['hubd_cores']:.2f}")
        row("cores: hubreplay", lambda p: f"{st[p]['replay_cores']:.2f}")
        row("cores: the probes (Python)", lambda p: f"{st[p]['probe_cores']:.2f}")
        row("cores: everything else", lambda p: f"{st[p]['other_cores']:.2f}")
        row("load avg 1 min (start/end)", lambda p: f"{st[p]['load0']:.1f}/{st[p]['load1']:.1f}")
        row("page loads", lambda p: str(len(pages[p])))

        def pr(vals):
            return f"{ms(pct(vals, 50))} / {ms(pct(vals, 99))} / {ms(max(vals) if vals else None)}"
        row("page load ms p50/p99/max", lambda p: pr([r["page"] for r in pages[p]]))
        for name, label in (("static", f"  static: / + {max(0, len(assets) - 1)} assets"),
                            ("hub", "  GET /v1/hub"),
                            ("worklist", "  GET /v1/exceptions newest 100"),
                            ("summary", "  GET /v1/summary"),
                            ("report", "  GET /v1/report (the day's shift)")):
            row(label, lambda p, n=name: pr([r["req"][n] for r in pages[p] if n in r["req"]]))
        row("probe cases sent", lambda p: str(len(probes[p])))
        row("  send->ack ms p50/p99/max",
            lambda p: pr([k - s for s, k, _ in probes[p] if k is not None]))
        row("  ack->stream ms p50/p99/max",
            lambda p: pr([x - k for _, k, x in probes[p] if k is not None and x is not None]))
        row("  send->stream ms p50/p99/max",
            lambda p: pr([x - s for s, _, x in probes[p] if x is not None]))
        row("  not acked", lambda p: str(sum(1 for _, k, _ in probes[p] if k is None)))
        row("  never on the stream", lambda p: str(sum(1 for _, _, x in probes[p] if x is None)))
        w = [max(len(r[i]) for r in rows + [["", *cols]]) for i in range(len(cols) + 1)]
        print("| " + " | ".join(h.ljust(w[i]) for i, h in enumerate(["", *cols])) + " |")
        print("|" + "|".join("-" * (x + 2) for x in w) + "|")
        for r in rows:
            print("| " + " | ".join(c.ljust(w[i]) for i, c in enumerate(r)) + " |")
        # Does the lag stay bounded? The ingest phase in tenths of its length.
        ing = probes["ingest"]
        if ing:
            t0, t1 = self.windows["ingest"]
            step = (t1 - t0) / 10
            parts = []
            for i in range(10):
                sl = [(s, k, x) for s, k, x in ing if t0 + i * step <= s < t0 + (i + 1) * step]
                ak = [x - k for _, k, x in sl if k is not None and x is not None]
                parts.append(f"{ms(pct(ak, 50))}/{ms(max(ak) if ak else None)}")
            print("ingest, ack->stream ms p50/max by tenth of the phase: " + "  ".join(parts))
        print(f"stream: {self.stream.cases} case events read; overflow {self.stream.overflow}; "
              f"open at the end {not self.stream.ended}")
        problems = self.scanner.problems + self.stream.problems + errors[:10]
        bad = [l for l in self.hubd_log if "level=error" in l or "level=warn" in l]
        problems += ["hubd: " + l for l in bad[:10]]
        if self.replay_rc not in (0, None):
            problems.append(f"hubreplay exit {self.replay_rc}: "
                            + open(os.path.join(self.work, "replay.err")).read()[-500:])
        print("problems: " + ("none" if not problems else ""))
        for p in problems:
            print("  " + p)
        self.failed = bool(problems) or any(
            x is None for p in PHASES for _, _, x in probes[p])

    def cleanup(self):
        for p in (self.replay, self.page):
            if p is not None and p.poll() is None:
                p.kill()
                p.wait()
        for obj in ("scanner", "stream"):
            if hasattr(self, obj):
                getattr(self, obj).close()
        if self.hubd is not None and self.hubd.poll() is None:
            self.hubd.send_signal(signal.SIGTERM)
            try:
                self.hubd.wait(30)
            except subprocess.TimeoutExpired:
                self.hubd.kill()
                self.hubd.wait()
        shutil.rmtree(self.work, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("build", nargs="?", default=os.environ.get("BUILD_DIR", "build"))
    ap.add_argument("--parcels", type=int, default=int(os.environ.get("PARCELS", 600000)))
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--date", default="2026-11-27", help="the day's date (hubgen --date)")
    ap.add_argument("--idle-s", type=float, default=15.0)
    ap.add_argument("--page-interval", type=float, default=0.25)
    ap.add_argument("--scan-interval", type=float, default=0.05)
    ap.add_argument("--max-s", type=float, default=600.0, help="longest the replay may take")
    ap.add_argument("--proto", default=os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                    "..", "proto"))
    # Internal: the page probe's process.
    ap.add_argument("--page-probe", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--port", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--interval", type=float, help=argparse.SUPPRESS)
    ap.add_argument("--stop-file", help=argparse.SUPPRESS)
    ap.add_argument("--report-query", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.page_probe:
        return page_probe_main(a)
    bench = Bench(a)

    def on_signal(signum, _):
        raise KeyboardInterrupt(f"signal {signum}")
    signal.signal(signal.SIGTERM, on_signal)
    try:
        bench.run()
    finally:
        bench.cleanup()
    return 1 if bench.failed else 0


if __name__ == "__main__":
    sys.exit(main())
