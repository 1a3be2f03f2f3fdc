"""Limits on the scanner port: hello, frame and idle timeouts, ping/pong,
session caps in total and per source address (session.proto "Limits",
README flags table, deploy/hubd.toml [ingest])."""
import socket
import threading
import time

import bb_lib as bb
from bb_lib import check, fmt, fmts, kind, acks, rejects

HELLO_MS, FRAME_MS, IDLE_MS = 700, 600, 2000
SLACK = 1.3   # seconds of scheduling slack allowed past a timeout

DOC_LIMITS = ('session.proto: "a hello must arrive within the hello timeout, a started frame must '
              'complete within the frame timeout, and a session that sends nothing (not even a ping) '
              'for the idle timeout is closed with Reject{seq 0, REJECT_TIMEOUT}"')
DOC_TIMEOUT_CODE = ('session.proto: "REJECT_TIMEOUT = 12; // seq 0, closes: no hello, no complete '
                    'frame or nothing at all within the configured timeout"')
DOC_CAPS = ('session.proto: "connections over the daemon\'s session caps (in total, per source '
            'address) are closed at once." deploy/hubd.toml: "Connections beyond max_sessions in all, '
            'or beyond max_sessions_per_address from one address (a station gateway or NAT counts '
            'once), are closed as soon as they are accepted."')


def _timeout_reject(frames):
    return [f for f in frames if kind(f) == "reject" and f.reject.code == bb.S.REJECT_TIMEOUT
            and f.reject.seq == 0]


