"""TLS on the scanner port, client certificates naming the scanner (mutual
TLS), HTTPS on the HTTP port, SIGHUP reload of certificates (README,
deploy/hubd.toml [ingest.tls] / [http.tls], docs/api.md, session.proto)."""
import os
import shutil
import socket
import ssl
import time

import bb_lib as bb
from bb_lib import check, fmt, fmts, kind, acks, rejects

CERTS = None

DOC_MTLS = ('session.proto Hello.credential: "Ignored ... when the connection presented a client '
            'certificate that names this scanner_id (mutual TLS). A client certificate that names '
            'another scanner is refused whatever the credential."; deploy/hubd.toml: "With client_ca, '
            'scanners may present a client certificate whose common name or DNS alternative name is '
            'their scanner id (mutual TLS)"')
DOC_HUP = ('README: "`kill -HUP` makes hubd read its TLS files again (new connections use them; open '
           'sessions keep theirs)."')
DOC_HTTPS = ('docs/api.md: "With `[http.tls]` (or `--http-tls-cert`/`--http-tls-key`) the listener '
             'speaks HTTPS only (TLS 1.2 and 1.3); a plain HTTP request on it gets no answer."')


def setUpModule():
    global CERTS
    CERTS = bb.Certs(os.path.join(bb.WORK, "certs"))
    CERTS.issue("server", "hubd-test-1", san="IP:127.0.0.1,DNS:localhost")
    CERTS.issue("server2", "hubd-test-2", san="IP:127.0.0.1,DNS:localhost")
    CERTS.issue("cl-cert", "SC-CERT", client=True)
    CERTS.issue("cl-san", "not-a-scanner-id", san="DNS:SC-SAN", client=True)
    CERTS.issue("cl-pw", "SC-PW", client=True)
    CERTS.issue("cl-rogue", "SC-CERT", client=True, ca=CERTS.rogue_ca)


def _copy_server_cert(d, name="server"):
    for ext in ("pem", "key"):
        tmp = os.path.join(d.dir, f"hubd.{ext}.tmp")
        shutil.copy(CERTS.p(f"{name}.{ext}"), tmp)
        os.replace(tmp, os.path.join(d.dir, f"hubd.{ext}"))


def _scanner_outcome(d, ctx, sid, cred="", station="ST"):
    """('handshake', err) | ('closed', frames) | ('welcome', frame) | ('reject', frames)"""
    try:
        c = bb.Scanner(d.port, tls=ctx)
    except (ssl.SSLError, OSError) as e:
        return "handshake", repr(e), None
    try:
        c.send(bb.hello(sid, station, cred))
        f = c.recv(3)
    except (ssl.SSLError, OSError) as e:
        return "handshake", repr(e), None
    except TimeoutError:
        return "timeout", [], c
    if f is None:
        return "closed", [], None
    if kind(f) == "welcome":
        return "welcome", f, c
    closed, rest = c.drain_until_closed(2)
    return ("reject" if closed else "reject-open"), [f] + rest, c


