"""Telegram devices, checked from the documentation only: docs/devices.md,
README "Devices that speak telegrams", deploy/hubd.toml, the shipped profiles
in deploy/devices/*.toml (their comments describe each device's telegram),
docs/api.md for reading cases and traces, proto/hub/v1 comments.

Every check names the doc sentence it holds hubd to, the bytes sent and what
came back."""
import os
import re
import signal
import socket
import time
from urllib.parse import quote

import bb_lib as bb
from bb_lib import check

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
DEVICE_DIR = os.path.join(REPO, "deploy", "devices")

STX, ETX = b"\x02", b"\x03"

DOC_RULE = "docs/devices.md \"Picking one parcel id out of a read\""
DOC_BAD = ('docs/devices.md: "Bad input never closes the connection: a malformed or oversized telegram, '
           'bytes outside any telegram and a read that gives no event are counted ... and dropped."')
DOC_ANSWER = ('docs/devices.md: "A sort read is answered once its event is durable, in read order, in the '
              'profile\'s reply format. A read hubd refused ... is answered as diverted (divert_chute, '
              '{divert} = NO_READ), so the sorter never waits."')
DOC_WM = ('docs/api.md / deploy/hubd.toml: "a DWS reading off a parcel\'s known weight K (its bag advice, an '
          'earlier scan\'s weight or the first trusted reading) by more than max(weight_tolerance_g, K * '
          'weight_tolerance_percent / 100) raises it once per stay; a reading flagged as a scale error '
          'never does" (defaults 50 g, 5 %)')


def s10(prefix, serial8, suffix="GB", valid=True):
    """A UPU S10 id with its check digit (wrong by one when valid=False)."""
    w = [8, 6, 4, 2, 3, 5, 9, 7]
    s = sum(int(c) * k for c, k in zip(serial8, w))
    c = 11 - s % 11
    c = 0 if c == 10 else 5 if c == 11 else c
    if not valid:
        c = (c + 1) % 10
    return f"{prefix}{serial8}{c}{suffix}"


assert s10("RR", "47312482") == "RR473124829GB"

# A profile like the docs' example "plain-scanner", plus a destination field
# and every placeholder in its reply (and braces that are not a placeholder).
BB_DEST_PROFILE = r'''
name = "bb-dest"
header = ""
terminator = "\r\n"
separator = "\t"
code_separator = " "
fields = ["object", "code", "destination"]
no_read = "?"
reply = "{object}|{code}|{chute}|{route}|{load}|{destination}|{divert}|{nope}\r\n"
divert_chute = "X"
'''

PLAIN_PROFILE = r'''
name = "plain-scanner"
header = ""
terminator = "\r\n"
separator = "\t"
fields = ["object", "code"]
no_read = "?"
'''

ROUTES = [("D-SHA", "R-SHA", "12", "L-SHA"), ("D-BJS", "R-BJS", "7", "L-BJS")]


def device_config(dirpath, extra=""):
    dest = os.path.join(dirpath, "bb-dest.toml")
    with open(dest, "w") as fh:
        fh.write(BB_DEST_PROFILE)
    with open(os.path.join(dirpath, "plain-scanner.toml"), "w") as fh:
        fh.write(PLAIN_PROFILE)
    return f'''device_dir = "{DEVICE_DIR}"
durability = "wal"
{bb.TOKENS_TOML}
[[device]]
scanner_id = "BB-SICK"
station = "DWS-1"
profile = "sick-dws"
validate_s10 = true
destination_pattern = "^D-[A-Z]+$"

[[device]]
scanner_id = "BB-MULTI"
station = "SORTER-A"
profile = "datalogic-multi"
kind = "sort"
validate_s10 = true
parcel_patterns = ["^JD[0-9]{{4}}$", "^[0-9]{{12}}$"]
destination_pattern = "^D-[A-Z]+$"

[[device]]
scanner_id = "BB-NOPAT"
station = "ST-NOPAT"
profile = "datalogic-multi"

[[device]]
scanner_id = "BB-DLDWS"
station = "DWS-2"
profile = "datalogic-dws"
validate_s10 = true
destination_pattern = "^D-[A-Z]+$"

[[device]]
scanner_id = "BB-UNBAG"
station = "UNBAG-1"
profile = "datalogic-dws"
kind = "unbag"
context_pattern = "^BAG[0-9]+$"
end_code = "BAGEND"

[[device]]
scanner_id = "BB-DOCK"
station = "DOCK-1"
profile = "datalogic-dws"
kind = "unload"
context_pattern = "^V[0-9]+$"
end_code = "VEND"

[[device]]
scanner_id = "BB-DEST"
station = "ST-DEST"
profile = "{dest}"
destination_pattern = "^D-[A-Z]+$"

[[device]]
scanner_id = "BB-PLAIN"
station = "ST-PLAIN"
profile = "{os.path.join(dirpath, 'plain-scanner.toml')}"

[[device]]
scanner_id = "BB-NOISE"
station = "ST-NOISE"
profile = "sick-dws"
destination_pattern = "^D-[A-Z]+$"

[[device]]
scanner_id = "BB-SPLIT"
station = "ST-SPLIT"
profile = "datalogic-multi"
validate_s10 = true
destination_pattern = "^D-[A-Z]+$"

[[device]]
scanner_id = "BB-FENCE"
station = "ST-FENCE"
profile = "sick-dws"
destination_pattern = "^D-[A-Z]+$"

[[device]]
scanner_id = "BB-ALLOW"
station = "ST-ALLOW"
profile = "datalogic-multi"
allow_from = ["127.0.0.2"]

[[device]]
scanner_id = "BB-NOSTATION"
profile = "datalogic-multi"
validate_s10 = true
destination_pattern = "^D-[A-Z]+$"
{extra}'''


def device_ports(d):
    ports = {}
    for line in d.output().splitlines():
        if b"device_listening" not in line:
            continue
        m1 = re.search(rb"scanner=(\"[^\"]*\"|\S+)", line)
        m2 = re.search(rb"port=(\d+)", line)
        if m1 and m2:
            ports[m1.group(1).decode().strip('"')] = int(m2.group(1))
    return ports


class Tg:
    """A plain TCP device connection."""

    def __init__(self, port, src=None):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=5,
                                          source_address=(src, 0) if src else None)
        self.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""
        self.eof = False

    def send(self, data):
        self.s.sendall(data)

    def _fill(self, timeout):
        self.s.settimeout(max(timeout, 0.001))
        try:
            data = self.s.recv(65536)
        except socket.timeout:
            return False
        except OSError:
            self.eof = True
            return False
        if not data:
            self.eof = True
            return False
        self.buf += data
        return True

    def replies(self, n, term, timeout=5.0):
        """n replies ending in term; returns what came (maybe fewer)."""
        deadline = time.monotonic() + timeout
        while self.buf.count(term) < n and not self.eof:
            rem = deadline - time.monotonic()
            if rem <= 0:
                break
            self._fill(rem)
        out = []
        while len(out) < n and term in self.buf:
            i = self.buf.index(term) + len(term)
            out.append(self.buf[:i])
            self.buf = self.buf[i:]
        return out

    def quiet(self, timeout=0.3):
        """Whatever arrives within timeout."""
        deadline = time.monotonic() + timeout
        while not self.eof:
            rem = deadline - time.monotonic()
            if rem <= 0:
                break
            self._fill(rem)
        out, self.buf = self.buf, b""
        return out

    def wait_eof(self, timeout=5.0):
        deadline = time.monotonic() + timeout
        while not self.eof and time.monotonic() < deadline:
            self._fill(deadline - time.monotonic())
        return self.eof

    def close(self):
        try:
            self.s.close()
        except OSError:
            pass


