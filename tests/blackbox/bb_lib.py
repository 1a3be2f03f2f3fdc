"""Black-box harness for hubd: protobuf loading, daemon processes, scanner
clients, HTTP(S) helpers and test certificates.

Only the documented contract is used: proto/hub/v1/*.proto, README.md,
docs/api.md, deploy/hubd.toml and ../shared/SPEC.md.
"""
import errno
import http.client
import importlib
import json
import os
import re
import select
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time

# Filled by load_protos().
S = None   # session_pb2
E = None   # event_pb2
R = None   # reference_pb2
text_format = None

HUBD = None          # path of the hubd binary under test (a private copy)
WORK = None          # temp dir for everything the suite writes

ADMIN_TOKEN = "bb-admin-token-0123456789"
VIEWER_TOKEN = "bb-viewer-token-0123456789"
SUP_TOKEN = "bb-supervisor-token-0123456789"

TOKENS_TOML = f"""
[[api.tokens]]
name = "bb-admin"
token = "{ADMIN_TOKEN}"
role = "admin"

[[api.tokens]]
name = "bb-viewer"
token = "{VIEWER_TOKEN}"
role = "viewer"

[[api.tokens]]
name = "bb-sup"
token = "{SUP_TOKEN}"
role = "supervisor"
"""


def load_protos(proto_root, out_dir):
    """protoc --python_out into out_dir, then import the modules."""
    global S, E, R, text_format
    files = sorted(
        os.path.join("hub", "v1", f)
        for f in os.listdir(os.path.join(proto_root, "hub", "v1"))
        if f.endswith(".proto"))
    subprocess.run(["protoc", "-I", proto_root, "--python_out", out_dir] + files,
                   check=True)
    sys.path.insert(0, out_dir)
    from google.protobuf import text_format as tf
    text_format = tf
    S = importlib.import_module("hub.v1.session_pb2")
    E = importlib.import_module("hub.v1.event_pb2")
    R = importlib.import_module("hub.v1.reference_pb2")


def fmt(msg):
    if msg is None:
        return "<closed>"
    return "{" + text_format.MessageToString(msg, as_one_line=True) + "}"


def fmts(frames):
    return "[" + ", ".join(fmt(f) for f in frames) + "]"


def code_name(code):
    return S.RejectCode.Name(code)


# ---------------------------------------------------------------- framing

def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def delimited(msg):
    data = msg.SerializeToString() if not isinstance(msg, (bytes, bytearray)) else bytes(msg)
    return varint(len(data)) + data


def _take_varint(buf):
    """(value, length) or None when incomplete."""
    shift = 0
    val = 0
    for i, b in enumerate(buf):
        val |= (b & 0x7F) << shift
        if not b & 0x80:
            return val, i + 1
        shift += 7
        if i >= 9:
            raise ValueError("varint too long from daemon")
    return None


# ---------------------------------------------------------------- frames

def hello(scanner_id, station="", credential="", version=1):
    f = S.ClientFrame()
    f.hello.scanner_id = scanner_id
    f.hello.station = station
    f.hello.credential = credential
    f.hello.version = version
    return f


def ping(nonce):
    f = S.ClientFrame()
    f.ping.nonce = nonce
    return f


def event(scanner_id, seq, station="ST-BB", t_ms=None, **body):
    """ClientFrame{event}. body: one keyword, e.g. parcel_damaged=dict(...)."""
    f = S.ClientFrame()
    ev = f.event
    ev.scanner_id = scanner_id
    ev.seq = seq
    ev.event_time_ms = t_ms if t_ms is not None else 1767225600000 + seq
    ev.station = station
    for k, v in body.items():
        sub = getattr(ev, k)
        sub.SetInParent()
        for fk, fv in v.items():
            setattr(sub, fk, fv)
    return f


def damaged(scanner_id, seq, parcel_id, weight_g=100, station="ST-BB"):
    return event(scanner_id, seq, station=station,
                 parcel_damaged=dict(parcel_id=parcel_id, weight_g=weight_g, note="bb"))