class TimeoutTests(bb.BBTest):
    daemon_args = ["--hello-timeout-ms", str(HELLO_MS), "--frame-timeout-ms", str(FRAME_MS),
                   "--idle-timeout-ms", str(IDLE_MS)]

    @check
    def test_01_hello_timeout(self):
        """no hello -> Reject{0, TIMEOUT} and close after the hello timeout"""
        m0 = self.d.metric_value("hubd_scanner_session_timeouts_total") or 0
        c = self.d.scanner()
        t0 = time.monotonic()
        closed, fr = c.drain_until_closed(HELLO_MS / 1000 + 3)
        dt = time.monotonic() - t0
        self.expect(closed and HELLO_MS / 2000 <= dt <= HELLO_MS / 1000 + SLACK, DOC_LIMITS,
                    f"connect, send nothing (hello timeout {HELLO_MS} ms)",
                    f"closed={closed} after {dt:.2f}s")
        self.expect(len(_timeout_reject(fr)) == 1, DOC_TIMEOUT_CODE,
                    f"connect, send nothing (hello timeout {HELLO_MS} ms)", fmts(fr))
        m1 = bb.wait_for(lambda: (self.d.metric_value("hubd_scanner_session_timeouts_total") or 0) > m0, 2)
        self.expect(m1, "README metrics: hubd_scanner_session_timeouts_total", "one hello timeout",
                    f"{m0} -> {self.d.metric_value('hubd_scanner_session_timeouts_total')}")

    @check
    def test_02_pings_do_not_replace_the_hello(self):
        """pings without a hello still hit the hello timeout"""
        c = self.d.scanner()
        stop = threading.Event()

        def pinger():
            n = 1
            while not stop.is_set():
                if not c.try_send(bb.ping(n)):
                    return
                n += 1
                time.sleep(0.15)
        t = threading.Thread(target=pinger, daemon=True)
        t0 = time.monotonic()
        t.start()
        closed, fr = c.drain_until_closed(HELLO_MS / 1000 + 3)
        dt = time.monotonic() - t0
        stop.set()
        t.join(2)
        pongs = [f for f in fr if kind(f) == "pong"]
        self.expect(closed and dt <= HELLO_MS / 1000 + SLACK and _timeout_reject(fr),
                    'session.proto: "a hello must arrive within the hello timeout"; README: "close a '
                    'connection without a hello"', f"no hello, a ping every 150 ms (hello timeout {HELLO_MS} ms)",
                    f"closed={closed} after {dt:.2f}s, {len(pongs)} pongs, other frames "
                    f"{fmts([f for f in fr if kind(f) != 'pong'])}")
        self.expect(pongs, 'session.proto Ping: "Allowed before and after the hello."',
                    "pings before hello", f"{len(pongs)} pongs")

    @check
    def test_03_late_hello_within_timeout(self):
        """hello just inside the hello timeout is welcomed and the session then lives on"""
        c = self.d.scanner()
        time.sleep(HELLO_MS / 1000 * 0.6)
        w = c.do_hello("LATE-1", "ST")
        self.require(kind(w) == "welcome", DOC_LIMITS, f"hello after {HELLO_MS * 0.6:.0f} ms", fmt(w))
        for i in range(4):
            time.sleep(0.3)
            c.send(bb.ping(i))
            f = c.recv(2)
            self.expect(kind(f) == "pong", "the hello timeout no longer applies after the hello",
                        f"ping {i} at +{0.3 * (i + 1):.1f}s after the hello", fmt(f))
        c.close()

    @check
    def test_04_frame_timeout_slowloris(self):
        """a frame dripped one byte per 100 ms is cut off after the frame timeout"""
        c, w = self.d.session("SLOW-1", "ST")
        stop = threading.Event()

        def drip():
            # a 200-byte frame, one byte every 100 ms
            if not c.try_send():
                return
            try:
                c.send_raw(bb.varint(200))
                while not stop.is_set():
                    time.sleep(0.1)
                    c.send_raw(b"\x00")
            except OSError:
                return
        t = threading.Thread(target=drip, daemon=True)
        t0 = time.monotonic()
        t.start()
        closed, fr = c.drain_until_closed(FRAME_MS / 1000 + 3)
        dt = time.monotonic() - t0
        stop.set()
        t.join(2)
        self.expect(closed and FRAME_MS / 2000 <= dt <= FRAME_MS / 1000 + SLACK and dt < IDLE_MS / 1000,
                    DOC_LIMITS, f"after hello: length prefix 200, then 1 byte per 100 ms (frame timeout "
                    f"{FRAME_MS} ms, idle {IDLE_MS} ms)", f"closed={closed} after {dt:.2f}s")
        self.expect(len(_timeout_reject(fr)) == 1, DOC_TIMEOUT_CODE, "slowloris frame", fmts(fr))

    @check
    def test_05_idle_timeout_and_ping_keepalive(self):
        """silent session -> Reject{0, TIMEOUT} after idle timeout; a pinging one stays open"""
        quiet, _ = self.d.session("IDLE-1", "ST")
        busy, _ = self.d.session("IDLE-2", "ST")
        stop = threading.Event()
        pong_problems = []

        def keepalive():
            n = 100
            while not stop.is_set():
                try:
                    busy.send(bb.ping(n))
                    f = busy.recv(2)
                    if kind(f) != "pong" or f.pong.nonce != n:
                        pong_problems.append(fmt(f))
                except Exception as e:  # noqa: BLE001
                    pong_problems.append(repr(e))
                    return
                n += 1
                stop.wait(0.4)
        talker, _ = self.d.session("IDLE-3", "ST")
        talk_problems = []

        def events_only():
            seq = 0
            while not stop.is_set():
                seq += 1
                try:
                    talker.send(bb.damaged("IDLE-3", seq, f"IDLE3-{seq}"))
                    fr = talker.until_ack(seq, 2)
                    if fr[-1] is None:
                        talk_problems.append(f"closed after seq {seq}: {fmts(fr)}")
                        return
                except Exception as e:  # noqa: BLE001
                    talk_problems.append(repr(e))
                    return
                stop.wait(0.5)
        t = threading.Thread(target=keepalive, daemon=True)
        t3 = threading.Thread(target=events_only, daemon=True)
        t0 = time.monotonic()
        t.start()
        t3.start()
        closed, fr = quiet.drain_until_closed(IDLE_MS / 1000 + 3)
        dt = time.monotonic() - t0
        self.expect(closed and IDLE_MS / 2000 <= dt <= IDLE_MS / 1000 + SLACK, DOC_LIMITS,
                    f"hello, then nothing (idle timeout {IDLE_MS} ms)", f"closed={closed} after {dt:.2f}s")
        self.expect(len(_timeout_reject(fr)) == 1, DOC_TIMEOUT_CODE, "silent session", fmts(fr))
        # keep pinging until 1.6 x the idle timeout has passed
        while time.monotonic() - t0 < IDLE_MS / 1000 * 1.6:
            time.sleep(0.1)
        stop.set()
        t.join(3)
        t3.join(3)
        self.expect(not talk_problems, 'session.proto: "a session that sends nothing (not even a ping) for '
                    'the idle timeout is closed" -- a session sending events is not idle',
                    f"an event every 0.5 s for {IDLE_MS * 1.6 / 1000:.1f}s, no pings", f"{talk_problems[:3]}")
        talker.close()
        self.expect(not pong_problems, 'session.proto: "scanner -> ClientFrame{ping} any time, to keep '
                    'an idle session ... daemon -> ServerFrame{pong}"',
                    f"a ping every 0.4 s for {IDLE_MS * 1.6 / 1000:.1f}s", f"problems {pong_problems[:3]}")
        busy.send(bb.damaged("IDLE-2", 1, "IDLE-P1"))
        fr = busy.until_ack(1, 3)
        self.expect(fr[-1] is not None and not rejects(fr), DOC_LIMITS, "event after pinging", fmts(fr))
        busy.close()