def sick(obj, codes, weight="1.000", unit="kg", scale_error="0", l="300", w="200", h="100",
         dunit="mm", status="OK", volume="6000"):
    return STX + f"{obj};{codes};{weight};{unit};{scale_error};{l};{w};{h};{dunit};{status};{volume}".encode() + ETX


def multi(obj, *codes):
    return STX + ",".join([str(obj)] + list(codes)).encode() + b"\r\n"


def dldws(obj, codes, weight="", l="", w="", h="", lft="", ndr=""):
    return STX + f"{obj}|{codes}|{weight}|{l}|{w}|{h}|{lft}|{ndr}".encode() + ETX


class DeviceTests(bb.BBTest):
    daemon_args = []

    @classmethod
    def setUpClass(cls):
        cls.dir = os.path.join(bb.WORK, "devices-profiles")
        os.makedirs(cls.dir, exist_ok=True)
        cls.config_text = device_config(cls.dir)
        super().setUpClass()

    @classmethod
    def extra_setup(cls):
        cls.ports = device_ports(cls.d)
        cls.d.add_routes(*ROUTES)
        cls.api = bb.ApiSession(cls.d)

    @classmethod
    def tearDownClass(cls):
        cls.api.close()
        super().tearDownClass()

    # -- helpers
    def conn(self, sid, src=None):
        p = self.ports.get(sid)
        self.require(p is not None, 'README: "The start-up log names each device\'s port '
                     '(event=device_listening scanner=... port=...)"', f"config with device {sid}",
                     f"ports found in the log: {self.ports}")
        return Tg(p, src=src)

    def trace(self, pid):
        return self.api.get_json("/v1/parcels/" + quote(pid, safe=""))

    def last_sort(self, pid, timeout=3.0):
        """(entry, parcel_sorted) of the parcel's last sort scan, polling."""
        def get():
            st, j = self.trace(pid)
            if st != 200 or not j:
                return None
            ents = [e for e in j.get("entries", []) if "parcel_sorted" in (e.get("event") or {})]
            return ents[-1] if ents else None
        e = bb.wait_for(get, timeout, 0.05)
        if not e:
            return None, None
        return e, e["event"]["parcel_sorted"]

    def cases(self, typ, scanner=None, pred=None, timeout=2.0):
        def get():
            st, j = self.api.get_json(f"/v1/exceptions?type={typ}&limit=1000")
            if st != 200:
                return []
            out = [c for c in (j or {}).get("exceptions", [])
                   if (scanner is None or c.get("scanner_id") == scanner) and (pred is None or pred(c))]
            return out
        return bb.wait_for(get, timeout, 0.05) or []

    def no_case(self, typ, pred, settle=0.3):
        time.sleep(settle)
        return self.cases(typ, pred=pred, timeout=0)

    # ------------------------------------------------------------ profiles

    @check
    def test_01_ports_logged(self):
        """every configured device logs event=device_listening with its port"""
        want = {"BB-SICK", "BB-MULTI", "BB-NOPAT", "BB-DLDWS", "BB-UNBAG", "BB-DOCK", "BB-DEST",
                "BB-PLAIN", "BB-NOISE", "BB-SPLIT", "BB-FENCE", "BB-ALLOW", "BB-NOSTATION"}
        self.expect(want <= set(self.ports),
                    'README: "The start-up log names each device\'s port (event=device_listening scanner=... port=...)"',
                    "13 [[device]] tables", f"logged: {sorted(self.ports)}")

    @check
    def test_02_datalogic_multi_doc_example(self):
        """datalogic-multi: the docs' exchange verbatim (5,RR..,JD0001,D-SHA -> 5,12,; 6,NOREAD -> 6,0,NO_READ)"""
        c = self.conn("BB-MULTI")
        sent = multi(5, "RR473124829GB", "JD0001", "D-SHA") + multi(6, "NOREAD")
        c.send(sent)
        got = c.replies(2, b"\r\n")
        self.expect(got == [b"5,12,\r\n", b"6,0,NO_READ\r\n"],
                    'docs/devices.md: "STX 5,RR473124829GB,JD0001,D-SHA CR LF -> 5,12, CR LF; STX 6,NOREAD CR LF '
                    '-> 6,0,NO_READ CR LF" (route D-SHA -> chute 12 loaded)', repr(sent), repr(got))
        e, ps = self.last_sort("RR473124829GB")
        self.expect(ps is not None and ps.get("read") == "READ_SINGLE" and ps.get("destination") == "D-SHA"
                    and e["event"].get("scanner_id") == "BB-MULTI" and e["event"].get("station") == "SORTER-A"
                    and (e.get("decision") or {}).get("chute") == "12",
                    'docs/devices.md: "Each read becomes events of scanner_id ... the station its events carry"; '
                    'S10 ranks first, D-SHA is the destination', repr(sent), f"trace entry {e}")
        cs = self.cases("NO_READ", "BB-MULTI")
        self.expect(len(cs) >= 1, 'docs/devices.md rule 1: "a no-read (READ_NO_READ): the parcel is diverted" '
                    '(a NO_READ case, sort kind: "no-reads ... appear on the worklist")', repr(multi(6, "NOREAD")),
                    f"NO_READ cases of BB-MULTI: {cs}")
        c.close()

    @check
    def test_03_sick_dws_profile(self):
        """sick-dws: reading with units kg/mm, routing label in code; reply STX obj;chute ETX; measurement in trace"""
        pid = s10("CP", "10000001", "DE")
        c = self.conn("BB-SICK")
        sent = sick(17, f"{pid},D-SHA", "12.345", "kg", "0", "300", "200", "100", "mm", "OK", "6000")
        c.send(sent)
        got = c.replies(1, ETX)
        self.expect(got == [STX + b"17;12" + ETX], 'deploy/devices/sick-dws.toml: "It feeds a sorter, so it takes '
                    'an answer: STX object;chute ETX" (route D-SHA -> 12)', repr(sent), repr(got))
        e, ps = self.last_sort(pid)
        m = (ps or {}).get("measurement", {})
        self.expect(ps is not None and int(m.get("weight_g", 0)) == 12345 and m.get("length_mm") == 300
                    and m.get("width_mm") == 200 and m.get("height_mm") == 100 and int(m.get("volume_cm3", 0)) == 6000
                    and not m.get("scale_error") and ps.get("destination") == "D-SHA",
                    'docs/devices.md "Fields"/"hubd keeps grams, millimetres and cubic centimetres"', repr(sent),
                    f"parcel_sorted {ps}")
        c.close()

    @check
    def test_04_sick_units(self):
        """sick-dws: g, lb, cm, m, in converted and rounded to whole g/mm"""
        c = self.conn("BB-SICK")
        cases = [
            ("500", "g", ("30", "20", "10.5", "cm"), 500, (300, 200, 105)),
            ("2.2", "lb", ("1", "0.5", "0.25", "m"), 998, (1000, 500, 250)),
            ("1", "lb", ("10", "5", "2", "in"), 454, (254, 127, 51)),
            ("0.0004", "kg", ("0.4", "0.6", "1.4", "mm"), 0, (0, 1, 1)),
        ]
        for i, (wv, wu, (l, w, h, du), wg, dims) in enumerate(cases):
            pid = s10("CP", f"1000001{i}", "DE")
            sent = sick(40 + i, f"{pid},D-SHA", wv, wu, "0", l, w, h, du)
            c.send(sent)
            got = c.replies(1, ETX)
            self.expect(got == [STX + f"{40 + i};12".encode() + ETX], DOC_ANSWER, repr(sent), repr(got))
            e, ps = self.last_sort(pid)
            m = (ps or {}).get("measurement", {})
            obs = (int(m.get("weight_g", 0)), m.get("length_mm", 0), m.get("width_mm", 0), m.get("height_mm", 0))
            self.expect(obs == (wg,) + dims,
                        'docs/devices.md: "hubd keeps grams, millimetres ... rounded to the nearest whole one: '
                        '1 lb = 453.59237 g, 1 in = 25.4 mm"', repr(sent), f"measurement {m} -> {obs}, want {(wg,) + dims}")
        c.close()

    @check
    def test_05_sick_no_read_and_no_destination(self):
        """sick-dws: NoRead -> STX obj;999 ETX; a parcel code with no routing label is diverted (NO_ROUTE) to 999"""
        c = self.conn("BB-SICK")
        pid = s10("CP", "10000020", "DE")
        sent = sick(18, "NoRead") + sick(19, pid)
        c.send(sent)
        got = c.replies(2, ETX)
        self.expect(got == [STX + b"18;999" + ETX, STX + b"19;999" + ETX],
                    'sick-dws.toml: divert_chute = "999"; docs/devices.md rule 1 (no-read diverted); '
                    'event.proto ParcelSorted.destination "empty when unreadable ... NO_ROUTE"', repr(sent), repr(got))
        c.close()

    @check
    def test_06_datalogic_dws_profile(self):
        """datalogic-dws: the docs' telegram (codes split by ','), no answer, reading and legal_for_trade in trace"""
        pid = s10("EE", "20000001", "CN")
        c = self.conn("BB-DLDWS")
        sent = dldws(9, f"{pid},1Z999,D-BJS", "1.5", "400", "300", "200", "Y", "")
        c.send(sent)
        e, ps = self.last_sort(pid)
        m = (ps or {}).get("measurement", {})
        self.expect(ps is not None and int(m.get("weight_g", 0)) == 1500 and m.get("length_mm") == 400
                    and m.get("legal_for_trade") is True and ps.get("destination") == "D-BJS"
                    and ps.get("read") == "READ_SINGLE",
                    'datalogic-dws.toml: "STX object|code,code,...|weight|length|width|height|legal_for_trade|'
                    'no_dimension_reason ETX", weight kg, legal Y; S10 ranks first', repr(sent), f"parcel_sorted {ps}")
        extra = c.quiet(0.4)
        self.expect(extra == b"", 'docs/devices.md: "A profile without reply gets nothing back."', repr(sent),
                    f"received {extra!r}")
        # no dimensions with a reason
        pid2 = s10("EE", "20000002", "CN")
        sent2 = dldws(10, f"{pid2},D-BJS", "0.75", "", "", "", "N", "too flat")
        c.send(sent2)
        e, ps = self.last_sort(pid2)
        m = (ps or {}).get("measurement", {})
        self.expect(ps is not None and m.get("no_dimension_reason") == "too flat" and int(m.get("weight_g", 0)) == 750
                    and not m.get("legal_for_trade") and not m.get("length_mm"),
                    'docs/devices.md: "an empty number field means not measured (0)"; no_dimension_reason free text',
                    repr(sent2), f"parcel_sorted {ps}")
        c.close()

    @check
    def test_07_custom_profile_placeholders_and_destination_field(self):
        """custom profile by path: every reply placeholder, a destination field wins over destination codes"""
        c = self.conn("BB-DEST")
        pid = "DESTPARCEL1"
        sent = f"a1\t{pid} D-SHA\tD-BJS\r\n".encode()
        c.send(sent)
        got = c.replies(1, b"\r\n")
        want = f"a1|{pid}|7|R-BJS|L-BJS|D-BJS||{{nope}}\r\n".encode()
        self.expect(got == [want], 'docs/devices.md "The answer" placeholders; rule 3: "A destination field in the '
                    'telegram wins over destination codes"; "any other text, including braces that are not a '
                    'placeholder, is sent as written"', repr(sent), f"{got!r}, want {want!r}")
        sent = b"a2\t?\t\r\n"
        c.send(sent)
        got = c.replies(1, b"\r\n")
        want = b"a2||X||||NO_READ|{nope}\r\n"
        self.expect(got == [want], 'docs/devices.md: "{code} the parcel id hubd decided for; {chute}: divert_chute '
                    'when diverted; {route}/{load} empty when diverted"', repr(sent), f"{got!r}, want {want!r}")
        c.close()

    @check
    def test_08_plain_scanner_example(self):
        """the docs' plain-scanner example profile (TAB, CR LF, no header, no answer) gives a sort scan"""
        c = self.conn("BB-PLAIN")
        sent = b"77\tPLAIN-P1\r\n"
        c.send(sent)
        e, ps = self.last_sort("PLAIN-P1")
        self.expect(ps is not None and ps.get("parcel_id") == "PLAIN-P1", 'docs/devices.md: "a scanner that sends '
                    '<trigger>TAB<code>CR LF and takes no answer"', repr(sent), f"trace {e}")
        self.expect(c.quiet(0.3) == b"", 'docs/devices.md: "A profile without reply gets nothing back."', repr(sent), "bytes came")
        c.close()

    @check
    def test_09_device_without_station(self):
        """a device configured without station (documented default "") has its sort reads routed"""
        c = self.conn("BB-NOSTATION")
        r0 = self.d.metric_value("hubd_rejects_total", {"code": "REJECT_MISSING_ID"}) or 0
        sent = multi(1, "RR473124829GB", "D-SHA")
        c.send(sent)
        got = c.replies(1, b"\r\n")
        r1 = self.d.metric_value("hubd_rejects_total", {"code": "REJECT_MISSING_ID"}) or 0
        self.expect(got == [b"1,12,\r\n"], 'docs/devices.md "Installing a device": `station` | "" | the station its '
                    'events carry (optional; deploy/hubd.toml and README examples accept a [[device]] without it); '
                    'hubd starts with it', repr(sent),
                    f"{got!r}; hubd_rejects_total{{code=REJECT_MISSING_ID}} {r0} -> {r1} (log: device_read_refused "
                    f"code=REJECT_MISSING_ID reason=\"station is missing\")")
        c.close()

    # ------------------------------------------------------------ code-picking rule

    def _multi_read(self, obj, codes, want_reply, doc):
        c = self.conn("BB-MULTI")
        sent = multi(obj, *codes)
        c.send(sent)
        got = c.replies(1, b"\r\n")
        self.expect(got == [want_reply], doc, repr(sent), repr(got))
        c.close()
        return sent

    @check
    def test_10_rule_pattern_ranks(self):
        """rule 4: S10 first, then first pattern, then second; codes matching no pattern ignored"""
        s = s10("LX", "30000001", "FR")
        sent = self._multi_read(21, ["123456789012", "JD1001", s, "D-SHA"], b"21,12,\r\n", DOC_RULE + " rule 4")
        e, ps = self.last_sort(s)
        self.expect(ps and ps.get("read") == "READ_SINGLE", DOC_RULE + " rule 4/5: S10 is the parcel id",
                    repr(sent), f"trace of {s}: {e}")
        sent = self._multi_read(22, ["123456789013", "XYZ", "JD1002", "D-SHA"], b"22,12,\r\n", DOC_RULE + " rule 4")
        e, ps = self.last_sort("JD1002")
        self.expect(ps and ps.get("read") == "READ_SINGLE" and ps.get("destination") == "D-SHA",
                    DOC_RULE + ' rule 4: "then codes matching the first parcel pattern, then the second"',
                    repr(sent), f"trace of JD1002: {e}")
        st, j = self.trace("123456789013")
        self.expect(st == 404, DOC_RULE + " rule 4: the second-pattern code is not the parcel", repr(sent),
                    f"GET /v1/parcels/123456789013 -> {st}")
        sent = self._multi_read(23, ["XYZ", "123456789014", "D-SHA"], b"23,12,\r\n", DOC_RULE + " rule 4")
        e, ps = self.last_sort("123456789014")
        self.expect(ps and ps.get("read") == "READ_SINGLE", DOC_RULE + ' rule 4: "Codes that match no pattern are ignored"',
                    repr(sent), f"trace of 123456789014: {e}")

    @check
    def test_11_rule_repeated_code_counts_once(self):
        """rule 3: a code repeated in one read counts once"""
        sent = self._multi_read(24, ["JD1003", "JD1003", "D-SHA", "D-SHA"], b"24,12,\r\n",
                                DOC_RULE + ' rule 3: "A code repeated in one read counts once"')
        e, ps = self.last_sort("JD1003")
        self.expect(ps and ps.get("read") == "READ_SINGLE", DOC_RULE + " rule 3", repr(sent), f"trace {e}")

    @check
    def test_12_rule_ambiguous_same_rank(self):
        """rule 5: two codes of the best rank -> AMBIGUOUS_READ, diverted, case lists every code"""
        codes = ["JD1004", "JD1005", "D-SHA"]
        sent = self._multi_read(25, codes, b"25,0,NO_READ\r\n",
                                DOC_RULE + ' rule 5 (diverted like a no-read; {divert} is NO_READ, NO_ROUTE or HELD)')
        cs = self.cases("AMBIGUOUS_READ", "BB-MULTI", lambda c: "JD1004" in c.get("read_codes", []))
        self.expect(len(cs) == 1 and cs[0].get("read_codes") == codes and not cs[0].get("parcel_id"),
                    DOC_RULE + ' rule 5: "several different codes make the read ambiguous (READ_AMBIGUOUS), and the '
                    'case lists every code of the read"; api.md: "carries every code in read_codes, as the device sent them"',
                    repr(sent), f"cases {cs}")
        for p in ("JD1004", "JD1005"):
            st, _ = self.trace(p)
            self.expect(st == 404, 'docs/api.md: "AMBIGUOUS_READ ... no parcel created"', repr(sent),
                        f"GET /v1/parcels/{p} -> {st}")
        s1, s2 = s10("LX", "30000002", "FR"), s10("LX", "30000003", "FR")
        self._multi_read(26, [s1, s2], b"26,0,NO_READ\r\n", DOC_RULE + " rule 5: two valid S10 ids disagree")
        cs = self.cases("AMBIGUOUS_READ", "BB-MULTI", lambda c: s1 in c.get("read_codes", []))
        self.expect(len(cs) == 1 and cs[0].get("read_codes") == [s1, s2], DOC_RULE + " rule 5",
                    repr(multi(26, s1, s2)), f"cases {cs}")

    @check
    def test_13_rule_two_destinations(self):
        """rule 3: two different destination codes make the read ambiguous"""
        codes = ["JD1006", "D-SHA", "D-BJS"]
        sent = self._multi_read(27, codes, b"27,0,NO_READ\r\n",
                                DOC_RULE + ' rule 3: "two different ones make the read ambiguous"')
        cs = self.cases("AMBIGUOUS_READ", "BB-MULTI", lambda c: "JD1006" in c.get("read_codes", []))
        self.expect(len(cs) == 1 and cs[0].get("read_codes") == codes, DOC_RULE + " rule 3 + 5 (case lists every code)",
                    repr(sent), f"cases {cs}")

    @check
    def test_14_rule_invalid_s10(self):
        """rule 4/6: bad S10 check digit never a candidate; alone -> READ_INVALID_ID naming the code"""
        bad = s10("RR", "40000001", "GB", valid=False)
        sent = self._multi_read(28, [bad, "D-SHA"], b"28,0,NO_READ\r\n", DOC_RULE + " rule 6 (diverted)")
        cs = self.cases("NO_READ", "BB-MULTI", lambda c: bad in c.get("read_codes", []))
        self.expect(len(cs) == 1 and bad in cs[0].get("detail", "") and cs[0].get("read_codes") == [bad, "D-SHA"],
                    DOC_RULE + ' rule 6: "READ_INVALID_ID when an S10 id failed its check (the case names the code) '
                    '... the case lists every code of the read"; api.md: "a NO_READ ... of an invalid id names the code '
                    'in its detail"', repr(sent), f"cases {cs}")
        st, _ = self.trace(bad)
        self.expect(st == 404, DOC_RULE + " rule 4: never a candidate", repr(sent), f"GET /v1/parcels/{bad} -> {st}")
        bad2 = s10("RR", "40000002", "GB", valid=False)
        sent = self._multi_read(29, [bad2, "JD1007", "D-SHA"], b"29,12,\r\n",
                                DOC_RULE + ' rule 4: "an S10-shaped code whose check digit is wrong is never a candidate"')
        e, ps = self.last_sort("JD1007")
        self.expect(ps and ps.get("read") == "READ_SINGLE", DOC_RULE + " rule 4", repr(sent), f"trace {e}")

    @check
    def test_15_rule_multi_read_string(self):
        """rule 2: the multi-read string -> ambiguous, the case lists the codes or MULTI itself"""
        sent = self._multi_read(30, ["MULTI"], b"30,0,NO_READ\r\n", DOC_RULE + " rule 2 (diverted)")
        cs = self.cases("AMBIGUOUS_READ", "BB-MULTI", lambda c: c.get("read_codes") == ["MULTI"])
        self.expect(len(cs) >= 1, DOC_RULE + ' rule 2: "the case lists the codes that came (or the multi-read string '
                    'itself when none did)"', repr(sent), f"AMBIGUOUS_READ cases of BB-MULTI: {self.cases('AMBIGUOUS_READ', 'BB-MULTI')}")
        sent = self._multi_read(31, ["JD1008", "MULTI"], b"31,0,NO_READ\r\n", DOC_RULE + " rule 2 (multi-read wins)")
        cs = self.cases("AMBIGUOUS_READ", "BB-MULTI", lambda c: "JD1008" in c.get("read_codes", []))
        self.expect(len(cs) == 1, DOC_RULE + " rule 2: the case lists the codes that came", repr(sent), f"cases {cs}")

    @check
    def test_16_rule_no_candidate(self):
        """rule 6: only codes matching no pattern -> a no-read listing every code"""
        codes = ["XYZ-1", "D-SHA"]
        sent = self._multi_read(32, codes, b"32,0,NO_READ\r\n", DOC_RULE + " rule 6")
        cs = self.cases("NO_READ", "BB-MULTI", lambda c: "XYZ-1" in c.get("read_codes", []))
        self.expect(len(cs) == 1 and cs[0].get("read_codes") == codes,
                    DOC_RULE + ' rule 6: "otherwise a no-read; ... the case lists every code of the read"',
                    repr(sent), f"cases {cs}")

    @check
    def test_17_no_route_and_held(self):
        """{divert}: NO_ROUTE for a destination without route, HELD for a held parcel"""
        self._multi_read(33, ["JD1009", "D-XYZ"], b"33,0,NO_ROUTE\r\n", 'docs/devices.md "{divert}": NO_ROUTE')
        self._multi_read(34, ["JD1010"], b"34,0,NO_ROUTE\r\n", 'docs/devices.md "{divert}": NO_ROUTE (no destination)')
        self.d.add_hold("JD1011")
        self._multi_read(35, ["JD1011", "D-SHA"], b"35,0,HELD\r\n", 'docs/devices.md "{divert}": HELD')

    @check
    def test_18_no_patterns_no_s10_check(self):
        """without patterns every code is a candidate; without validate_s10 a bad check digit is a plain code"""
        c = self.conn("BB-NOPAT")
        bad = s10("RR", "40000003", "GB", valid=False)
        sent = multi(36, bad) + multi(37, "AAA1", "BBB2") + multi(38, "CCC3")
        c.send(sent)
        got = c.replies(3, b"\r\n")
        self.expect(got == [b"36,0,NO_ROUTE\r\n", b"37,0,NO_READ\r\n", b"38,0,NO_ROUTE\r\n"],
                    DOC_RULE + ' rule 4: "with no patterns, every other code is a candidate"; validate_s10 default false',
                    repr(sent), repr(got))
        e, ps = self.last_sort(bad)
        self.expect(ps is not None, "validate_s10 = false: the S10-shaped code is the parcel id", repr(sent), f"trace {e}")
        c.close()

    # ------------------------------------------------------------ bad input

    @check
    def test_20_malformed_sort_telegram_gets_no_answer(self):
        """malformed telegrams (bad number, wrong field count, unknown unit, 17 codes, control char) are refused
        without an answer (hubd cannot tell which object they were), the connection stays and later reads are
        answered"""
        c = self.conn("BB-SICK")
        m0 = self.d.metric_value("hubd_telegram_malformed_total", {"scanner": "BB-SICK"}) or 0
        pid = s10("CP", "10000030", "DE")
        bads = [
            STX + b"51;" + pid.encode() + b";abc;kg;0;300;200;100;mm;OK;6000" + ETX,   # weight not a number
            STX + b"52;" + pid.encode() + b";1;kg;0;300;200" + ETX,                    # wrong field count
            sick(53, pid, unit="stone"),                                               # unknown unit
            sick(54, ",".join(f"C{i:03d}" for i in range(17))),                       # 17 codes
            sick(55, "AB\x01CD"),                                                      # control char in code
        ]
        for b in bads:
            c.send(b)
            obj = b[1:3]
            got = c.replies(1, ETX, 1.0)
            self.expect(got == [], DOC_ANSWER + ' / "A telegram that does not parse is not a read and gets no '
                        'answer"', repr(b), repr(got))
        good = sick(56, f"{pid},D-SHA")
        c.send(good)
        got = c.replies(1, ETX, 3.0)
        self.expect(got == [STX + b"56;12" + ETX], DOC_BAD + " (later reads still answered)", repr(good), repr(got))
        m1 = self.d.metric_value("hubd_telegram_malformed_total", {"scanner": "BB-SICK"})
        self.expect(m1 is not None and m1 - m0 == len(bads), 'docs/devices.md Metrics: _malformed_total counts malformed telegrams',
                    f"{len(bads)} malformed telegrams", f"hubd_telegram_malformed_total{{scanner=BB-SICK}} {m0} -> {m1}")
        c.close()

    @check
    def test_21_oversized_telegram_counted_as_oversized_and_its_bytes_as_noise(self):
        """oversized telegram dropped and counted, its bytes in the noise count (every byte dropped unread); noise
        bytes counted exactly; a header inside a telegram starts a new one"""
        c = self.conn("BB-NOISE")
        lab = {"scanner": "BB-NOISE"}
        o0 = self.d.metric_value("hubd_telegram_oversized_total", lab) or 0
        n0 = self.d.metric_value("hubd_telegram_noise_bytes_total", lab) or 0
        pid = s10("CP", "10000040", "DE")
        big = STX + b"61;" + b"A" * 600 + ETX          # > max_telegram 512
        c.send(big)
        got = c.quiet(0.4)
        ok_read = sick(62, f"{pid},D-SHA")
        c.send(ok_read)
        got += b"".join(c.replies(1, ETX, 3.0))
        self.expect(got.endswith(STX + b"62;12" + ETX) and not c.eof, DOC_BAD, repr(big[:20]) + "...+ " + repr(ok_read),
                    repr(got))
        o1 = self.d.metric_value("hubd_telegram_oversized_total", lab)
        self.expect(o1 is not None and o1 - o0 == 1, 'docs/devices.md: max_telegram "a longer one is dropped and counted"',
                    "one 603-byte telegram to sick-dws (max_telegram 512)", f"oversized_total {o0} -> {o1}")
        time.sleep(0.2)
        n_mid = self.d.metric_value("hubd_telegram_noise_bytes_total", lab) or 0
        self.expect(n_mid - n0 == len(big), 'docs/devices.md: the bytes of a telegram longer than max_telegram '
                    'count as noise too: "the noise count is every byte dropped unread"',
                    repr(big[:20]) + f"... ({len(big)} bytes, one framed telegram)",
                    f"noise_bytes_total {n0} -> {n_mid}")
        n0 = n_mid
        noise = b"hello noise"
        tail = b"\r\n\x00zz"
        sent = noise + sick(63, f"{pid},D-SHA") + tail
        c.send(sent)
        got = c.replies(1, ETX, 3.0)
        self.expect(got == [STX + b"63;12" + ETX], DOC_BAD, repr(sent), repr(got))
        time.sleep(0.2)
        n1 = self.d.metric_value("hubd_telegram_noise_bytes_total", lab)
        want = len(noise) + len(tail)
        self.expect(n1 is not None and n1 - n0 == want, 'docs/devices.md: "Bytes outside a telegram (between a '
                    'terminator and the next header) are noise: dropped and counted"', repr(sent),
                    f"noise_bytes_total {n0} -> {n1}, want +{want}")
        cut = STX + b"64;" + pid.encode()[:5]
        sent = cut + sick(65, f"{pid},D-SHA")
        c.send(sent)
        got = c.replies(2, ETX, 1.5)
        self.expect(got == [STX + b"65;12" + ETX], 'docs/devices.md: "A header inside a telegram starts a new one '
                    '(the cut-off part is noise)"', repr(sent), repr(got))
        c.close()

    @check
    def test_22_every_split_point(self):
        """a stream of 3 telegrams (with noise) split at every byte is answered exactly the same"""
        c = self.conn("BB-SPLIT")
        s = "RR473124829GB"
        stream = multi(1, "NOREAD") + b"~" + multi(2, s, "D-SHA") + multi(3, s, "D-BJS")
        want = [b"1,0,NO_READ\r\n", b"2,12,\r\n", b"3,7,\r\n"]
        bad = []
        for i in range(1, len(stream)):
            c.send(stream[:i])
            time.sleep(0.003)
            c.send(stream[i:])
            got = c.replies(3, b"\r\n", 3.0)
            if got != want:
                bad.append((i, got))
                if len(bad) > 3 or c.eof:
                    break
        self.expect(not bad, 'docs/devices.md: telegrams framed by header/terminator; TCP segmentation does not matter',
                    f"{stream!r} in two writes split at every offset", f"first bad splits: {bad[:4]}")
        c.close()

    @check
    def test_23_metrics(self):
        """the documented hubd_telegram_* metrics exist per device and count reads, events, replies, connections"""
        lab = {"scanner": "BB-FENCE"}
        names = ["hubd_telegram_connections_total", "hubd_telegram_refused_total", "hubd_telegram_reads_total",
                 "hubd_telegram_events_total", "hubd_telegram_malformed_total", "hubd_telegram_oversized_total",
                 "hubd_telegram_unused_reads_total", "hubd_telegram_noise_bytes_total", "hubd_telegram_replies_total"]
        before = {n: self.d.metric_value(n, lab) for n in names}
        missing = [n for n, v in before.items() if v is None]
        self.expect(not missing, 'docs/devices.md "Metrics, per device (scanner label): hubd_telegram_connections_total, '
                    '_refused_total, _reads_total, _events_total, _malformed_total, _oversized_total, '
                    '_unused_reads_total, _noise_bytes_total, _replies_total"', "GET /metrics",
                    f"missing for scanner=BB-FENCE: {missing}")
        c = self.conn("BB-FENCE")
        pid = s10("CP", "10000050", "DE")
        sent = sick(71, f"{pid},D-SHA") + sick(72, "NoRead") + sick(73, pid)
        c.send(sent)
        got = c.replies(3, ETX)
        self.expect(len(got) == 3, DOC_ANSWER, repr(sent), repr(got))
        time.sleep(0.1)
        after = {n: self.d.metric_value(n, lab) for n in names}
        d = {n: (after[n] or 0) - (before[n] or 0) for n in names}
        self.expect(d["hubd_telegram_connections_total"] == 1 and d["hubd_telegram_reads_total"] == 3
                    and d["hubd_telegram_events_total"] == 3 and d["hubd_telegram_replies_total"] == 3
                    and d["hubd_telegram_malformed_total"] == 0,
                    "docs/devices.md Metrics: one connection, three reads, three events, three replies",
                    repr(sent), f"deltas {d}")
        c.close()
        # unused reads: a parcel before any vehicle label at the dock
        u0 = self.d.metric_value("hubd_telegram_unused_reads_total", {"scanner": "BB-DOCK"}) or 0
        c = self.conn("BB-DOCK")
        c.send(dldws(1, "BAG900", "2.0"))
        time.sleep(0.3)
        u1 = self.d.metric_value("hubd_telegram_unused_reads_total", {"scanner": "BB-DOCK"})
        self.expect(u1 is not None and u1 - u0 == 1, 'docs/devices.md: "no vehicle label read yet" is a read that gives '
                    'no event, counted', repr(dldws(1, "BAG900", "2.0")), f"unused_reads_total {u0} -> {u1}")
        c.close()

    @check
    def test_24_allow_from(self):
        """allow_from: other source addresses are refused and counted; a named one is served"""
        lab = {"scanner": "BB-ALLOW"}
        r0 = self.d.metric_value("hubd_telegram_refused_total", lab) or 0
        c = self.conn("BB-ALLOW")
        c.send(multi(1, "JD2001"))
        got = c.quiet(0.5)
        self.expect(got == b"" and c.wait_eof(2), 'docs/devices.md allow_from: "source addresses allowed to connect"',
                    "connect from 127.0.0.1 (allow_from = [127.0.0.2]), send 1,JD2001", f"got {got!r}, eof={c.eof}")
        c.close()
        r1 = self.d.metric_value("hubd_telegram_refused_total", lab)
        self.expect(r1 is not None and r1 - r0 == 1, "docs/devices.md Metrics: _refused_total", "one refused connection",
                    f"refused_total {r0} -> {r1}")
        c = self.conn("BB-ALLOW", src="127.0.0.2")
        sent = multi(2, "JD2002")
        c.send(sent)
        got = c.replies(1, b"\r\n")
        self.expect(got == [b"2,0,NO_ROUTE\r\n"], "allow_from names 127.0.0.2", "from 127.0.0.2: " + repr(sent), repr(got))
        c.close()

    @check
    def test_25_fencing(self):
        """a second connection for the device fences the first: the first's reads are answered, then it is closed"""
        a = self.conn("BB-FENCE")
        pid = s10("CP", "10000060", "DE")
        first = sick(79, f"{pid},D-SHA")
        a.send(first)
        g0 = a.replies(1, ETX, 5.0)
        self.expect(g0 == [STX + b"79;12" + ETX], "the first connection is served", repr(first), repr(g0))
        # Reads still on the way when B connects: what hubd had read from A
        # is answered, the rest is dropped unanswered; A is closed.
        sa = b"".join(sick(80 + i, f"{pid},D-SHA") for i in range(5))
        a.send(sa)
        b = self.conn("BB-FENCE", src="127.0.0.2")
        ga = a.replies(5, ETX, 5.0)
        eof = a.wait_eof(5.0)
        self.expect(ga == [STX + f"{80 + i};12".encode() + ETX for i in range(len(ga))] and eof,
                    'docs/devices.md: "A new connection takes the scanner id over the way a hello does: the older '
                    'connection reads no more, what hubd had read from it is applied and answered in order, then '
                    'it is closed"',
                    "A: " + repr(sa) + "; then B connects", f"A got {ga!r}, closed={eof}")
        sb = sick(90, f"{pid},D-BJS")
        b.send(sb)
        gb = b.replies(1, ETX)
        self.expect(gb == [STX + b"90;7" + ETX], "the new connection is served", repr(sb), repr(gb))
        # a late write on the fenced connection gets nothing
        try:
            a.send(sick(99, pid))
            late = a.quiet(0.3)
        except OSError:
            late = b""
        self.expect(late == b"", "fenced connection reads no more", repr(sick(99, pid)), repr(late))
        a.close()
        b.close()

    # ------------------------------------------------------------ kinds and weights

    @check
    def test_30_unbag_table(self):
        """unbag: bag label opens the bag, parcel reads are unbagged, end code empties it; parcel before a bag is unused"""
        c = self.conn("BB-UNBAG")
        u0 = self.d.metric_value("hubd_telegram_unused_reads_total", {"scanner": "BB-UNBAG"}) or 0
        c.send(dldws(1, "UB-P0"))
        time.sleep(0.3)
        u1 = self.d.metric_value("hubd_telegram_unused_reads_total", {"scanner": "BB-UNBAG"})
        self.expect(u1 is not None and u1 - u0 == 1, 'docs/devices.md: "no bag label read yet" (a read that gives no event, counted)',
                    repr(dldws(1, "UB-P0")), f"unused {u0} -> {u1}")
        sent = dldws(2, "BAG101") + dldws(3, "UB-P1") + dldws(4, "UB-P2") + dldws(5, "BAGEND")
        c.send(sent)

        def bag():
            st, j = self.api.get_json("/v1/bags/BAG101")
            return j if st == 200 and j and j.get("emptied") else None
        j = bb.wait_for(bag, 3.0, 0.05)
        self.expect(j and j.get("opened") and j.get("members") == ["UB-P1", "UB-P2"],
                    'docs/devices.md kinds: unbag', repr(sent), f"GET /v1/bags/BAG101 -> {j}")
        # a second bag label without an end code empties the open one first
        sent = dldws(6, "BAG102") + dldws(7, "UB-P3") + dldws(8, "BAG103") + dldws(9, "UB-P4")
        c.send(sent)

        def bag2():
            st, j = self.api.get_json("/v1/bags/BAG102")
            return j if st == 200 and j and j.get("emptied") else None
        j = bb.wait_for(bag2, 3.0, 0.05)
        self.expect(j and j.get("members") == ["UB-P3"], 'docs/devices.md: "the bag open before it, if its end was not '
                    'scanned, is emptied first"', repr(sent), f"GET /v1/bags/BAG102 -> {j}")
        c.close()

    @check
    def test_31_unload_dock(self):
        """unload: vehicle label, bag with the reading's weight, end code ends unloading"""
        c = self.conn("BB-DOCK")
        sent = dldws(1, "V501") + dldws(2, "BAG501", "5.5") + dldws(3, "BAG502", "0.25") + dldws(4, "VEND")
        c.send(sent)

        def veh():
            st, j = self.api.get_json("/v1/vehicles/V501")
            return j if st == 200 and j and j.get("unloaded") else None
        j = bb.wait_for(veh, 3.0, 0.05)
        bags = [b.get("bag_id") for b in (j or {}).get("bags", [])]
        self.expect(j and bags == ["BAG501", "BAG502"], 'docs/devices.md kinds: unload', repr(sent), f"vehicle {j}")
        st, jb = self.api.get_json("/v1/bags/BAG501")
        ev = [h["event"]["bag_unloaded"] for h in (jb or {}).get("history", []) if "bag_unloaded" in (h.get("event") or {})]
        self.expect(ev and int(ev[0].get("weight_g", 0)) == 5500 and ev[0].get("vehicle_id") == "V501",
                    'docs/devices.md: "a bag label is a bag unloaded from that vehicle, with the weight from the reading"',
                    repr(dldws(2, "BAG501", "5.5")), f"bag history {jb}")
        c.close()

    def _advice(self, bag, weights):
        st, j, raw = self.d.api_json("POST", "/v1/reference", {"changes": [{"bag_advice": {
            "bag_id": bag, "parcel_ids": list(weights),
            "parcel_weights": [{"parcel_id": p, "weight_g": w} for p, w in weights.items()]}}]})
        self.require(st == 200, 'docs/api.md POST /v1/reference bag_advice with parcel_weights', "", f"{st} {raw[:200]!r}")

    def _wm(self, pid):
        return self.cases("WEIGHT_MISMATCH", pred=lambda c: c.get("parcel_id") == pid, timeout=0)

    @check
    def test_32_weight_mismatch_advice_telegram_unbag(self):
        """WEIGHT_MISMATCH exactly beyond max(50 g, 5 %) of the advice weight, parcel unbagged by a telegram table"""
        P = {s10("WA", f"5000000{i}", "CN"): 1000 for i in range(4)}
        P.update({s10("WB", f"5000000{i}", "CN"): 2000 for i in range(3)})
        ids = list(P)
        self._advice("BAG601", P)
        u = self.conn("BB-UNBAG")
        u.send(dldws(1, "BAG601") + b"".join(dldws(2 + i, p) for i, p in enumerate(ids)) + dldws(20, "BAGEND"))

        def bag():
            st, j = self.api.get_json("/v1/bags/BAG601")
            return j if st == 200 and j and j.get("emptied") else None
        j = bb.wait_for(bag, 3.0, 0.05)
        self.require(j and len(j.get("members", [])) == len(ids), "unbag kind", "BAG601 + parcels + BAGEND", f"bag {j}")
        u.close()
        # K=1000: tol 50 g -> 1.050 none, 1.051 raised, 0.949 raised; scale error never
        # K=2000: tol 100 g -> 2.100 none, 2.101 raised; 1.900 none
        plan = [(ids[0], "1.050", "0", False), (ids[1], "1.051", "0", True), (ids[2], "0.949", "0", True),
                (ids[3], "3.000", "1", False), (ids[4], "2.100", "0", False), (ids[5], "2.101", "0", True),
                (ids[6], "1.900", "0", False)]
        c = self.conn("BB-SICK")
        for i, (p, w, se, want) in enumerate(plan):
            sent = sick(100 + i, f"{p},D-SHA", w, "kg", se)
            c.send(sent)
            got = c.replies(1, ETX)
            self.expect(got == [STX + f"{100 + i};12".encode() + ETX],
                        'docs/api.md: WEIGHT_MISMATCH "the parcel is routed as usual"', repr(sent), repr(got))
        time.sleep(0.2)
        for i, (p, w, se, want) in enumerate(plan):
            cs = self._wm(p)
            ok = (len(cs) == 1 and int(cs[0].get("known_weight_g", 0)) == P[p]
                  and int(cs[0].get("measured_weight_g", 0)) == round(float(w) * 1000)) if want else not cs
            self.expect(ok, DOC_WM, f"advice {P[p]} g; {sick(100 + i, p + ',D-SHA', w, 'kg', se)!r}",
                        f"WEIGHT_MISMATCH cases for {p}: {cs}, want {'one' if want else 'none'}")
        c.close()

    @check
    def test_33_weight_mismatch_advice_protobuf_unbag(self):
        """WEIGHT_MISMATCH from the advice weight, parcel unbagged by a protobuf scanner (event time now)"""
        pa, pb = s10("WC", "50000001", "CN"), s10("WC", "50000002", "CN")
        self._advice("BAG701", {pa: 500, pb: 500})
        now = int(time.time() * 1000)
        sc, w = self.d.session("BB-PB-UNBAG", "UNBAG-9")
        seq = w.welcome.last_durable_seq
        sc.send(bb.event("BB-PB-UNBAG", seq + 1, "UNBAG-9", now, bag_opened=dict(bag_id="BAG701")),
                bb.event("BB-PB-UNBAG", seq + 2, "UNBAG-9", now + 1, parcel_unbagged=dict(parcel_id=pa, bag_id="BAG701")),
                bb.event("BB-PB-UNBAG", seq + 3, "UNBAG-9", now + 2, parcel_unbagged=dict(parcel_id=pb, bag_id="BAG701")))
        fr = sc.until_ack(seq + 3)
        self.require(not bb.rejects(fr), "protobuf unbag", "bag_opened + 2 parcel_unbagged", bb.fmts(fr))
        sc.close()
        c = self.conn("BB-DLDWS")
        s1, s2 = dldws(201, f"{pa},D-SHA", "0.550"), dldws(202, f"{pb},D-SHA", "0.551")
        c.send(s1 + s2)
        self.last_sort(pb)
        time.sleep(0.2)
        c1, c2 = self._wm(pa), self._wm(pb)
        self.expect(not c1, DOC_WM + " (K=500: tol 50 g, 550 is not more than 50 off)", repr(s1), f"cases {c1}")
        self.expect(len(c2) == 1 and c2[0].get("known_weight_g") == "500" and c2[0].get("measured_weight_g") == "551",
                    DOC_WM, repr(s2), f"cases {c2}")
        c.close()

    @check
    def test_34_weight_mismatch_first_trusted_reading(self):
        """known weight = first trusted reading (a scale-error reading is not), once per stay"""
        p = s10("WD", "50000001", "CN")
        c = self.conn("BB-SICK")
        reads = [sick(301, f"{p},D-SHA", "9.000", "kg", "1"),    # scale error: not trusted, never raises
                 sick(302, f"{p},D-SHA", "4.000"),               # first trusted: K = 4000, tol 200
                 sick(303, f"{p},D-SHA", "4.200"),               # not more than 200 off
                 sick(304, f"{p},D-SHA", "4.201"),               # raised
                 sick(305, f"{p},D-SHA", "6.000")]               # once per stay
        for r in reads:
            c.send(r)
            c.replies(1, ETX)
            time.sleep(0.05)
            if r is reads[2]:
                cs = self._wm(p)
                self.expect(not cs, DOC_WM + " (scale-error reading is not the known weight; 4.200 within 200 g of 4.000)",
                            b" ".join(reads[:3]).decode(errors="replace"), f"cases {cs}")
        time.sleep(0.2)
        cs = self._wm(p)
        self.expect(len(cs) == 1 and cs[0].get("known_weight_g") == "4000" and cs[0].get("measured_weight_g") == "4201",
                    DOC_WM, " ".join(repr(r) for r in reads), f"cases {cs}")
        c.close()