def sorted_scan(scanner_id, seq, parcel_id, destination, station="SORTER-BB"):
    return event(scanner_id, seq, station=station,
                 parcel_sorted=dict(parcel_id=parcel_id, destination=destination,
                                    weight_g=1000, service_class=1))


# ---------------------------------------------------------------- client

class Closed(Exception):
    pass


class Scanner:
    """One scanner connection. Every frame received is kept in .log with its
    arrival time (monotonic)."""

    def __init__(self, port, host="127.0.0.1", src=None, tls=None,
                 server_hostname="127.0.0.1", connect_timeout=5.0):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if src:
            self.sock.bind((src, 0))
        self.sock.settimeout(connect_timeout)
        self.sock.connect((host, port))
        if tls is not None:
            self.sock = tls.wrap_socket(self.sock, server_hostname=server_hostname)
        self.buf = bytearray()
        self.closed = False
        self.close_error = None
        self.log = []

    # -- sending
    def send(self, *frames):
        data = b"".join(delimited(f) for f in frames)
        self.sock.sendall(data)

    def send_raw(self, data):
        self.sock.sendall(data)

    def try_send(self, *frames):
        try:
            self.send(*frames)
            return True
        except (OSError, ssl.SSLError):
            return False

    # -- receiving
    def _fill(self, timeout):
        if self.closed:
            raise Closed()
        self.sock.settimeout(max(timeout, 0.0001))
        try:
            data = self.sock.recv(65536)
        except socket.timeout:
            raise TimeoutError()
        except ssl.SSLWantReadError:
            raise TimeoutError()
        except (ConnectionResetError, BrokenPipeError, ssl.SSLError, OSError) as e:
            if isinstance(e, socket.timeout):
                raise TimeoutError()
            self.closed = True
            self.close_error = repr(e)
            raise Closed()
        if not data:
            self.closed = True
            raise Closed()
        self.buf += data

    def recv(self, timeout=5.0):
        """Next ServerFrame; None when the daemon closed the connection;
        raises TimeoutError when nothing complete arrived in time."""
        deadline = time.monotonic() + timeout
        while True:
            v = _take_varint(self.buf)
            if v is not None and len(self.buf) >= v[1] + v[0]:
                n, h = v
                data = bytes(self.buf[h:h + n])
                del self.buf[:h + n]
                f = S.ServerFrame.FromString(data)
                self.log.append((time.monotonic(), f))
                return f
            rem = deadline - time.monotonic()
            if rem <= 0:
                raise TimeoutError()
            try:
                self._fill(rem)
            except Closed:
                return None

    def recv_until(self, pred, timeout=5.0):
        """Frames up to and including the first matching pred. Stops early
        (last element None) when the connection closes; raises TimeoutError
        with what was received."""
        out = []
        deadline = time.monotonic() + timeout
        while True:
            rem = deadline - time.monotonic()
            try:
                f = self.recv(max(rem, 0.0))
            except TimeoutError:
                raise TimeoutError("timeout after " + fmts(out))
            out.append(f)
            if f is None or pred(f):
                return out

    def until_ack(self, seq, timeout=5.0):
        return self.recv_until(
            lambda f: f.WhichOneof("body") == "ack" and f.ack.acked_seq >= seq, timeout)

    def drain_until_closed(self, timeout=5.0):
        """(closed, frames) reading until EOF or timeout."""
        frames = []
        deadline = time.monotonic() + timeout
        while True:
            rem = deadline - time.monotonic()
            if rem <= 0:
                return False, frames
            try:
                f = self.recv(rem)
            except TimeoutError:
                return False, frames
            if f is None:
                return True, frames
            frames.append(f)

    def do_hello(self, scanner_id, station="", credential="", version=1, timeout=5.0):
        self.send(hello(scanner_id, station, credential, version))
        return self.recv(timeout)

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def abort(self):
        """Close with RST."""
        try:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        except OSError:
            pass
        self.close()


def kind(f):
    return None if f is None else f.WhichOneof("body")


def acks(frames):
    return [f.ack.acked_seq for f in frames if kind(f) == "ack"]