class CapsTests(bb.BBTest):
    daemon_args = ["--max-sessions", "5", "--max-sessions-per-address", "3"]
    config_text = None   # also: no API token configured

    def _refused(self, src, what):
        c = self.d.scanner(src=src)
        t0 = time.monotonic()
        closed, fr = c.drain_until_closed(1.5)
        dt = time.monotonic() - t0
        self.expect(closed and not any(kind(f) == "welcome" for f in fr), DOC_CAPS, what,
                    f"closed={closed} after {dt:.2f}s, frames {fmts(fr)}")
        c.close()

    def _ok(self, src, sid):
        c, w = self.d.session(sid, "ST", src=src)
        return c

    @check
    def test_01_session_caps(self):
        """per-address cap 3 and total cap 5, other loopback addresses count separately"""
        m_addr0 = self.d.metric_value("hubd_scanner_sessions_refused_total",
                                      {"reason": "max_sessions_per_address"}) or 0
        m_tot0 = self.d.metric_value("hubd_scanner_sessions_refused_total", {"reason": "max_sessions"}) or 0
        held = []
        try:
            for i in range(3):
                held.append(self._ok("127.0.0.1", f"CAP-A{i}"))
        except AssertionError as e:
            self.problem(DOC_CAPS, "3 sessions from 127.0.0.1 (per-address cap 3)", str(e))
            raise bb.Hard()
        self._refused("127.0.0.1", "4th connection from 127.0.0.1 (per-address cap 3)")
        try:
            held.append(self._ok("127.0.0.2", "CAP-B0"))
            held.append(self._ok("127.0.0.2", "CAP-B1"))
        except AssertionError as e:
            self.problem(DOC_CAPS + ' ("other loopback addresses count as other addresses")',
                         "3 sessions from 127.0.0.1 open; 2 from 127.0.0.2", str(e))
            raise bb.Hard()
        self._refused("127.0.0.3", "6th connection overall, from 127.0.0.3 (total cap 5)")
        # the sessions held are undisturbed
        for i, c in enumerate(held):
            c.send(bb.ping(i))
            f = c.recv(2)
            self.expect(kind(f) == "pong", "refusing a connection disturbs no other session",
                        f"ping on held session {i}", fmt(f))
        # a slot freed is usable again
        held.pop(0).close()
        ok = bb.wait_for(lambda: self._try_ok("127.0.0.1", "CAP-A9", held), 3, 0.2)
        self.expect(ok, DOC_CAPS + " (a closed session frees its slot)",
                    "close one 127.0.0.1 session, connect again from 127.0.0.1", "refused for 3 s")
        m_addr1 = self.d.metric_value("hubd_scanner_sessions_refused_total",
                                      {"reason": "max_sessions_per_address"}) or 0
        m_tot1 = self.d.metric_value("hubd_scanner_sessions_refused_total", {"reason": "max_sessions"}) or 0
        self.expect(m_addr1 >= m_addr0 + 1 and m_tot1 >= m_tot0 + 1,
                    "README metrics: hubd_scanner_sessions_refused_total{reason}",
                    "one refusal per cap", f"per-address {m_addr0}->{m_addr1}, total {m_tot0}->{m_tot1}")
        for c in held:
            c.close()

    @check
    def test_03_caps_count_connections_before_hello(self):
        """connections that have not said hello yet count against the per-address cap"""
        raw = [self.d.scanner(src="127.0.0.5") for _ in range(3)]
        time.sleep(0.1)
        self._refused("127.0.0.5", "4th connection from 127.0.0.5 while 3 connections from it have "
                      "not said hello yet (per-address cap 3)")
        for c in raw:
            c.send(bb.ping(5))
            f = c.recv(2)
            self.expect(kind(f) == "pong", "connections under the cap are served", "ping", fmt(f))
            c.close()

    def _try_ok(self, src, sid, held):
        try:
            c = self.d.scanner(src=src)
            w = c.do_hello(sid, "ST", timeout=1)
        except (OSError, TimeoutError):
            return False
        if kind(w) == "welcome":
            held.append(c)
            return True
        c.close()
        return False

    @check
    def test_02_api_without_tokens_is_401(self):
        """no [[api.tokens]] configured: every /v1/ request gets 401"""
        for path, tok in (("/v1/summary", None), ("/v1/summary", "anything"),
                          ("/v1/exceptions", "bb-admin-token-0123456789")):
            st, body = self.d.http("GET", path, token=tok)
            self.expect(st == 401, 'docs/api.md: "With no token configured every `/v1/` request gets 401."',
                        f"GET {path} with token {tok!r}", f"{st} {body[:200]!r}")