class TlsTests(bb.BBTest):
    @classmethod
    def setUpClass(cls):
        cls.d = bb.Hubd("tls", args=["--hello-timeout-ms", "800", "--frame-timeout-ms", "800",
                                       "--idle-timeout-ms", "1500"], config_text="")
        d = cls.d
        _copy_server_cert(d)
        shutil.copy(CERTS.p("ca.pem"), os.path.join(d.dir, "client-ca.pem"))
        with open(d.config, "w") as fh:
            fh.write(bb.TOKENS_TOML + f"""
[[ingest.credentials]]
scanner = "SC-PW"
secret = "pw-secret-0001"

[ingest.tls]
cert = "{d.dir}/hubd.pem"
key = "{d.dir}/hubd.key"
client_ca = "{d.dir}/client-ca.pem"

[http.tls]
cert = "{d.dir}/hubd.pem"
key = "{d.dir}/hubd.key"
""")
        d.scan_tls = CERTS.client_ctx()
        d.http_tls = CERTS.client_ctx()
        d.start()

    @check
    def test_01_tls_scanner_session(self):
        """TLS scanner port: verified handshake, hello with credential, events acked"""
        kd, f, c = _scanner_outcome(self.d, CERTS.client_ctx(), "SC-PW", "pw-secret-0001")
        self.require(kd == "welcome", 'README: "With TLS configured the connection starts with a TLS '
                     'handshake"', "TLS (CA-verified, no client cert) + hello{SC-PW, right secret}",
                     f"{kd}: {f if isinstance(f, str) else fmt(f) if kind(f) else fmts(f)}")
        c.send(bb.damaged("SC-PW", f.welcome.last_durable_seq + 1, f"TLS-P{time.monotonic_ns()}"))
        fr = c.until_ack(f.welcome.last_durable_seq + 1, 5)
        self.expect(not rejects(fr), "events over TLS", "one event", fmts(fr))
        c.close()

    @check
    def test_02_plaintext_on_tls_port(self):
        """a plaintext scanner on the TLS port is not served"""
        m0 = self.d.metric_value("hubd_scanner_tls_handshake_failures_total") or 0
        c = bb.Scanner(self.d.port)
        c.send(bb.hello("SC-PW", "ST", "pw-secret-0001"))
        closed, fr = c.drain_until_closed(3)
        welcomed = False
        try:
            welcomed = any(kind(f) == "welcome" for f in fr)
        except Exception:  # noqa: BLE001
            pass
        self.expect(closed and not welcomed, 'deploy/hubd.toml [ingest.tls]: TLS on the scanner port; '
                    'README: "With TLS configured the connection starts with a TLS handshake"',
                    "plain TCP hello{SC-PW, right secret} to the TLS scanner port",
                    f"closed={closed} frames={len(fr)} (raw bytes {bytes(c.buf[:40])!r})")
        m1 = bb.wait_for(lambda: (self.d.metric_value("hubd_scanner_tls_handshake_failures_total") or 0) > m0, 2)
        self.expect(m1, "README metrics: hubd_scanner_tls_handshake_failures_total", "one plaintext client",
                    f"{m0} -> {self.d.metric_value('hubd_scanner_tls_handshake_failures_total')}")

    @check
    def test_03_client_cert_names_scanner(self):
        """client cert CN / DNS SAN naming the scanner admits it without a credential"""
        for cert, sid in (("cl-cert", "SC-CERT"), ("cl-san", "SC-SAN")):
            kd, f, c = _scanner_outcome(self.d, CERTS.client_ctx(cert), sid, "")
            self.expect(kd == "welcome", DOC_MTLS, f"TLS with client cert {cert} + hello{{{sid}, no credential}}",
                        f"{kd}: {f if isinstance(f, str) else fmt(f) if kd == 'welcome' else fmts(f)}")
            if c:
                c.close()

    @check
    def test_04_client_cert_naming_another_scanner(self):
        """client cert for SC-CERT used for SC-PW (with SC-PW's right secret) is refused"""
        a0 = self.d.metric_value("hubd_scanner_auth_failures_total") or 0
        kd, f, c = _scanner_outcome(self.d, CERTS.client_ctx("cl-cert"), "SC-PW", "pw-secret-0001")
        ok = kd == "reject" and f and kind(f[0]) == "reject" and f[0].reject.code == bb.S.REJECT_UNAUTHENTICATED \
            and f[0].reject.seq == 0
        self.expect(ok, DOC_MTLS, "client cert CN=SC-CERT, hello{SC-PW, credential = SC-PW's secret}",
                    f"{kd}: {f if isinstance(f, str) else fmt(f) if kd == 'welcome' else fmts(f)}")
        kd, f, c = _scanner_outcome(self.d, CERTS.client_ctx("cl-san"), "SC-PW", "pw-secret-0001")
        ok = kd == "reject" and f and kind(f[0]) == "reject" and f[0].reject.code == bb.S.REJECT_UNAUTHENTICATED
        self.expect(ok, DOC_MTLS, "client cert CN=not-a-scanner-id SAN=DNS:SC-SAN, hello{SC-PW, SC-PW's "
                    "right secret}",
                    f"{kd}: {f if isinstance(f, str) else fmt(f) if kd == 'welcome' else fmts(f)}")
        a1 = bb.wait_for(lambda: (self.d.metric_value("hubd_scanner_auth_failures_total") or 0) > a0, 2)
        self.expect(a1, "README metrics: hubd_scanner_auth_failures_total", "refused certificate",
                    f"{a0} -> {self.d.metric_value('hubd_scanner_auth_failures_total')}")

    @check
    def test_05_rogue_client_cert(self):
        """a client cert from another CA naming the scanner does not admit it"""
        kd, f, c = _scanner_outcome(self.d, CERTS.client_ctx("cl-rogue"), "SC-CERT", "")
        self.expect(kd != "welcome", 'deploy/hubd.toml: "client_ca = ... CA bundle for client certificates"',
                    "client cert CN=SC-CERT signed by an unknown CA, hello{SC-CERT, no credential}",
                    f"{kd}: {f if isinstance(f, str) else fmt(f) if kd == 'welcome' else fmts(f)}")

    @check
    def test_06_no_client_cert_needs_credential(self):
        """TLS without client cert: scanner without a secret and without credential is refused"""
        kd, f, c = _scanner_outcome(self.d, CERTS.client_ctx(), "SC-CERT", "")
        ok = kd == "reject" and kind(f[0]) == "reject" and f[0].reject.code == bb.S.REJECT_UNAUTHENTICATED
        self.expect(ok, 'session.proto: "A wrong or missing credential is refused with '
                    'REJECT_UNAUTHENTICATED and the session is closed."',
                    "TLS without client cert, hello{SC-CERT, no credential}",
                    f"{kd}: {f if isinstance(f, str) else fmt(f) if kd == 'welcome' else fmts(f)}")

    @check
    def test_07_https_endpoints(self):
        """HTTPS: /healthz, /readyz, /metrics and /v1 over verified TLS 1.2 and 1.3"""
        for path, tok in (("/healthz", None), ("/readyz", None), ("/metrics", None),
                          ("/v1/summary", bb.VIEWER_TOKEN)):
            st, body = self.d.http("GET", path, token=tok)
            self.expect(st == 200, DOC_HTTPS, f"HTTPS GET {path}", f"{st} {body[:80]!r}")
        for ver in (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3):
            ctx = CERTS.client_ctx()
            ctx.minimum_version = ver
            ctx.maximum_version = ver
            try:
                with socket.create_connection(("127.0.0.1", self.d.http_port), timeout=3) as s:
                    with ctx.wrap_socket(s, server_hostname="127.0.0.1") as t:
                        got = t.version()
                        t.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                        data = t.recv(100)
                ok = data.startswith(b"HTTP/1.1 200")
            except (ssl.SSLError, OSError) as e:
                got, ok, data = repr(e), False, b""
            self.expect(ok, DOC_HTTPS, f"HTTPS GET /healthz with only {ver.name}", f"{got} {data[:40]!r}")

    @check
    def test_08_https_refuses_old_tls(self):
        """HTTPS refuses TLS 1.0/1.1 (TLS 1.2 and 1.3 only)"""
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        try:
            import warnings
            warnings.simplefilter("ignore", DeprecationWarning)
            ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
            ctx.minimum_version = ssl.TLSVersion.TLSv1
            ctx.maximum_version = ssl.TLSVersion.TLSv1_1
        except (ValueError, ssl.SSLError) as e:
            self.skipTest(f"this client cannot offer TLS 1.1: {e}")
        try:
            with socket.create_connection(("127.0.0.1", self.d.http_port), timeout=3) as s:
                with ctx.wrap_socket(s) as t:
                    v = t.version()
            self.problem(DOC_HTTPS, "HTTPS handshake offering only TLS 1.0/1.1", f"handshake succeeded with {v}")
        except ssl.SSLError as e:
            msg = str(e)
            if "NO_PROTOCOLS_AVAILABLE" in msg.upper() or "no protocols available" in msg:
                self.skipTest(f"this client cannot offer TLS 1.1: {msg}")
        except OSError:
            pass

    @check
    def test_09_plain_http_on_https_port(self):
        """a plain HTTP request on the HTTPS port gets no HTTP answer"""
        with socket.create_connection(("127.0.0.1", self.d.http_port), timeout=3) as s:
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            data = b""
            s.settimeout(2)
            try:
                while len(data) < 4096:
                    chunk = s.recv(4096)
                    if not chunk:
                        break
                    data += chunk
            except (socket.timeout, OSError):
                pass
        self.expect(b"HTTP/" not in data[:64] and b"ok" not in data, DOC_HTTPS,
                    "plain 'GET /healthz HTTP/1.1' to the HTTPS port", f"{data[:120]!r}")

    @check
    def test_10_sighup_reloads_scanner_and_https_certs(self):
        """SIGHUP: new connections get the new cert, open sessions keep working"""
        d = self.d
        old_scan = bb.peer_cert_der(d.port, CERTS.client_ctx())
        old_http = bb.peer_cert_der(d.http_port, CERTS.client_ctx())
        kd, w, keep = _scanner_outcome(d, CERTS.client_ctx(), "SC-PW", "pw-secret-0001")
        self.require(kd == "welcome", "TLS session before the reload", "hello{SC-PW}", str(kd))
        with open(CERTS.p("server2.pem"), "rb") as fh:
            pem = fh.read().decode()
        new_der = ssl.PEM_cert_to_DER_cert(pem)
        _copy_server_cert(d, "server2")
        d.sighup()
        got_scan = bb.wait_for(lambda: bb.peer_cert_der(d.port, CERTS.client_ctx()) == new_der, 3, 0.1)
        self.expect(d.alive(), DOC_HUP, "kill -HUP", "hubd exited on SIGHUP")
        self.expect(got_scan, DOC_HUP, "replace hubd.pem/hubd.key with a new certificate, kill -HUP, "
                    "new TLS connection to the scanner port",
                    "still presents the old certificate after 3 s" if bb.peer_cert_der(d.port, CERTS.client_ctx())
                    == old_scan else "presents neither the old nor the new certificate")
        got_http = bb.wait_for(lambda: bb.peer_cert_der(d.http_port, CERTS.client_ctx()) == new_der, 3, 0.1)
        self.expect(got_http, DOC_HUP + ' docs/api.md: "`kill -HUP` makes hubd read the certificate and key '
                    'again for new connections."', "new HTTPS connection after kill -HUP",
                    "still the old certificate" if bb.peer_cert_der(d.http_port, CERTS.client_ctx()) == old_http
                    else "another certificate")
        # the session opened before the reload keeps working
        seq = w.welcome.last_durable_seq + 1
        keep.send(bb.ping(7), bb.damaged("SC-PW", seq, f"HUP-P{seq}"))
        fr = keep.until_ack(seq, 5)
        self.expect(fr[-1] is not None and not rejects(fr), DOC_HUP, "event on the session opened before SIGHUP",
                    fmts(fr))
        keep.close()
        kd, f, c = _scanner_outcome(d, CERTS.client_ctx(), "SC-PW", "pw-secret-0001")
        self.expect(kd == "welcome", DOC_HUP, "new TLS scanner session after SIGHUP", str(kd))
        if c:
            c.close()

    @check
    def test_11_stalled_tls_handshake_hits_hello_timeout(self):
        """TCP connect to the TLS port and stall (nothing / half a ClientHello): closed by the hello timeout"""
        import select
        cases = [("nothing", b""), ("5 bytes of a TLS record header", b"\x16\x03\x01\x02\x00")]
        socks = []
        t0 = time.monotonic()
        for what, data in cases:
            s = socket.create_connection(("127.0.0.1", self.d.port), timeout=3)
            if data:
                s.sendall(data)
            s.setblocking(False)
            socks.append(s)
        closed_at = [None, None]
        while time.monotonic() - t0 < 7 and None in closed_at:
            live = [s for i, s in enumerate(socks) if closed_at[i] is None]
            r, _, _ = select.select(live, [], [], 0.05)
            for s in r:
                i = socks.index(s)
                try:
                    if not s.recv(4096):
                        closed_at[i] = time.monotonic() - t0
                except OSError:
                    closed_at[i] = time.monotonic() - t0
        for s in socks:
            s.close()
        for (what, _), at in zip(cases, closed_at):
            self.expect(at is not None and at <= 0.8 + 1.3,
                        'session.proto: "a hello must arrive within the hello timeout"; README: '
                        '"--hello-timeout-ms ... close a connection without a hello"',
                        f"TLS port (hello timeout 800 ms): TCP connect, send {what}, then stall",
                        f"connection closed by hubd after {at:.2f}s" if at is not None else "still open after 7 s")

    @check
    def test_12_sighup_reloads_client_ca(self):
        """SIGHUP re-reads client_ca: certs of the new CA admit, the old CA's no longer do"""
        d = self.d
        shutil.copy(CERTS.p(CERTS.rogue_ca + ".pem"), os.path.join(d.dir, "client-ca.pem.tmp"))
        os.replace(os.path.join(d.dir, "client-ca.pem.tmp"), os.path.join(d.dir, "client-ca.pem"))
        d.sighup()
        ok = bb.wait_for(lambda: _scanner_outcome(d, CERTS.client_ctx("cl-rogue"), "SC-CERT", "")[0] == "welcome",
                         3, 0.2)
        self.expect(ok, DOC_HUP + " (client_ca is one of the TLS files, deploy/hubd.toml [ingest.tls])",
                    "client_ca file replaced by another CA, kill -HUP, client cert CN=SC-CERT of the new CA",
                    "not welcomed within 3 s")
        kd, f, c = _scanner_outcome(d, CERTS.client_ctx("cl-cert"), "SC-CERT", "")
        self.expect(kd != "welcome", DOC_HUP, "after the reload: client cert of the old CA, hello{SC-CERT}", kd)
        if c:
            c.close()
        # put the original CA back for any later check
        shutil.copy(CERTS.p("ca.pem"), os.path.join(d.dir, "client-ca.pem.tmp"))
        os.replace(os.path.join(d.dir, "client-ca.pem.tmp"), os.path.join(d.dir, "client-ca.pem"))
        d.sighup()
        time.sleep(0.2)

    @check
    def test_13_sighup_with_broken_cert_file(self):
        """SIGHUP with an unreadable certificate: hubd stays up and keeps serving TLS"""
        d = self.d
        with open(os.path.join(d.dir, "hubd.pem.tmp"), "w") as fh:
            fh.write("-----BEGIN CERTIFICATE-----\nnot a certificate\n-----END CERTIFICATE-----\n")
        os.replace(os.path.join(d.dir, "hubd.pem.tmp"), os.path.join(d.dir, "hubd.pem"))
        d.sighup()
        time.sleep(0.5)
        alive = d.alive()
        try:
            kd = _scanner_outcome(d, CERTS.client_ctx(), "SC-PW", "pw-secret-0001")[0] if alive else "dead"
        except OSError as e:
            kd = repr(e)
        print(f"      INFO: SIGHUP with a broken certificate file: alive={alive}, new TLS session -> {kd} "
              "(documents do not say)", flush=True)
        _copy_server_cert(d, "server2")
        if alive:
            d.sighup()

    @check
    def test_14_timeouts_inside_tls(self):
        """inside a TLS session: slowloris frame and silence get Reject{0, TIMEOUT} and close"""
        import threading
        kd, w, slow = _scanner_outcome(self.d, CERTS.client_ctx(), "SC-PW", "pw-secret-0001")
        self.require(kd == "welcome", "TLS session", "hello{SC-PW}", str(kd))
        kd, w2, quiet = _scanner_outcome(self.d, CERTS.client_ctx("cl-cert"), "SC-CERT", "")
        self.require(kd == "welcome", "TLS session", "hello{SC-CERT}", str(kd))
        stop = threading.Event()
        lock = threading.Lock()

        def drip():
            try:
                with lock:
                    slow.send_raw(bb.varint(100))
                while not stop.wait(0.1):
                    with lock:
                        slow.send_raw(b"\x00")
            except (OSError, ssl.SSLError):
                pass
        t = threading.Thread(target=drip, daemon=True)
        t0 = time.monotonic()
        t.start()
        res = {}

        def watch(name, c, guard):
            # One SSL object must not be read and written by two threads at
            # once (OpenSSL): reads of the dripped session take the drip's
            # lock, in short slices, so the drip goes on between them.
            frames = []
            while time.monotonic() - t0 < 4:
                with guard:
                    try:
                        f = c.recv(0.05)
                    except TimeoutError:
                        continue
                if f is None:
                    res[name] = (True, time.monotonic() - t0, frames)
                    return
                frames.append(f)
            res[name] = (False, time.monotonic() - t0, frames)
        ws = [threading.Thread(target=watch, args=("slow", slow, lock), daemon=True),
              threading.Thread(target=watch, args=("quiet", quiet, threading.Lock()), daemon=True)]
        for x in ws:
            x.start()
        for x in ws:
            x.join(6)
        stop.set()
        t.join(2)
        for name, limit, what in (("slow", 0.8, "a 100-byte frame dripped 1 byte / 100 ms (frame timeout 800 ms)"),
                                  ("quiet", 1.5, "silence after the welcome (idle timeout 1500 ms)")):
            closed, dt, fr = res.get(name, (False, None, []))
            tr = [f for f in fr if kind(f) == "reject" and f.reject.code == bb.S.REJECT_TIMEOUT and f.reject.seq == 0]
            self.expect(closed and tr and dt is not None and limit / 2 <= dt <= limit + 1.3,
                        'session.proto: "a started frame must complete within the frame timeout, and a session '
                        'that sends nothing (not even a ping) for the idle timeout is closed with Reject{seq 0, '
                        'REJECT_TIMEOUT}"', f"TLS session: {what}",
                        f"closed={closed} after {dt if dt is None else round(dt, 2)}s, frames {fmts(fr)}")