def rejects(frames):
    return [f.reject for f in frames if kind(f) == "reject"]


def decisions(frames):
    return [f.decision for f in frames if kind(f) == "decision"]


# ---------------------------------------------------------------- daemon

ALL_DAEMONS = []


def kill_all():
    for d in list(ALL_DAEMONS):
        try:
            d.kill9()
        except Exception:  # noqa: BLE001
            pass


READY_RE = re.compile(rb"event=ready listen=(\S+):(\d+) http=(\S+):(\d+)")


class Hubd:
    def __init__(self, name, args=(), config_text=None, data_dir=None, nofile=None):
        self.name = name
        self.nofile = nofile
        self.dir = tempfile.mkdtemp(prefix=name + "-", dir=WORK)
        self.data_dir = data_dir or os.path.join(self.dir, "data")
        self.args = list(args)
        self.config = None
        if config_text is not None:
            self.config = os.path.join(self.dir, "hubd.toml")
            with open(self.config, "w") as fh:
                fh.write(config_text)
            os.chmod(self.config, 0o600)
        self.proc = None
        self.lines = []
        ALL_DAEMONS.append(self)
        self.http_tls = None     # ssl.SSLContext for HTTPS clients
        self.scan_tls = None     # ssl.SSLContext for scanner clients
        self.port = self.http_port = None
        self.all_output = []

    fixed_ports = None   # (scanner port, http port) instead of port 0

    def cmd(self):
        sp, hp = self.fixed_ports or (0, 0)
        c = [HUBD, "--data-dir", self.data_dir, "--listen", f"127.0.0.1:{sp}",
             "--http", f"127.0.0.1:{hp}"]
        if self.config:
            c += ["--config", self.config]
        return c + self.args

    def start(self, timeout=20.0, expect_ready=True):
        self.lines = []
        self.port = self.http_port = None
        pre = None
        if self.nofile:
            import resource
            lim = self.nofile

            def pre():
                resource.setrlimit(resource.RLIMIT_NOFILE, (lim, lim))
        self.proc = subprocess.Popen(self.cmd(), stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     preexec_fn=pre)
        ready = threading.Event()
        lines = self.lines
        proc = self.proc

        def reader():
            for line in iter(proc.stdout.readline, b""):
                lines.append(line)
                self.all_output.append(line)
                m = READY_RE.search(line)
                if m:
                    self.port = int(m.group(2))
                    self.http_port = int(m.group(4))
                    ready.set()
            ready.set()
        self.reader = threading.Thread(target=reader, daemon=True)
        self.reader.start()
        if not expect_ready:
            return self
        if not ready.wait(timeout) or self.port is None:
            out = b"".join(self.lines).decode(errors="replace")
            self.kill9()
            raise RuntimeError(f"hubd {self.name} did not become ready: {out[-2000:]}")
        return self

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout=15.0):
        if not self.proc:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.reader.join(2)
        return self.proc.returncode

    def kill9(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()
        if self.proc:
            self.reader.join(2)

    def sighup(self):
        self.proc.send_signal(signal.SIGHUP)

    def output(self):
        return b"".join(self.all_output)

    # -- scanner side
    def scanner(self, src=None, tls="default", **kw):
        if tls == "default":
            tls = self.scan_tls
        return Scanner(self.port, src=src, tls=tls, **kw)

    def session(self, scanner_id, station="", credential="", src=None, **kw):
        """Connected + welcomed scanner; returns (client, welcome_frame)."""
        c = self.scanner(src=src, **kw)
        w = c.do_hello(scanner_id, station, credential)
        if kind(w) != "welcome":
            c.close()
            raise AssertionError(f"hello for {scanner_id!r} not welcomed: got {fmt(w)}")
        return c, w

    # -- HTTP side
    def http(self, method, path, body=None, token=None, headers=None, timeout=5.0):
        if self.http_tls is not None:
            conn = http.client.HTTPSConnection("127.0.0.1", self.http_port,
                                               context=self.http_tls, timeout=timeout)
        else:
            conn = http.client.HTTPConnection("127.0.0.1", self.http_port, timeout=timeout)
        h = dict(headers or {})
        if token:
            h["Authorization"] = "Bearer " + token
        if body is not None and not isinstance(body, (bytes, bytearray)):
            body = json.dumps(body).encode()
            h.setdefault("Content-Type", "application/json")
        try:
            conn.request(method, path, body=body, headers=h)
            r = conn.getresponse()
            data = r.read()
            return r.status, data
        finally:
            conn.close()

    def api_json(self, method, path, body=None, token=ADMIN_TOKEN):
        st, data = self.http(method, path, body, token)
        try:
            j = json.loads(data) if data else None
        except ValueError:
            j = None
        return st, j, data

    def metrics(self):
        st, data = self.http("GET", "/metrics")
        if st != 200:
            raise AssertionError(f"/metrics answered {st}")
        return data.decode()

    def metric_value(self, name, labels=None):
        """Sum of the samples of `name` (matching labels subset)."""
        total = 0.0
        found = False
        for line in self.metrics().splitlines():
            if line.startswith("#") or not line.strip():
                continue
            m = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)", line)
            if not m or m.group(1) != name:
                continue
            lab = m.group(2) or ""
            if labels and not all(f'{k}="{v}"' in lab for k, v in labels.items()):
                continue
            found = True
            total += float(m.group(3))
        return total if found else None

    def add_routes(self, *routes):
        """routes: (destination, route_code, chute, load_id)."""
        changes = [{"upsert_route": {"destination": d, "route_code": r,
                                     "chute": c, "load_id": l}} for d, r, c, l in routes]
        st, j, raw = self.api_json("POST", "/v1/reference", {"changes": changes})
        if st != 200:
            raise AssertionError(f"POST /v1/reference answered {st} {raw[:300]!r}")
        return j

    def add_hold(self, parcel_id):
        st, j, raw = self.api_json("POST", "/v1/reference", {"changes": [
            {"add_hold": {"parcel_id": parcel_id, "reason": "HOLD_REASON_SECURITY",
                          "note": "bb"}}]})
        if st != 200:
            raise AssertionError(f"POST /v1/reference answered {st} {raw[:300]!r}")

    def trace(self, parcel_id, token=VIEWER_TOKEN):
        from urllib.parse import quote
        st, j, raw = self.api_json("GET", "/v1/parcels/" + quote(parcel_id, safe=""),
                                   token=token)
        return st, j