class DrainTests(bb.BBTest):
    """SIGTERM: reads already taken are answered before hubd exits 0."""

    @classmethod
    def setUpClass(cls):
        cls.dir = os.path.join(bb.WORK, "devices-drain")
        os.makedirs(cls.dir, exist_ok=True)
        cls.config_text = device_config(cls.dir)
        super().setUpClass()
        cls.ports = device_ports(cls.d)
        cls.d.add_routes(*ROUTES)

    @check
    def test_40_sigterm_answers_what_it_read(self):
        """hubd drained with SIGTERM answers every read it took, then closes and exits 0"""
        c = Tg(self.ports["BB-MULTI"])
        s = s10("DR", "60000001", "CN")
        sent = b"".join(multi(i, s, "D-SHA") for i in range(1, 41))
        c.send(sent)
        time.sleep(0.01)
        self.d.proc.send_signal(signal.SIGTERM)
        got = c.replies(40, b"\r\n", 8.0)
        eof = c.wait_eof(8.0)
        rc = self.d.proc.wait(15)
        objs = [g.split(b",")[0] for g in got]
        okset = all(g in (f"{i + 1},12,\r\n".encode(), f"{i + 1},0,NO_READ\r\n".encode()) for i, g in enumerate(got))
        self.expect(len(got) == 40 and okset and eof and rc == 0,
                    'docs/devices.md: "A read ... that arrives while hubd stops is answered as diverted ... so the '
                    'sorter never waits"; README: SIGTERM drains, "every event already read is applied, committed and '
                    'answered", exit 0', "40 reads then SIGTERM",
                    f"{len(got)} answers (objects {objs[:3]}..{objs[-3:]}), ok={okset}, closed={eof}, rc={rc}")
        c.close()