class RequireClientCertTests(bb.BBTest):
    @classmethod
    def setUpClass(cls):
        cls.d = bb.Hubd("mtls-required", args=[
            "--tls-cert", CERTS.p("server.pem"), "--tls-key", CERTS.p("server.key"),
            "--tls-client-ca", CERTS.p("ca.pem"), "--tls-require-client-cert"], config_text=bb.TOKENS_TOML)
        cls.d.scan_tls = CERTS.client_ctx()
        cls.d.start()

    @check
    def test_01_no_client_cert_refused(self):
        """require_client_cert: a TLS client without a certificate is not served"""
        kd, f, c = _scanner_outcome(self.d, CERTS.client_ctx(), "SC-ANY", "")
        self.expect(kd != "welcome", 'deploy/hubd.toml: "require_client_cert refuses any without"',
                    "TLS without client certificate, hello{SC-ANY}", str(kd))

    @check
    def test_02_client_cert_only_for_its_scanner(self):
        """require_client_cert: the cert admits its own scanner id and no other"""
        kd, f, c = _scanner_outcome(self.d, CERTS.client_ctx("cl-cert"), "SC-CERT", "")
        self.expect(kd == "welcome", DOC_MTLS, "client cert CN=SC-CERT, hello{SC-CERT}", str(kd))
        if c:
            c.close()
        kd, f, c = _scanner_outcome(self.d, CERTS.client_ctx("cl-cert"), "SC-OTHER", "any-credential")
        ok = kd == "reject" and kind(f[0]) == "reject" and f[0].reject.code == bb.S.REJECT_UNAUTHENTICATED
        self.expect(ok, DOC_MTLS, "client cert CN=SC-CERT, hello{SC-OTHER, some credential} (no "
                    "credentials configured)",
                    f"{kd}: {fmt(f) if kd == 'welcome' else f if isinstance(f, str) else fmts(f)}")


