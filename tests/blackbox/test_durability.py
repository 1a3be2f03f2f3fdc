"""Resume point and re-sends across kill -9 and SIGTERM drain (SPEC §6
"Durable", README "Re-sends", "SIGTERM or SIGINT drains")."""
import http.client
import threading
import time

import bb_lib as bb
from bb_lib import check, fmt, fmts, kind, acks, rejects, decisions

DOC_DURABLE = ('SPEC §6: "an acked event survives `kill -9` and power loss per the configured '
               'durability (WAL written; or WAL fsynced with group commit). Restart recovers every '
               'acked event and its effects, nothing twice."')
DOC_RESEND_RESTART = ('README: "a re-sent sort scan gets the decision it was given the first time '
                      '(from the log, also after a restart)"')
DOC_DRAIN = ('README: "SIGTERM or SIGINT drains: the listener closes, sessions stop reading, every '
             'event already read is applied, committed and answered, the state is checkpointed, the '
             'store closed, and hubd exits 0."')


def _stream(c, data):
    try:
        c.send_raw(data)
    except OSError:
        pass


class DurabilityTests(bb.BBTest):

    @classmethod
    def extra_setup(cls):
        cls.d.add_routes(("D-K", "R-K", "C-K", "L-K"))

    def _restart(self, how):
        if how == "kill9":
            self.d.kill9()
        self.d.start()

    @check
    def test_01_kill9_resume_and_original_decision(self):
        """kill -9 after acks: resume point, traces, original decision and reject on re-send"""
        sid = "K-1"
        c, w = self.d.session(sid, "ST")
        c.send(*[bb.damaged(sid, i, f"K1-P{i}") for i in range(1, 301)],
               bb.sorted_scan(sid, 301, "K1-S301", "D-K"), bb.damaged(sid, 302, ""))
        fr = c.until_ack(302, 10)
        orig = [d for d in decisions(fr) if d.seq == 301]
        self.require(orig and orig[0].route_code == "R-K", "routed decision", "sort seq 301", fmts(fr[-3:]))
        orig_rej = [r for r in rejects(fr) if r.seq == 302]
        self._restart("kill9")
        self.d.add_routes(("D-K", "R-K-AFTER", "C-K2", "L-K2"))
        c, w = self.d.session(sid, "ST")
        self.expect(w.welcome.last_durable_seq == 302, DOC_DURABLE + ' README: "the resume point moves '
                    'past it (durably)"', "acked 1..302 (302 content-rejected), kill -9, restart, hello",
                    fmt(w))
        c.send(bb.sorted_scan(sid, 301, "K1-S301", "D-K"), bb.damaged(sid, 302, ""))
        fr = c.until_ack(302, 5)
        ds = decisions(fr)
        self.expect(len(ds) == 1 and ds[0] == orig[0], DOC_RESEND_RESTART,
                    "after kill -9 + restart + route change: sort seq 301 again",
                    f"{fmts(fr)}; original {fmt(orig[0])}")
        rj = [r for r in rejects(fr) if r.seq == 302]
        self.expect(rj and orig_rej and rj[0].code == orig_rej[0].code,
                    'session.proto: "a re-sent event that was rejected for its content is rejected '
                    'again the same way"', "after kill -9: seq 302 (empty parcel id) again", fmts(fr))
        api = bb.ApiSession(self.d)
        for i in (1, 150, 300):
            st, j = api.get_json(f"/v1/parcels/K1-P{i}")
            self.expect(st == 200 and len(j.get("entries", [])) == 1, DOC_DURABLE,
                        f"after kill -9: GET /v1/parcels/K1-P{i}", f"{st} {j}")
        st, j = api.get_json("/v1/parcels/K1-S301")
        self.expect(st == 200 and len(j.get("entries", [])) == 1
                    and j["entries"][0].get("decision", {}).get("route_code") == "R-K",
                    DOC_DURABLE, "after kill -9: GET /v1/parcels/K1-S301", f"{st} {j}")
        api.close()
        c.send(bb.damaged(sid, 303, "K1-P303"))
        fr = c.until_ack(303, 5)
        self.expect(not rejects(fr), DOC_DURABLE, "seq 303 after restart", fmts(fr))
        c.close()

    @check
    def test_02_kill9_mid_stream(self):
        """kill -9 while a scanner streams: every acked event survives, once; resume from the mark"""
        sid = "K-2"
        n = 20000
        c, w = self.d.session(sid, "ST")
        data = b"".join(bb.delimited(bb.damaged(sid, i, f"K2-A{i}")) for i in range(1, n + 1))
        t = threading.Thread(target=_stream, args=(c, data), daemon=True)
        t.start()
        got = c.until_ack(500, 10)
        self.d.kill9()
        closed, rest = c.drain_until_closed(3)
        a_max = max(acks(got + rest))
        t.join(5)
        self.d.start()
        c, w = self.d.session(sid, "ST")
        r = w.welcome.last_durable_seq
        self.expect(r >= a_max, DOC_DURABLE, f"streamed 1..{n}, kill -9 after ack {a_max}",
                    f"resume point {fmt(w)}")
        api = bb.ApiSession(self.d)
        for s in sorted({1, a_max // 2, a_max - 1, a_max, r}):
            st, j = api.get_json(f"/v1/parcels/K2-A{s}")
            self.expect(st == 200 and len(j.get("entries", [])) == 1, DOC_DURABLE,
                        f"acked seq {s} before kill -9 (resume {r})", f"GET /v1/parcels/K2-A{s} -> {st}")
        c.send(*[bb.damaged(sid, s, f"K2-B{s}") for s in range(r + 1, r + 11)])
        fr = c.until_ack(r + 10, 5)
        self.expect(not rejects(fr), 'session.proto Welcome: "Resume sending at last_durable_seq + 1"',
                    f"seq {r + 1}..{r + 10}", fmts(fr))
        if r < n:
            st, _ = api.get_json(f"/v1/parcels/K2-A{r + 1}")
            self.expect(st == 404, DOC_DURABLE + " (nothing beyond the resume point applied)",
                        f"first seq past the resume point, K2-A{r + 1}", f"{st}")
        st, j = api.get_json(f"/v1/parcels/K2-B{r + 1}")
        self.expect(st == 200, DOC_DURABLE, f"K2-B{r + 1} sent after restart", f"{st}")
        api.close()
        c.close()

    @check
    def test_03_sigterm_drain(self):
        """SIGTERM while streaming: answered up to what was read, exit 0, resume == last ack"""
        sid = "K-3"
        n = 20000
        c, w = self.d.session(sid, "ST")
        base = w.welcome.last_durable_seq
        data = b"".join(bb.delimited(bb.damaged(sid, i, f"K3-A{i}")) for i in range(1, n + 1))
        t = threading.Thread(target=_stream, args=(c, data), daemon=True)
        t.start()
        got = c.until_ack(500, 10)
        t0 = time.monotonic()
        self.d.proc.send_signal(15)
        closed, rest = c.drain_until_closed(10)
        a_max = max(acks(got + rest))
        try:
            rc = self.d.proc.wait(15)
        except Exception:  # noqa: BLE001
            rc = None
        dt = time.monotonic() - t0
        t.join(5)
        self.expect(rc == 0, DOC_DRAIN, "SIGTERM while a scanner streams",
                    f"exit code {rc} after {dt:.1f}s")
        self.expect(closed, DOC_DRAIN, "SIGTERM", f"session closed={closed}; last frames {fmts(rest[-2:])}")
        out = b"".join(self.d.lines)
        self.d.start()
        c, w = self.d.session(sid, "ST")
        self.expect(w.welcome.last_durable_seq == a_max, DOC_DRAIN,
                    f"streamed 1..{n}, SIGTERM after the first ack; highest ack received {a_max}",
                    f"after restart {fmt(w)}")
        self.expect(b"event=draining" in out, "README: drain (log)", "SIGTERM", "no event=draining log line")
        c.close()
        st, body = self.d.http("GET", "/readyz")
        self.expect(st == 200, 'README: "GET /readyz | 200 once recovery finished"', "after restart",
                    f"{st} {body!r}")

    @check
    def test_04_readyz_during_recovery(self):
        """while recovery replays the log: /readyz 503 'not ready: recovering', /v1 503; then 200"""
        sid = "K-4"
        n = 40000
        c, w = self.d.session(sid, "ST")
        base = w.welcome.last_durable_seq
        data = b"".join(bb.delimited(bb.damaged(sid, base + i, f"K4-{base + i}")) for i in range(1, n + 1))
        t = threading.Thread(target=_stream, args=(c, data), daemon=True)
        t.start()
        c.until_ack(base + n, 30)
        t.join(5)
        c.close()
        self.d.kill9()     # no checkpoint: the restart replays the whole log
        sp, hp = bb.free_port(), bb.free_port()
        self.d.fixed_ports = (sp, hp)
        answers = []
        self.d.start(expect_ready=False)
        t0 = time.monotonic()
        while self.d.port is None and time.monotonic() - t0 < 20 and self.d.alive():
            for path, tok in (("/readyz", None), ("/v1/summary", bb.VIEWER_TOKEN)):
                try:
                    conn = http.client.HTTPConnection("127.0.0.1", hp, timeout=1)
                    conn.request("GET", path, headers={"Authorization": "Bearer " + tok} if tok else {})
                    r = conn.getresponse()
                    body = r.read()
                    conn.close()
                    if self.d.port is None:     # answered before the ready line
                        answers.append((path, r.status, body))
                except OSError:
                    pass
            time.sleep(0.01)
        self.d.fixed_ports = None
        ready = bb.wait_for(lambda: self.d.port is not None, 20)
        self.require(ready, "hubd becomes ready after recovery", "restart after kill -9", "no event=ready")
        early = [a for a in answers if a[0] == "/readyz"]
        bad = [a for a in early if a[1] != 503 or a[2].strip() != b"not ready: recovering"]
        self.expect(not bad, 'README: "`GET /readyz` | 200 once recovery finished and scanners can connect; '
                    '503 `not ready: recovering` before"', f"GET /readyz while replaying {n}+ events",
                    f"{bad[:3]}")
        v1 = [a for a in answers if a[0] == "/v1/summary"]
        bad = [a for a in v1 if a[1] != 503]
        self.expect(not bad, 'docs/api.md: "Before recovery has finished `/v1/` answers 503."',
                    "GET /v1/summary while recovering", f"{bad[:3]}")
        st, body = self.d.http("GET", "/readyz")
        self.expect(st == 200 and body.strip() == b"ready", 'README: "`GET /readyz` | 200 once recovery '
                    'finished"', "GET /readyz after event=ready", f"{st} {body!r}")
        c, w = self.d.session(sid, "ST")
        self.expect(w.welcome.last_durable_seq == base + n, DOC_DURABLE, "resume after replay", fmt(w))
        c.close()
        print(f"      recovery: {len(early)} /readyz and {len(v1)} /v1 answers seen before event=ready", flush=True)
