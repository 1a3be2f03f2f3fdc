"""Operations endpoints and the API surface used by the other checks
(README "Operations endpoints", docs/api.md)."""
import json
import re
import socket
import time

import bb_lib as bb
from bb_lib import check, fmt, fmts, kind, acks, rejects

METRICS = {
    "hubd_events_applied_total": "counter", "hubd_exceptions_raised_total": "counter",
    "hubd_rejects_total": "counter", "hubd_duplicate_events_total": "counter",
    "hubd_commit_batch_records": "histogram", "hubd_commit_duration_seconds": "histogram",
    "hubd_sequencer_queue_events": "gauge", "hubd_sequencer_idle_seconds_total": "counter",
    "hubd_scanner_sessions": "gauge",
    "hubd_hub_sequence": "gauge", "hubd_parcels_in_hub": "gauge", "hubd_open_exceptions": "gauge",
    "hubd_healthy": "gauge", "hubd_scanner_sessions_refused_total": "counter",
    "hubd_scanner_auth_failures_total": "counter", "hubd_scanner_tls_handshake_failures_total": "counter",
    "hubd_scanner_sessions_fenced_total": "counter", "hubd_scanner_session_timeouts_total": "counter",
    "hubd_accept_errors_total": "counter",
}
LABELS = {"hubd_events_applied_total": "kind", "hubd_exceptions_raised_total": "type",
          "hubd_rejects_total": "code", "hubd_scanner_sessions_refused_total": "reason"}
DOC_OPS = ('README: "Other paths get 404, other methods 405, a malformed request 400 and a body over '
           '1 MiB 413, each with a one-line reason."')
DOC_AUTH = ('docs/api.md: "A missing or unknown token gets 401, a token whose role is too low 403; '
            'neither ever gets data."')


def raw_http(port, data, timeout=3):
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(data)
        out = b""
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                out += chunk
                if b"\r\n\r\n" in out:
                    head, _, body = out.partition(b"\r\n\r\n")
                    m = re.search(rb"(?i)content-length:\s*(\d+)", head)
                    if m and len(body) >= int(m.group(1)):
                        break
        except socket.timeout:
            pass
    return out