class ClientCaOnlyTests(bb.BBTest):
    """client_ca configured, client cert optional, no [[ingest.credentials]]."""

    @classmethod
    def setUpClass(cls):
        cls.d = bb.Hubd("mtls-optional", args=[
            "--tls-cert", CERTS.p("server.pem"), "--tls-key", CERTS.p("server.key"),
            "--tls-client-ca", CERTS.p("ca.pem")], config_text=bb.TOKENS_TOML)
        cls.d.scan_tls = CERTS.client_ctx()
        cls.d.start()

    @check
    def test_01_cert_naming_other_scanner_refused(self):
        """client cert naming another scanner is refused even with no credentials configured"""
        kd, f, c = _scanner_outcome(self.d, CERTS.client_ctx("cl-cert"), "SC-OTHER", "")
        self.expect(kd == "reject" and kind(f[0]) == "reject" and f[0].reject.code == bb.S.REJECT_UNAUTHENTICATED,
                    DOC_MTLS, "client cert CN=SC-CERT, hello{SC-OTHER}",
                    f"{kd}: {fmt(f) if kd == 'welcome' else f if isinstance(f, str) else fmts(f)}")
        kd, f, c = _scanner_outcome(self.d, CERTS.client_ctx(), "SC-NOCERT", "")
        print(f"      INFO: client_ca set, no credentials, no client cert: hello{{SC-NOCERT}} -> {kd} "
              "(documents do not say; see report)", flush=True)
        if c:
            c.close()