class ApiSession:
    """Keep-alive HTTP connection for many API reads."""

    def __init__(self, d, token=VIEWER_TOKEN):
        self.d = d
        self.token = token
        self.conn = None

    def _conn(self):
        if self.conn is None:
            if self.d.http_tls is not None:
                self.conn = http.client.HTTPSConnection("127.0.0.1", self.d.http_port,
                                                        context=self.d.http_tls, timeout=5)
            else:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.d.http_port,
                                                       timeout=5)
        return self.conn

    def get_json(self, path):
        for attempt in range(2):
            try:
                c = self._conn()
                c.request("GET", path, headers={"Authorization": "Bearer " + self.token})
                r = c.getresponse()
                data = r.read()
                if r.getheader("Connection", "").lower() == "close":
                    c.close()
                    self.conn = None
                try:
                    return r.status, json.loads(data) if data else None
                except ValueError:
                    return r.status, None
            except (http.client.HTTPException, OSError):
                if self.conn:
                    self.conn.close()
                self.conn = None
                if attempt:
                    raise

    def close(self):
        if self.conn:
            self.conn.close()


# ---------------------------------------------------------------- certificates

def _ossl(*args, cwd):
    r = subprocess.run(["openssl"] + list(args), cwd=cwd, capture_output=True)
    if r.returncode != 0:
        raise RuntimeError("openssl " + " ".join(args) + ": " + r.stderr.decode())