class OpsTests(bb.BBTest):

    @check
    def test_01_healthz_readyz(self):
        """/healthz 200 ok, /readyz 200 ready"""
        for path, want in (("/healthz", b"ok"), ("/readyz", b"ready")):
            st, body = self.d.http("GET", path)
            self.expect(st == 200 and body.strip() == want,
                        f'README/api.md: "`GET {path}` | 200 `{want.decode()}`"', f"GET {path}", f"{st} {body!r}")

    @check
    def test_02_metrics_names(self):
        """/metrics is Prometheus text with every series the README lists"""
        st, body = self.d.http("GET", "/metrics")
        self.require(st == 200, 'README: "`GET /metrics` | Prometheus text"', "GET /metrics", str(st))
        text = body.decode()
        types = dict(re.findall(r"^# TYPE (\S+) (\S+)$", text, re.M))
        for name, typ in METRICS.items():
            self.expect(types.get(name) == typ, f'README: "/metrics ... `{name}`" ({typ})', "GET /metrics",
                        f"# TYPE {name} {types.get(name)}")
            if typ == "histogram":
                self.expect(re.search(rf"^{name}_bucket\{{", text, re.M) and f"{name}_count" in text,
                            f"README: histogram {name}", "GET /metrics", "no _bucket/_count samples")
        for name, label in LABELS.items():
            self.expect(re.search(rf'^{name}\{{{label}="', text, re.M),
                        f'README: "`{name}{{{label}}}`"', "GET /metrics", f"no {name}{{{label}=...}} sample")
        self.expect(self.d.metric_value("hubd_healthy") == 1, 'README: "`hubd_healthy`"', "GET /metrics",
                    f"hubd_healthy {self.d.metric_value('hubd_healthy')}")

    @check
    def test_03_metrics_track_the_scanner_port(self):
        """sessions gauge, events applied, rejects and hub sequence move with what scanners do"""
        sess0 = self.d.metric_value("hubd_scanner_sessions")
        ev0 = self.d.metric_value("hubd_events_applied_total", {"kind": "PARCEL_DAMAGED"}) or 0
        rj0 = self.d.metric_value("hubd_rejects_total", {"code": "REJECT_BAD_SEQ"}) or 0
        a, _ = self.d.session("MET-1", "ST")
        b, _ = self.d.session("MET-2", "ST")
        sess1 = bb.wait_for(lambda: self.d.metric_value("hubd_scanner_sessions") == (sess0 or 0) + 2, 2)
        self.expect(sess1, 'README: "gauges ... `hubd_scanner_sessions`"', "two sessions open",
                    f"{sess0} -> {self.d.metric_value('hubd_scanner_sessions')}")
        a.send(bb.damaged("MET-1", 1, "MET-P1"), bb.damaged("MET-1", 2, "MET-P2"), bb.damaged("MET-1", 9, "MET-P9"))
        a.until_ack(2, 5)
        time.sleep(0.1)
        ev1 = self.d.metric_value("hubd_events_applied_total", {"kind": "PARCEL_DAMAGED"}) or 0
        rj1 = self.d.metric_value("hubd_rejects_total", {"code": "REJECT_BAD_SEQ"}) or 0
        self.expect(ev1 == ev0 + 2, 'README: "`hubd_events_applied_total{kind}`"', "2 damaged scans",
                    f"{ev0} -> {ev1}")
        self.expect(rj1 == rj0 + 1, 'README: "`hubd_rejects_total{code}`"', "1 gap (BAD_SEQ)", f"{rj0} -> {rj1}")
        st, summ, _ = self.d.api_json("GET", "/v1/summary", token=bb.VIEWER_TOKEN)
        hs = self.d.metric_value("hubd_hub_sequence")
        self.expect(summ and str(int(hs or -1)) == summ.get("hub_seq"),
                    'README: "`hubd_hub_sequence`"; api.md summary "hub_seq"', "GET /metrics, GET /v1/summary",
                    f"metric {hs}, summary {summ}")
        a.close()
        b.close()
        back = bb.wait_for(lambda: self.d.metric_value("hubd_scanner_sessions") == sess0, 2)
        self.expect(back, 'README: "`hubd_scanner_sessions`"', "both sessions closed",
                    f"{self.d.metric_value('hubd_scanner_sessions')} (was {sess0})")

    @check
    def test_04_404_405(self):
        """unknown path 404, wrong method 405, each with a one-line reason"""
        for method, path, want in (("GET", "/nope", 404), ("GET", "/healthz/extra", 404),
                                   ("POST", "/healthz", 405), ("DELETE", "/metrics", 405),
                                   ("PUT", "/readyz", 405)):
            st, body = self.d.http(method, path, body=b"" if method != "GET" else None)
            one_line = body.strip() and b"\n" not in body.strip()
            self.expect(st == want and one_line, DOC_OPS, f"{method} {path}", f"{st} {body[:200]!r}")

    @check
    def test_05_malformed_request_400(self):
        """malformed HTTP -> 400"""
        for what, data in (("garbage request line", b"THIS IS NOT HTTP\r\n\r\n"),
                           ("header line without a colon", b"GET /healthz HTTP/1.1\r\nHost: x\r\nBadHeader\r\n\r\n"),
                           ("bad content-length", b"POST /v1/reference HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n")):
            out = raw_http(self.d.http_port, data)
            self.expect(out.startswith(b"HTTP/1.1 400") or out.startswith(b"HTTP/1.0 400"), DOC_OPS, what,
                        f"{out[:160]!r}")

    @check
    def test_06_body_over_1mib_413(self):
        """a body over 1 MiB -> 413"""
        body = b'{"changes":[' + b" " * (1024 * 1024 + 16) + b"]}"
        try:
            st, resp = self.d.http("POST", "/v1/reference", body=body, token=bb.ADMIN_TOKEN,
                                   headers={"Content-Type": "application/json"}, timeout=10)
        except (OSError, ConnectionError) as e:
            st, resp = None, repr(e).encode()
        self.expect(st == 413, DOC_OPS + ' docs/api.md: "Bodies are limited to 1 MiB"',
                    f"POST /v1/reference with a {len(body)}-byte body (admin token)", f"{st} {resp[:200]!r}")
        st, _ = self.d.http("GET", "/healthz")
        self.expect(st == 200, "hubd serves on after a 413", "GET /healthz", str(st))

    @check
    def test_07_api_tokens_and_roles(self):
        """/v1: missing/unknown token 401, low role 403, no data either way"""
        ref = {"changes": [{"upsert_route": {"destination": "D-OPS", "route_code": "R-OPS",
                                             "chute": "C", "load_id": "L"}}]}
        cases = [
            ("GET", "/v1/summary", None, None, 401),
            ("GET", "/v1/summary", "not-a-token", None, 401),
            ("GET", "/v1/exceptions", bb.ADMIN_TOKEN[:-1], None, 401),
            ("POST", "/v1/reference", bb.VIEWER_TOKEN, ref, 403),
            ("POST", "/v1/reference", bb.SUP_TOKEN, ref, 403),
            ("GET", "/v1/summary", bb.VIEWER_TOKEN, None, 200),
            ("POST", "/v1/reference", bb.ADMIN_TOKEN, ref, 200),
        ]
        for method, path, tok, body, want in cases:
            st, j, raw = self.d.api_json(method, path, body, token=tok)
            ok = st == want
            if want in (401, 403):
                ok = ok and isinstance(j, dict) and set(j) == {"error"}
            self.expect(ok, DOC_AUTH + ' "Errors are {"error": "one line saying what is wrong"}"',
                        f"{method} {path} token={tok!r}", f"{st} {raw[:200]!r}")
        st, body = self.d.http("GET", "/v1/summary", headers={"Authorization": "Basic " + bb.VIEWER_TOKEN})
        self.expect(st == 401, 'docs/api.md: "`/v1/` needs `Authorization: Bearer TOKEN`"',
                    "GET /v1/summary with 'Authorization: Basic <viewer token>'", f"{st} {body[:120]!r}")

    @check
    def test_08_parcel_trace_ids(self):
        """trace: unknown id 404, id > 64 bytes 400, %2F-encoded id found"""
        c, w = self.d.session("TRC-1", "ST")
        c.send(bb.damaged("TRC-1", 1, "A/B C"))
        c.until_ack(1, 5)
        c.close()
        st, j = self.d.trace("A/B C")
        self.expect(st == 200 and j.get("parcel_id") == "A/B C",
                    'docs/api.md: "Ids are percent-encoded in the path (`/` as `%2F`)."',
                    "GET /v1/parcels/A%2FB%20C", f"{st} {j}")
        st, j = self.d.trace("NO-SUCH-PARCEL")
        self.expect(st == 404, 'docs/api.md: "An id the hub has no record of is a 404"',
                    "GET /v1/parcels/NO-SUCH-PARCEL", f"{st} {j}")
        st, j = self.d.trace("P" * 65)
        self.expect(st == 400, 'docs/api.md: "an id longer than 64 bytes a 400"', "GET /v1/parcels/<65 bytes>",
                    f"{st} {j}")

    @check
    def test_09_sighup_without_tls(self):
        """kill -HUP on a hubd without TLS leaves it running and serving"""
        c, w = self.d.session("HUP-1", "ST")
        self.d.sighup()
        time.sleep(0.3)
        self.expect(self.d.alive(), 'README: "`kill -HUP` makes hubd read its TLS files again"',
                    "kill -HUP to a hubd without TLS configured", f"exit code {self.d.proc.poll()}")
        if self.d.alive():
            c.send(bb.damaged("HUP-1", 1, "HUP-P1"))
            fr = c.until_ack(1, 3)
            self.expect(not rejects(fr), "open sessions keep working", "event after SIGHUP", fmts(fr))
            st, _ = self.d.http("GET", "/healthz")
            self.expect(st == 200, "HTTP keeps working", "GET /healthz after SIGHUP", str(st))
        c.close()