class ConfigErrorTests(bb.BBTest):
    """Configuration errors stop hubd at start with exit code 2."""

    @classmethod
    def setUpClass(cls):
        cls.d = None

    def _start(self, name, extra_device):
        d_dir = os.path.join(bb.WORK, "devices-cfg-" + name)
        os.makedirs(d_dir, exist_ok=True)
        text = f'device_dir = "{DEVICE_DIR}"\n{bb.TOKENS_TOML}\n[[device]]\n{extra_device}\n'
        d = bb.Hubd("cfg-" + name, config_text=text)
        d.start(expect_ready=False)
        try:
            rc = d.proc.wait(15)
        except Exception:  # noqa: BLE001
            d.kill9()
            rc = "still running after 15 s"
        d.reader.join(2)
        return rc, d.output().decode(errors="replace")[-400:]

    @check
    def test_50_config_errors_exit_2(self):
        """bad profile name, unbag/unload without context_pattern, bad allow_from, bad pattern, bad profile key: exit 2"""
        bad = {
            "profile": 'scanner_id = "C1"\nprofile = "no-such-profile"',
            "unbag": 'scanner_id = "C2"\nprofile = "datalogic-dws"\nkind = "unbag"',
            "unload": 'scanner_id = "C3"\nprofile = "datalogic-dws"\nkind = "unload"',
            "allow": 'scanner_id = "C4"\nprofile = "sick-dws"\nallow_from = ["not-an-ip"]',
            "pattern": 'scanner_id = "C5"\nprofile = "sick-dws"\nparcel_patterns = ["(["]',
            "kind": 'scanner_id = "C6"\nprofile = "sick-dws"\nkind = "weigh"',
        }
        for name, dev in bad.items():
            rc, out = self._start(name, dev)
            self.expect(rc == 2, 'docs/devices.md: "A profile that does not load, a pattern that does not compile, a kind '
                        'without the context it needs, or an allow_from entry that is not an IP address stops hubd at '
                        'start with exit code 2 and the reason."', "[[device]] " + dev.replace("\n", "; "),
                        f"exit {rc}; output tail {out!r}")