class FdExhaustionTests(bb.BBTest):
    """hubd with RLIMIT_NOFILE 80: scanner connections use up its descriptors."""

    @classmethod
    def setUpClass(cls):
        cls.d = bb.Hubd("fdlimit", config_text=bb.TOKENS_TOML, nofile=80)
        cls.d.start()

    @check
    def test_01_out_of_descriptors(self):
        """fd exhaustion by scanner connections: sessions undisturbed, accept errors counted, no spin"""
        d = self.d
        keep, w = d.session("FD-KEEP", "ST")
        n_before = len(d.all_output)
        conns = []
        for _ in range(100):
            try:
                conns.append(socket.create_connection(("127.0.0.1", d.port), timeout=1))
            except OSError:
                break
        time.sleep(0.3)
        keep.send(bb.ping(1))
        f = keep.recv(3)
        self.expect(kind(f) == "pong", 'SPEC §6: "no other session disturbed"',
                    f"{len(conns)} TCP connections to the scanner port of a hubd limited to 80 descriptors",
                    f"established session: ping -> {fmt(f)}")
        # an HTTP client (a Prometheus scrape, say) arrives while descriptors are exhausted
        try:
            hs = socket.create_connection(("127.0.0.1", d.http_port), timeout=1)
            hs.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            hs.settimeout(0.7)
            try:
                hs.recv(100)
            except OSError:
                pass
            hs.close()
        except OSError:
            pass
        for s in conns:
            s.close()
        ok = bb.wait_for(lambda: self._new_session_ok(), 5, 0.3)
        self.expect(ok, 'README: "accept back-off"; SPEC §6 "Safe with bad input"',
                    "close the 100 connections, connect a new scanner", "no welcome within 5 s")
        st, _ = d.http("GET", "/healthz")
        self.expect(st == 200, "operations endpoints serve again", "GET /healthz", str(st))
        ae = d.metric_value("hubd_accept_errors_total") or 0
        self.expect(ae > 0, 'README metrics: "hubd_accept_errors_total" (/metrics HELP: "Failed accepts on '
                    'the scanner port (e.g. out of file descriptors)")', "descriptor exhaustion", f"{ae}")
        lines = d.all_output[n_before:]
        failed = [l for l in lines if b"accept_failed" in l]
        http_failed = [l for l in failed if b"http_accept_failed" in l]
        self.expect(len(failed) < 1000,
                    'README: state table "scanner boundary | ... timeouts, session caps, accept back-off"; '
                    'layout "src/util/ log values that text from outside cannot forge, log throttle"',
                    f"{len(conns)} scanner connections exhaust descriptors, one HTTP connection waits ~0.7 s",
                    f"{len(failed)} accept_failed log lines ({len(http_failed)} of them event=http_accept_failed, "
                    f"e.g. {http_failed[:1]}): the HTTP listener retries accept() without back-off or "
                    "log throttling")
        keep.close()

    def _new_session_ok(self):
        try:
            c = self.d.scanner()
            w = c.do_hello(f"FD-NEW-{time.monotonic_ns()}", "ST", timeout=1)
            c.close()
            return kind(w) == "welcome"
        except (OSError, TimeoutError):
            return False