class Certs:
    """A private CA, server certificates for 127.0.0.1 and client
    certificates naming scanners, made with the openssl command."""

    def __init__(self, directory):
        self.dir = directory
        os.makedirs(directory, exist_ok=True)
        self.ca = self._ca("ca", "bb-test-ca")
        self.rogue_ca = self._ca("rogue", "bb-rogue-ca")

    def p(self, name):
        return os.path.join(self.dir, name)

    def _key(self, name):
        _ossl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
              "-out", name + ".key", cwd=self.dir)

    def _ca(self, name, cn):
        self._key(name)
        with open(self.p(name + ".ext"), "w") as fh:
            fh.write("basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n"
                     "subjectKeyIdentifier=hash\n")
        _ossl("req", "-x509", "-new", "-key", name + ".key", "-out", name + ".pem",
              "-days", "3", "-subj", "/CN=" + cn, "-extensions", "v3_ca",
              "-addext", "basicConstraints=critical,CA:TRUE",
              "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=self.dir)
        return name

    def issue(self, name, cn, san=None, client=False, ca=None):
        ca = ca or self.ca
        self._key(name)
        _ossl("req", "-new", "-key", name + ".key", "-out", name + ".csr",
              "-subj", "/CN=" + cn, cwd=self.dir)
        ext = ["basicConstraints=CA:FALSE",
               "keyUsage=critical,digitalSignature,keyEncipherment",
               "extendedKeyUsage=" + ("clientAuth" if client else "serverAuth")]
        if san:
            ext.append("subjectAltName=" + san)
        with open(self.p(name + ".ext"), "w") as fh:
            fh.write("\n".join(ext) + "\n")
        _ossl("x509", "-req", "-in", name + ".csr", "-CA", ca + ".pem", "-CAkey", ca + ".key",
              "-CAcreateserial", "-out", name + ".pem", "-days", "2",
              "-extfile", name + ".ext", cwd=self.dir)
        return self.p(name + ".pem"), self.p(name + ".key")

    def client_ctx(self, cert=None, ca=None):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.load_verify_locations(ca or self.p(self.ca + ".pem"))
        ctx.check_hostname = True
        if cert:
            ctx.load_cert_chain(self.p(cert + ".pem"), self.p(cert + ".key"))
        return ctx


def peer_cert_der(port, ctx, server_hostname="127.0.0.1"):
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        with ctx.wrap_socket(s, server_hostname=server_hostname) as t:
            return t.getpeercert(binary_form=True)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def wait_for(pred, timeout=5.0, step=0.02):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(step)
    return pred()


# ---------------------------------------------------------------- check base

import functools
import unittest


class Hard(Exception):
    """Stops a check after a problem that makes the rest meaningless."""


def check(fn):
    """Runs a check body collecting every problem it finds (soft), and fails
    once at the end with all of them."""
    @functools.wraps(fn)
    def wrapper(self):
        self._problems = []
        try:
            fn(self)
        except Hard:
            pass
        except TimeoutError as e:
            self._problems.append(f"TIMEOUT: no (complete) answer in time: {e}")
        except Closed:
            self._problems.append("CLOSED: the daemon closed the connection unexpectedly")
        if self._problems:
            raise AssertionError("\n".join(self._problems))
    return wrapper


class BBTest(unittest.TestCase):
    """One daemon per class."""
    daemon_args = []
    config_text = TOKENS_TOML
    d = None

    @classmethod
    def setUpClass(cls):
        cls.d = Hubd(cls.__name__, args=cls.daemon_args, config_text=cls.config_text)
        cls.d.start()
        cls.extra_setup()

    @classmethod
    def extra_setup(cls):
        pass

    @classmethod
    def tearDownClass(cls):
        if cls.d is not None:
            cls.d.stop()

    def problem(self, doc, sent, observed):
        msg = f"  DOC: {doc}\n  SENT: {sent}\n  OBSERVED: {observed}"
        self._problems.append(msg)

    def expect(self, cond, doc, sent, observed):
        if not cond:
            self.problem(doc, sent, observed)
        return cond

    def require(self, cond, doc, sent, observed):
        if not cond:
            self.problem(doc, sent, observed)
            raise Hard()
