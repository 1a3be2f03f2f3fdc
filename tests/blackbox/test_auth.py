"""Scanner credentials per scanner and per station ([[ingest.credentials]],
session.proto Hello.credential)."""
import time

import bb_lib as bb
from bb_lib import check, fmt, fmts, kind, acks, rejects

CREDS_TOML = bb.TOKENS_TOML + """
[[ingest.credentials]]
scanner = "SC-OWN"
secret = "own-secret-0001"

[[ingest.credentials]]
scanner = "SC-DOCKOWN"
secret = "dockown-secret-01"

[[ingest.credentials]]
station = "DOCK"
secret = "dock-secret-0001"
"""

DOC_CRED = ('session.proto Hello.credential: "The scanner\'s secret when the daemon is configured with '
            'scanner credentials: the scanner\'s own secret if it has one, else its station\'s. A wrong '
            'or missing credential is refused with REJECT_UNAUTHENTICATED and the session is closed."')
DOC_TOML = ('deploy/hubd.toml: "a hello must carry its scanner\'s own secret, or, for a scanner without '
            'one, its station\'s"')


class AuthTests(bb.BBTest):
    config_text = CREDS_TOML

    def _admitted(self, sid, station, cred):
        c = self.d.scanner()
        c.send(bb.hello(sid, station, cred))
        f = c.recv(3)
        if kind(f) == "welcome":
            c.close()
            return True, [f], False
        closed, rest = c.drain_until_closed(2)
        return False, [f] + rest, closed

    @check
    def test_01_credentials_admit_and_refuse(self):
        """own secret, station secret, wrong/missing/other secrets"""
        f0 = self.d.metric_value("hubd_scanner_auth_failures_total") or 0
        cases = [
            ("SC-OWN", "YARD", "own-secret-0001", True, "the scanner's own secret"),
            ("SC-OWN", "", "own-secret-0001", True, "own secret, no station"),
            ("SC-H1", "DOCK", "dock-secret-0001", True, "station secret, scanner without own secret"),
            ("SC-OWN", "YARD", "own-secret-0002", False, "wrong own secret"),
            ("SC-OWN", "YARD", "own-secret-000", False, "a prefix of the own secret"),
            ("SC-OWN", "YARD", "own-secret-00011", False, "the own secret plus one character"),
            ("SC-OWN", "YARD", "", False, "missing credential"),
            ("SC-OWN", "YARD", "dockown-secret-01", False, "another scanner's secret"),
            ("SC-DOCKOWN", "DOCK", "dock-secret-0001", False,
             "station secret for a scanner that has its own secret"),
            ("SC-H2", "YARD", "dock-secret-0001", False, "DOCK's secret at another station"),
            ("SC-H3", "DOCK", "", False, "missing credential at station DOCK"),
            ("SC-NOBODY", "NOWHERE", "anything-at-all", False, "unknown scanner at unknown station"),
            ("SC-NOBODY", "", "", False, "unknown scanner, no station, no credential"),
        ]
        refusals = 0
        for sid, st, cred, want, what in cases:
            ok, fr, closed = self._admitted(sid, st, cred)
            if want:
                self.expect(ok, DOC_CRED + " " + DOC_TOML, f"hello{{{sid}, station {st!r}, credential "
                            f"{cred!r}}} ({what})", fmts(fr))
            else:
                refusals += 1
                good = (not ok and fr and kind(fr[0]) == "reject"
                        and fr[0].reject.code == bb.S.REJECT_UNAUTHENTICATED and fr[0].reject.seq == 0 and closed)
                self.expect(good, DOC_CRED + " " + DOC_TOML, f"hello{{{sid}, station {st!r}, credential "
                            f"{cred!r}}} ({what})", f"{fmts(fr)} closed={closed}")
        f1 = bb.wait_for(lambda: (self.d.metric_value("hubd_scanner_auth_failures_total") or 0) >= f0 + refusals, 2)
        self.expect(f1, "README metrics: hubd_scanner_auth_failures_total", f"{refusals} refused hellos",
                    f"{f0} -> {self.d.metric_value('hubd_scanner_auth_failures_total')}")

    @check
    def test_02_refused_hello_does_not_fence_owner(self):
        """an unauthenticated hello for a live scanner id neither fences it nor feeds it"""
        sid = "SC-OWN"
        a, w = self.d.session(sid, "ST", credential="own-secret-0001")
        r = w.welcome.last_durable_seq
        a.send(bb.damaged(sid, r + 1, "AUTH-A1"))
        a.until_ack(r + 1, 5)
        x = self.d.scanner(src="127.0.0.9")
        # hostile: wrong secret, with an event pipelined right behind the hello
        x.send(bb.hello(sid, "ST", "not-the-secret"), bb.damaged(sid, r + 2, "AUTH-EVIL"))
        closed, fr = x.drain_until_closed(3)
        self.expect(fr and kind(fr[0]) == "reject" and fr[0].reject.code == bb.S.REJECT_UNAUTHENTICATED
                    and closed and not acks(fr), DOC_CRED, "hello{SC-OWN, wrong secret} + event",
                    f"{fmts(fr)} closed={closed}")
        st, _ = self.d.trace("AUTH-EVIL")
        self.expect(st == 404, DOC_CRED + " (the session is closed: nothing it sent is applied)",
                    "event pipelined behind a refused hello", f"GET /v1/parcels/AUTH-EVIL -> {st}")
        a.send(bb.ping(1), bb.damaged(sid, r + 2, "AUTH-A2"))
        try:
            fa = a.until_ack(r + 2, 3)
        except TimeoutError as e:
            fa = [str(e)]
        fenced = [f for f in fa if not isinstance(f, str) and kind(f) == "reject"]
        self.expect(fa and not isinstance(fa[-1], str) and fa[-1] is not None and not fenced,
                    DOC_CRED + ' + session.proto "One owner per scanner id" -- a hello that is refused '
                    'must not be able to take the id over (SPEC §5: "Scanners authenticate with a '
                    'credential in the hello")', "owner session after a refused hostile hello",
                    fmts(fa) if not isinstance(fa[-1], str) else fa)
        a.close()

    @check
    def test_03_short_secret_config(self):
        """a secret shorter than 8 characters is not accepted as a credential"""
        d2 = bb.Hubd("shortsecret", config_text='[[ingest.credentials]]\nscanner = "SC-S"\nsecret = "short"\n')
        d2.start(expect_ready=False)
        ready = bb.wait_for(lambda: d2.port is not None or not d2.alive(), 10)
        try:
            if d2.port is None:
                return  # refused to start: fine
            c = d2.scanner()
            f = c.do_hello("SC-S", "", "short")
            self.expect(kind(f) != "welcome", 'deploy/hubd.toml: "Secrets are 8+ characters"',
                        'config secret = "short" (5 characters); hello{SC-S, credential "short"}',
                        f"daemon started and answered {fmt(f)}")
            c.close()
        finally:
            d2.stop()
