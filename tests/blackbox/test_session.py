"""Scanner session protocol: hello/welcome, pipelining, acks, decisions,
re-sends, seq rules and reject codes, hostile frames (session.proto,
README "The scanner protocol")."""
import re
import threading
import time

import bb_lib as bb
from bb_lib import check, fmt, fmts, kind, acks, rejects, decisions

DOC_RESEND = ('session.proto: "An event whose seq is already used -- at or below the Welcome\'s '
              'last_durable_seq, or at or below a seq already sent on this connection -- is a re-send, '
              'on any connection: it is acked again and changes nothing. A re-sent sort scan is '
              'answered with the decision it was given the first time; a re-sent event that was '
              'rejected for its content is rejected again the same way."')
DOC_REUSED = ('session.proto: "A different event sent under a used seq is not a re-send: it is '
              'refused with REJECT_SEQ_REUSED (it is neither applied nor silently dropped) and must '
              'be sent with the next seq."; RejectCode: "REJECT_SEQ_REUSED = 13; // consumes (the seq '
              'was already used)"')
DOC_BADSEQ = ('session.proto: "Within a session the next new seq must be exactly one more than '
              'the last; seq 0 and gaps are rejected with REJECT_BAD_SEQ, whose reason names the '
              'seq expected."')
DOC_NOTCONSUME = ('session.proto RejectCode: "does not consume: the event was not taken and its seq '
                  'is still the one expected next (the ack does not cover it); later events of the '
                  'same pipeline are rejected with REJECT_BAD_SEQ until that seq is sent again."')
DOC_CONSUME = ('session.proto RejectCode: "consumes: the event is handled for good (the ack covers '
               'it). Its seq is used up: the next event takes seq + 1; a corrected scan takes a new '
               'seq. Re-sending the same seq gets the same reject again and changes nothing."')
DOC_ORDER = ('README: "After each group commit it gets, in order: a `decision` for each sort scan '
             '(route, chute, load, or a divert reason), a `reject` (code, reason) for each event '
             'that could not be applied, and a cumulative `ack`"')
DOC_LIMIT_FRAME = ('session.proto: "A frame longer than the daemon\'s configured maximum, or that '
                   'does not parse, closes the session." / README: "A frame that does not parse, '
                   'or exceeds `--max-frame`, closes that session only."')
DOC_HELLO_REFUSED = ('README: "A hello refused (bad id, wrong or missing credential, a client '
                     'certificate naming another scanner, hubd shutting down) gets a `reject` with '
                     'seq 0 and the session is closed."')

MAX_FRAME = 4096


def unknown_kind_event(sid, seq):
    f = bb.S.ClientFrame()
    f.event.scanner_id = sid
    f.event.seq = seq
    f.event.event_time_ms = 1767225600000
    f.event.station = "ST-BB"
    return f


def raw_event_with_unknown_body(sid, seq):
    """ClientFrame{event} whose ScanEvent carries an unknown field 99
    (a body 'this daemon lacks')."""
    f = unknown_kind_event(sid, seq)
    ev = f.event.SerializeToString() + bytes([0x9A, 0x06, 0x03]) + b"abc"  # field 99, LEN
    cf = bytes([0x12]) + bb.varint(len(ev)) + ev  # ClientFrame.event = 2
    return bb.varint(len(cf)) + cf


class SessionTests(bb.BBTest):
    daemon_args = ["--max-frame", str(MAX_FRAME)]

    @classmethod
    def extra_setup(cls):
        cls.d.add_routes(("D-BB", "R-BB", "C-BB", "L-BB"), ("D-RS", "R-RS", "C-RS", "L-RS"))

    # ------------------------------------------------------------ hello
    @check
    def test_01_hello_welcome_new_scanner(self):
        """hello for a never-seen scanner -> welcome{last_durable_seq 0, version 1}"""
        c = self.d.scanner()
        w = c.do_hello("NEW-1", "ST-1")
        self.require(kind(w) == "welcome",
                     'session.proto: "daemon -> ServerFrame{welcome} resume point"',
                     "hello{NEW-1}", fmt(w))
        self.expect(w.welcome.last_durable_seq == 0,
                    'session.proto Welcome: "0 for a scanner never seen."', "hello{NEW-1}", fmt(w))
        self.expect(w.welcome.version == bb.S.PROTOCOL_VERSION_1,
                    "Welcome.version: protocol version spoken (PROTOCOL_VERSION_1)",
                    "hello{NEW-1}", fmt(w))
        c.close()

    @check
    def test_02_credential_ignored_without_credentials(self):
        """daemon without scanner credentials: any credential is ignored"""
        c = self.d.scanner()
        w = c.do_hello("NOCRED-1", "ST", credential="whatever-secret")
        self.expect(kind(w) == "welcome",
                    'session.proto Hello.credential: "Ignored when the daemon has no credentials '
                    'configured"', 'hello{NOCRED-1, credential "whatever-secret"}', fmt(w))
        c.close()

    @check
    def test_03_event_before_hello(self):
        """event before hello -> reject NOT_HELLO (seq kept, session open), then hello works"""
        c = self.d.scanner()
        c.send(bb.damaged("PRE-1", 1, "PRE-P1"))
        f = c.recv(3)
        self.expect(kind(f) == "reject" and f.reject.code == bb.S.REJECT_NOT_HELLO
                    and f.reject.seq == 1,
                    'session.proto: "REJECT_NOT_HELLO = 6; // does not consume: event before the '
                    'hello"; Reject.seq "seq is the event\'s"',
                    "event{PRE-1 seq 1} before any hello", fmt(f))
        w = c.do_hello("PRE-1", "ST")
        self.require(kind(w) == "welcome",
                     'session.proto: REJECT_NOT_HELLO is not marked "closes": the session stays open',
                     "event seq 1, then hello{PRE-1}", fmt(w))
        self.expect(w.welcome.last_durable_seq == 0, DOC_NOTCONSUME,
                    "event seq 1 before hello, then hello", fmt(w))
        c.send(bb.damaged("PRE-1", 1, "PRE-P1"))
        fr = c.until_ack(1, 3)
        self.expect(not rejects(fr), DOC_NOTCONSUME, "event seq 1 again after welcome", fmts(fr))
        c.close()

    @check
    def test_04_hello_twice(self):
        """second hello on a session -> Reject{seq 0, NOT_HELLO}, session stays open"""
        c, w = self.d.session("TWICE-1", "ST")
        c.send(bb.hello("TWICE-OTHER", "ST"))
        f = c.recv(3)
        self.expect(kind(f) == "reject" and f.reject.code == bb.S.REJECT_NOT_HELLO
                    and f.reject.seq == 0,
                    'session.proto: "REJECT_NOT_HELLO ... seq 0: hello sent twice"',
                    "hello{TWICE-1}, hello{TWICE-OTHER}", fmt(f))
        c.send(bb.damaged("TWICE-1", 1, "TWICE-P1"), bb.damaged("TWICE-OTHER", 2, "TWICE-P2"))
        fr = c.until_ack(1, 3)
        if not any(kind(x) == "reject" and x.reject.seq == 2 for x in fr):
            fr += c.recv_until(lambda x: kind(x) == "reject" and x.reject.seq == 2, 3)
        rj = {r.seq: r.code for r in rejects(fr)}
        self.expect(rj.get(2) == bb.S.REJECT_SCANNER_MISMATCH,
                    'session.proto Hello: "every event of the session carries the same scanner_id" '
                    '(the first hello\'s); REJECT_SCANNER_MISMATCH',
                    "after the second hello: event{TWICE-1 seq 1}, event{TWICE-OTHER seq 2}", fmts(fr))
        self.expect(1 in acks(fr) or any(a >= 1 for a in acks(fr)),
                    "NOT_HELLO does not close: the session goes on", "event{TWICE-1 seq 1}", fmts(fr))
        c.close()

    @check
    def test_05_hello_unsupported_version(self):
        """hello with an unsupported version -> Reject{0, BAD_ENUM} and close"""
        c = self.d.scanner()
        c.send(bb.hello("VER-1", "ST", version=7))
        closed, fr = c.drain_until_closed(3)
        ok = (len(fr) >= 1 and kind(fr[0]) == "reject" and fr[0].reject.code == bb.S.REJECT_BAD_ENUM
              and fr[0].reject.seq == 0)
        self.expect(ok and closed,
                    'session.proto: "REJECT_BAD_ENUM ... on a hello, an unsupported version (closes)"',
                    "hello{VER-1, version 7}", f"{fmts(fr)} closed={closed}")

    @check
    def test_06_hello_bad_ids_refused(self):
        """hello ids: empty/65-byte/control-char scanner id or station -> reject seq 0 + close"""
        cases = [
            ("", "ST", None),
            ("S" * 65, "ST", bb.S.REJECT_ID_TOO_LONG),
            ("CTL\x01X", "ST", bb.S.REJECT_BAD_ID),
            ("NL\nX", "ST", bb.S.REJECT_BAD_ID),
            ("ESC\x1bX", "ST", bb.S.REJECT_BAD_ID),
            ("DEL\x7fX", "ST", bb.S.REJECT_BAD_ID),
            ("OKID-1", "ST\x02", bb.S.REJECT_BAD_ID),
            ("OKID-2", "T" * 65, bb.S.REJECT_ID_TOO_LONG),
        ]
        for sid, st, code in cases:
            c = self.d.scanner()
            c.send(bb.hello(sid, st))
            closed, fr = c.drain_until_closed(3)
            r = fr[0].reject if fr and kind(fr[0]) == "reject" else None
            ok = r is not None and r.seq == 0 and closed and (code is None or r.code == code)
            self.expect(ok, DOC_HELLO_REFUSED + ' session.proto Hello: "1..64 printable bytes (no '
                        'control characters)"; "REJECT_BAD_ID ... on a hello (seq 0): closes"',
                        f"hello{{scanner_id {sid!r}, station {st!r}}}",
                        f"{fmts(fr)} closed={closed}")
        c, w = self.d.session("M" * 64, "N" * 64)
        c.close()

    @check
    def test_06b_c1_control_characters(self):
        """C1 control characters (U+0080..U+009F, e.g. U+009B CSI) in ids are refused like C0 ones"""
        c = self.d.scanner()
        c.send(bb.hello("C1\u009b31mX", "ST"))
        closed, fr = c.drain_until_closed(2)
        r = fr[0].reject if fr and kind(fr[0]) == "reject" else None
        self.expect(r is not None and r.code == bb.S.REJECT_BAD_ID and closed,
                    'session.proto Hello: "1..64 printable bytes (no control characters)"; README: "ids with '
                    'control characters are refused before they can reach a log"',
                    "hello{scanner_id 'C1' U+009B(CSI) '31mX'}", f"{fmts(fr)} closed={closed}")
        sid = "C1-EV"
        c, w = self.d.session(sid, "ST")
        c.send(bb.damaged(sid, 1, "P\u0085NEL"), bb.damaged(sid, 2, "P\u009b2J"))
        fr = c.until_ack(2, 5)
        rj = {x.seq: x.code for x in rejects(fr)}
        self.expect(rj.get(1) == bb.S.REJECT_BAD_ID and rj.get(2) == bb.S.REJECT_BAD_ID,
                    'session.proto: "REJECT_BAD_ID = 9; // consumes: an id holds a control character"',
                    "parcel ids with U+0085 (NEL) and U+009B (CSI)", fmts(fr))
        c.close()
        out = self.d.output()
        self.expect(b"\xc2\x9b" not in out and b"\xc2\x85" not in out,
                    'README: "ids with control characters are refused before they can reach a log"',
                    "ids with U+009B / U+0085", "the daemon log contains the raw C1 bytes (c2 9b / c2 85)"
                    if (b"\xc2\x9b" in out or b"\xc2\x85" in out) else "ok")

    @check
    def test_06c_utf8_ids_accepted(self):
        """printable UTF-8 ids (Chinese station and parcel ids) are accepted; 64-byte limit is in bytes"""
        sid = "UTF-1"
        c, w = self.d.session(sid, "分拨中心")
        c.send(bb.damaged(sid, 1, "包裹-1", station="分拨-3"), bb.damaged(sid, 2, "汉" * 21),
               bb.damaged(sid, 3, "汉" * 22))
        fr = c.until_ack(3, 5)
        rj = {x.seq: x.code for x in rejects(fr)}
        self.expect(1 not in rj and 2 not in rj and rj.get(3) == bb.S.REJECT_ID_TOO_LONG,
                    'event.proto: "Identifiers ... are printable strings of 1..64 bytes"',
                    "parcel '包裹-1' at station '分拨-3'; parcel of 21 x '汉' (63 bytes); of 22 x '汉' (66 bytes)",
                    fmts(fr))
        c.close()

    # ------------------------------------------------------------ events
    @check
    def test_07_pipelined_events_cumulative_acks(self):
        """200 events in one write -> cumulative, non-decreasing acks up to 200; resume 200"""
        sid = "PIPE-1"
        c, w = self.d.session(sid, "ST")
        c.send(*[bb.damaged(sid, i, f"PIPE-P{i}") for i in range(1, 201)])
        fr = c.until_ack(200, 10)
        a = acks(fr)
        self.expect(a == sorted(a) and all(x <= 200 for x in a) and not rejects(fr),
                    'session.proto Ack: "Cumulative"; README: "streams ClientFrame{event} with seq '
                    '= resume point + 1, + 2, ..., as many frames per write as it likes"',
                    "events seq 1..200 in one write", f"acks {a} rejects {rejects(fr)}")
        c.close()
        c2, w2 = self.d.session(sid, "ST")
        self.expect(w2.welcome.last_durable_seq == 200,
                    'session.proto Welcome: "Highest seq of this scanner that is durable."',
                    "reconnect after ack 200", fmt(w2))
        c2.close()
        for i in (1, 100, 200):
            st, j = self.d.trace(f"PIPE-P{i}")
            ents = (j or {}).get("entries", [])
            self.expect(st == 200 and len(ents) == 1 and ents[0]["event"]["seq"] == str(i),
                        'docs/api.md: "They cover every record acknowledged before the request"',
                        f"GET /v1/parcels/PIPE-P{i}", f"{st} {j}")

    @check
    def test_08_sort_decisions(self):
        """sort scans: routed / no-read / no-route / held, decision before the covering ack"""
        sid = "SORT-1"
        self.d.add_hold("SORT-HELD")
        c, w = self.d.session(sid, "SORTER")
        c.send(bb.sorted_scan(sid, 1, "SORT-P1", "D-BB"),
               bb.sorted_scan(sid, 2, "", "D-BB"),
               bb.sorted_scan(sid, 3, "SORT-P3", "D-NOWHERE"),
               bb.sorted_scan(sid, 4, "SORT-HELD", "D-BB"),
               bb.sorted_scan(sid, 5, "SORT-P5", ""))
        fr = c.until_ack(5, 5)
        ds = {d.seq: d for d in decisions(fr)}
        exp = {
            1: dict(parcel_id="SORT-P1", route_code="R-BB", chute="C-BB", load_id="L-BB",
                    divert=bb.S.DIVERT_NONE),
            2: dict(parcel_id="", route_code="", divert=bb.S.DIVERT_NO_READ),
            3: dict(parcel_id="SORT-P3", route_code="", divert=bb.S.DIVERT_NO_ROUTE),
            4: dict(parcel_id="SORT-HELD", route_code="", divert=bb.S.DIVERT_HELD),
            5: dict(parcel_id="SORT-P5", route_code="", divert=bb.S.DIVERT_NO_ROUTE),
        }
        for seq, want in exp.items():
            dcs = ds.get(seq)
            ok = dcs is not None and all(getattr(dcs, k) == v for k, v in want.items())
            self.expect(ok, 'session.proto SortDecision: "sent for every accepted ParcelSorted, '
                        'after it is durable"; "Route, chute and load when routed."; "Set instead '
                        'when the parcel must be diverted"; event.proto: empty destination "is treated '
                        'as an unclear address (地址不详, NO_ROUTE)"',
                        f"parcel_sorted seq {seq}", f"decision {fmt(dcs)} (wanted {want})")
        self.expect(not rejects(fr), "valid sort scans are not rejected", "5 sort scans", fmts(fr))
        # ordering: each decision before the first ack covering it
        seen = set()
        for f in fr:
            if kind(f) == "decision":
                seen.add(f.decision.seq)
            if kind(f) == "ack":
                missing = [s for s in range(1, f.ack.acked_seq + 1) if s not in seen]
                self.expect(not missing, DOC_ORDER, "5 sort scans pipelined",
                            f"ack {f.ack.acked_seq} arrived before decisions for {missing}: {fmts(fr)}")
                if missing:
                    break
        c.close()

    @check
    def test_09_resend_same_connection(self):
        """re-send at or below the acked mark on the same connection: acked again, no effect"""
        sid = "RSC-1"
        c, w = self.d.session(sid, "ST")
        c.send(*[bb.damaged(sid, i, f"RSC-P{i}") for i in (1, 2, 3)])
        c.until_ack(3, 5)
        dup0 = self.d.metric_value("hubd_duplicate_events_total") or 0
        st0, summ0, _ = self.d.api_json("GET", "/v1/summary", token=bb.VIEWER_TOKEN)
        # same seq, different content: refused, changes nothing; same content: a re-send
        c.send(bb.damaged(sid, 2, "RSC-X2"), bb.damaged(sid, 3, "RSC-P3"))
        fr = c.until_ack(3, 5)
        rj = rejects(fr)
        self.expect(len(rj) == 1 and rj[0].seq == 2 and rj[0].code == bb.S.REJECT_SEQ_REUSED
                    and acks(fr) and acks(fr)[-1] >= 3, DOC_REUSED + " / " + DOC_RESEND,
                    "after ack 3: event seq 2 (new content RSC-X2), event seq 3 (same content)",
                    fmts(fr))
        st, j = self.d.trace("RSC-X2")
        self.expect(st == 404, DOC_RESEND + " (changes nothing)",
                    "re-sent seq 2 with parcel RSC-X2; GET /v1/parcels/RSC-X2", f"{st} {j}")
        st, j = self.d.trace("RSC-P3")
        self.expect(st == 200 and len(j.get("entries", [])) == 1, DOC_RESEND,
                    "seq 3 sent twice; GET /v1/parcels/RSC-P3", f"{st} {j}")
        st1, summ1, _ = self.d.api_json("GET", "/v1/summary", token=bb.VIEWER_TOKEN)
        self.expect(summ0 and summ1 and summ0.get("events_applied") == summ1.get("events_applied"),
                    DOC_RESEND + ' (api.md summary: "the scan events applied since hubd started")',
                    "re-sends of seq 2, 3", f"events_applied {summ0 and summ0.get('events_applied')} -> "
                    f"{summ1 and summ1.get('events_applied')}")
        dup1 = self.d.metric_value("hubd_duplicate_events_total") or 0
        self.expect(dup1 >= dup0 + 2, "README metrics: hubd_duplicate_events_total (re-sends)",
                    "2 re-sends", f"hubd_duplicate_events_total {dup0} -> {dup1}")
        # the session carries on with the next new seq
        c.send(bb.damaged(sid, 4, "RSC-P4"))
        fr = c.until_ack(4, 5)
        self.expect(not rejects(fr), "next new seq after re-sends is last + 1", "seq 4", fmts(fr))
        c.close()

    @check
    def test_10_resend_new_connection(self):
        """re-send on a new connection (all of 1..3 again, then 4): acked, no effect"""
        sid = "RSN-1"
        c, w = self.d.session(sid, "ST")
        c.send(*[bb.damaged(sid, i, f"RSN-P{i}") for i in (1, 2, 3)])
        c.until_ack(3, 5)
        c.close()
        c, w = self.d.session(sid, "ST")
        self.expect(w.welcome.last_durable_seq == 3, 'Welcome: "Highest seq of this scanner that is durable."',
                    "reconnect after ack 3", fmt(w))
        c.send(*[bb.damaged(sid, i, f"RSN-Y{i}") for i in (1, 2, 3)], bb.damaged(sid, 4, "RSN-P4"))
        fr = c.until_ack(4, 5)
        self.expect(sorted((r.seq, r.code) for r in rejects(fr))
                    == [(i, bb.S.REJECT_SEQ_REUSED) for i in (1, 2, 3)], DOC_REUSED,
                    "new connection: seqs 1,2,3 again (other content), then 4", fmts(fr))
        c.send(*[bb.damaged(sid, i, f"RSN-P{i}") for i in (1, 2, 3)])
        fr = c.until_ack(4, 5)
        self.expect(not rejects(fr), DOC_RESEND, "new connection: seqs 1,2,3 again (same content)",
                    fmts(fr))
        for i in (1, 2, 3):
            st, j = self.d.trace(f"RSN-Y{i}")
            self.expect(st == 404, DOC_RESEND, f"re-send of seq {i} with parcel RSN-Y{i}", f"trace {st}")
            st, j = self.d.trace(f"RSN-P{i}")
            self.expect(st == 200 and len(j.get("entries", [])) == 1, DOC_RESEND,
                        f"GET /v1/parcels/RSN-P{i}", f"{st} {j}")
        c.close()

    @check
    def test_11_resent_sort_gets_original_decision(self):
        """re-sent sort scan (same and new connection, after the route changed) -> original decision"""
        sid = "RSD-1"
        c, w = self.d.session(sid, "SORTER")
        c.send(bb.sorted_scan(sid, 1, "RSD-P1", "D-RS"), bb.sorted_scan(sid, 2, "RSD-P2", "D-RS"))
        fr = c.until_ack(2, 5)
        orig = {d.seq: d for d in decisions(fr)}
        self.require(1 in orig and orig[1].route_code == "R-RS", "routed decision", "sort seq 1", fmts(fr))
        self.d.add_routes(("D-RS", "R-RS-NEW", "C-NEW", "L-NEW"))
        c.send(bb.sorted_scan(sid, 1, "RSD-P1", "D-RS"))
        fr = c.until_ack(2, 5)
        ds = decisions(fr)
        self.expect(len(ds) == 1 and ds[0] == orig[1], DOC_RESEND,
                    "same connection, after the route of D-RS changed: sort seq 1 again",
                    f"{fmts(fr)}; original {fmt(orig[1])}")
        c.close()
        c, w = self.d.session(sid, "SORTER")
        # on a new connection the same scans get their original decisions
        c.send(bb.sorted_scan(sid, 2, "RSD-P2", "D-RS"), bb.sorted_scan(sid, 1, "RSD-P1", "D-RS"))
        fr = c.until_ack(2, 5)
        got = {d.seq: d for d in decisions(fr)}
        for s in (1, 2):
            self.expect(got.get(s) == orig[s], DOC_RESEND,
                        f"new connection: sort seq {s} again", f"{fmt(got.get(s))}; original {fmt(orig[s])}")
        self.expect(not rejects(fr), DOC_RESEND, "re-sent sort scans", fmts(fr))
        # another destination under a used seq is another scan: refused, no decision
        c.send(bb.sorted_scan(sid, 2, "RSD-P2", "D-BB"))
        fr = c.until_ack(2, 5)
        self.expect(not decisions(fr) and [r.code for r in rejects(fr)] == [bb.S.REJECT_SEQ_REUSED],
                    DOC_REUSED, "new connection: sort seq 2 with another destination", fmts(fr))
        st, j = self.d.trace("RSD-P1")
        self.expect(st == 200 and len(j.get("entries", [])) == 1
                    and j["entries"][0].get("decision", {}).get("route_code") == "R-RS",
                    DOC_RESEND, "GET /v1/parcels/RSD-P1 after re-sends", f"{st} {j}")
        c.close()

    @check
    def test_11b_resent_sort_with_other_content(self):
        """a sort scan with other content (another parcel id, a no-read) under a used seq is refused, never given a decision"""
        sid = "RSD-2"
        c, w = self.d.session(sid, "SORTER")
        c.send(bb.sorted_scan(sid, 1, "RSD2-P1", "D-BB"))
        fr = c.until_ack(1, 5)
        orig = decisions(fr)
        self.require(orig, "decision", "sort seq 1", fmts(fr))

        def refused(what, frames):
            self.expect(not decisions(frames) and [r.code for r in rejects(frames)] == [bb.S.REJECT_SEQ_REUSED]
                        and acks(frames) and acks(frames)[-1] >= 1, DOC_REUSED, what, fmts(frames))
        c.send(bb.sorted_scan(sid, 1, "RSD2-OTHER", "D-BB"))
        refused("after ack 1: sort seq 1 again with parcel RSD2-OTHER", c.until_ack(1, 5))
        c.close()
        c, w = self.d.session(sid, "SORTER")
        c.send(bb.sorted_scan(sid, 1, "RSD2-OTHER", "D-BB"))
        refused("new connection: sort seq 1 with parcel RSD2-OTHER", c.until_ack(1, 5))
        c.send(bb.sorted_scan(sid, 1, "", "D-BB"))
        refused("new connection: sort seq 1 with an empty parcel id", c.until_ack(1, 5))
        st, j = self.d.trace("RSD2-OTHER")
        self.expect(st == 404, DOC_REUSED, "GET /v1/parcels/RSD2-OTHER after the refused scans", f"{st} {j}")
        c.send(bb.sorted_scan(sid, 1, "RSD2-P1", "D-BB"))
        fr = c.until_ack(1, 5)
        self.expect(decisions(fr) == orig and not rejects(fr), DOC_RESEND,
                    "new connection: the same sort seq 1 again", f"{fmts(fr)}; original {fmts(orig)}")
        c.close()

    @check
    def test_11c_resent_sort_history_cases(self):
        """re-sent sort: parcel re-sorted since, sorted by another scanner, held, no-read, retired"""
        sid, sid2 = "RSD-3", "RSD-4"
        E = bb.event
        c, w = self.d.session(sid, "SORTER")
        c.send(bb.sorted_scan(sid, 1, "RSD3-X", "D-BB"), bb.sorted_scan(sid, 2, "RSD3-X", "D-NOWHERE"),
               bb.sorted_scan(sid, 3, "", "D-BB"), bb.sorted_scan(sid, 4, "RSD3-H", "D-BB"),
               bb.sorted_scan(sid, 5, "RSD3-R", "D-BB"),
               E(sid, 6, bag_created=dict(bag_id="RSD3-OB", destination="R-BB")),
               E(sid, 7, parcel_bagged=dict(parcel_id="RSD3-R", bag_id="RSD3-OB")),
               E(sid, 8, bag_closed=dict(bag_id="RSD3-OB", label_count=1)),
               E(sid, 9, load_opened=dict(load_id="L-BB", vehicle_id="T-RSD3", route_code="R-BB")),
               E(sid, 10, bag_loaded=dict(bag_id="RSD3-OB", load_id="L-BB")),
               E(sid, 11, load_departed=dict(load_id="L-BB", seal_id="SEAL-RSD3")))
        fr = c.until_ack(11, 5)
        orig = {d.seq: d for d in decisions(fr)}
        self.require(set(orig) == {1, 2, 3, 4, 5}, "decisions for the sort scans", "seq 1..5", fmts(fr))
        c2, _ = self.d.session(sid2, "SORTER")
        c2.send(bb.sorted_scan(sid2, 1, "RSD3-X", "D-RS"))
        c2.until_ack(1, 5)
        c2.close()
        self.d.add_hold("RSD3-H")
        for label, conn_new in (("same connection", False), ("new connection", True)):
            if conn_new:
                c.close()
                c, w = self.d.session(sid, "SORTER")
            c.send(*[bb.sorted_scan(sid, q, p, dst) for q, p, dst in
                     ((1, "RSD3-X", "D-BB"), (2, "RSD3-X", "D-NOWHERE"), (3, "", "D-BB"),
                      (4, "RSD3-H", "D-BB"), (5, "RSD3-R", "D-BB"))])
            fr = c.until_ack(5, 5)
            got = {d.seq: d for d in decisions(fr)}
            for q, what in ((1, "parcel sorted again later (seq 2) and by another scanner"),
                            (2, "the later sort of the same parcel"), (3, "no-read"),
                            (4, "parcel held after its decision"), (5, "parcel retired (its load departed)")):
                self.expect(got.get(q) == orig[q], DOC_RESEND, f"{label}: re-send sort seq {q} ({what})",
                            f"got {fmt(got.get(q))}, original {fmt(orig[q])}")
        c.close()

    @check
    def test_12_seq_zero(self):
        """seq 0 -> BAD_SEQ naming the expected seq, not consumed, session open"""
        sid = "SEQ0-1"
        c, w = self.d.session(sid, "ST")
        c.send(bb.damaged(sid, 1, "SEQ0-P1"))
        c.until_ack(1, 5)
        c.send(bb.damaged(sid, 0, "SEQ0-Z"), bb.ping(77))
        fr = c.recv_until(lambda f: kind(f) == "pong", 5)
        rj = rejects(fr)
        self.expect(len(rj) == 1 and rj[0].code == bb.S.REJECT_BAD_SEQ and "2" in rj[0].reason
                    and rj[0].seq == 0, DOC_BADSEQ, "after ack 1: event seq 0", fmts(fr))
        self.expect(all(a <= 1 for a in acks(fr)), DOC_NOTCONSUME, "event seq 0", fmts(fr))
        st, _ = self.d.trace("SEQ0-Z")
        self.expect(st == 404, DOC_NOTCONSUME, "event seq 0 parcel SEQ0-Z", f"trace {st}")
        c.send(bb.damaged(sid, 2, "SEQ0-P2"))
        fr = c.until_ack(2, 5)
        self.expect(not rejects(fr), DOC_BADSEQ, "then seq 2", fmts(fr))
        c.close()

    @check
    def test_13_seq_gap(self):
        """gap -> BAD_SEQ naming expected; not consumed; later pipeline BAD_SEQ; resend fixes"""
        sid = "GAP-1"
        c, w = self.d.session(sid, "ST")
        c.send(bb.damaged(sid, 1, "GAP-P1"), bb.damaged(sid, 2, "GAP-P2"))
        c.until_ack(2, 5)
        c.send(bb.damaged(sid, 5, "GAP-A5"), bb.damaged(sid, 6, "GAP-A6"), bb.ping(1))
        fr = c.recv_until(lambda f: kind(f) == "pong", 5)
        rj = {r.seq: r for r in rejects(fr)}
        for s in (5, 6):
            r = rj.get(s)
            self.expect(r is not None and r.code == bb.S.REJECT_BAD_SEQ and "3" in r.reason,
                        DOC_BADSEQ, "after ack 2: events seq 5, 6", fmts(fr))
        self.expect(all(a <= 2 for a in acks(fr)), DOC_NOTCONSUME, "after ack 2: seq 5, 6", fmts(fr))
        c.close()
        c, w = self.d.session(sid, "ST")
        self.expect(w.welcome.last_durable_seq == 2, DOC_NOTCONSUME,
                    "reconnect after BAD_SEQ rejects of 5, 6", fmt(w))
        c.send(*[bb.damaged(sid, i, f"GAP-B{i}") for i in (3, 4, 5, 6)])
        fr = c.until_ack(6, 5)
        self.expect(not rejects(fr), DOC_NOTCONSUME, "seqs 3..6 after reconnect", fmts(fr))
        for s in (5, 6):
            st, _ = self.d.trace(f"GAP-A{s}")
            self.expect(st == 404, DOC_NOTCONSUME, f"rejected seq {s} (GAP-A{s})", f"trace {st}")
            st, _ = self.d.trace(f"GAP-B{s}")
            self.expect(st == 200, DOC_NOTCONSUME, f"seq {s} sent again (GAP-B{s})", f"trace {st}")
        c.close()

    @check
    def test_14_scanner_mismatch_not_consumed(self):
        """SCANNER_MISMATCH does not consume; later pipeline gets BAD_SEQ until that seq is resent"""
        sid = "MIS-1"
        c, w = self.d.session(sid, "ST")
        c.send(bb.damaged(sid, 1, "MIS-P1"))
        c.until_ack(1, 5)
        c.send(bb.damaged("MIS-OTHER", 2, "MIS-A2"), bb.damaged(sid, 3, "MIS-A3"),
               bb.damaged(sid, 4, "MIS-A4"), bb.ping(9))
        fr = c.recv_until(lambda f: kind(f) == "pong", 5)
        rj = {r.seq: r.code for r in rejects(fr)}
        self.expect(rj.get(2) == bb.S.REJECT_SCANNER_MISMATCH,
                    'session.proto: "REJECT_SCANNER_MISMATCH = 7; // does not consume: the event\'s '
                    'scanner_id differs from the hello\'s"', "event{MIS-OTHER seq 2}", fmts(fr))
        self.expect(rj.get(3) == bb.S.REJECT_BAD_SEQ and rj.get(4) == bb.S.REJECT_BAD_SEQ,
                    DOC_NOTCONSUME, "pipeline: seq 2 (wrong scanner), 3, 4", fmts(fr))
        self.expect(all(a <= 1 for a in acks(fr)), DOC_NOTCONSUME, "seq 2 (wrong scanner)", fmts(fr))
        c.send(*[bb.damaged(sid, i, f"MIS-B{i}") for i in (2, 3, 4)])
        fr = c.until_ack(4, 5)
        self.expect(not rejects(fr), DOC_NOTCONSUME, "seq 2, 3, 4 sent again correctly", fmts(fr))
        for s in (3, 4):
            st, _ = self.d.trace(f"MIS-A{s}")
            self.expect(st == 404, DOC_NOTCONSUME, f"BAD_SEQ-rejected seq {s}", f"trace {st}")
        c.close()

    @check
    def test_15_content_rejects_consume(self):
        """UNKNOWN_KIND, MISSING_ID, ID_TOO_LONG, BAD_ENUM, BAD_ID, BAD_TIME consume the seq, acked"""
        sid = "CON-1"
        c, w = self.d.session(sid, "ST")
        bad_enum = bb.sorted_scan(sid, 4, "CON-P4", "D-BB")
        bad_enum.event.parcel_sorted.service_class = 99
        hold_bad = bb.event(sid, 9, hold_placed=dict(parcel_id="CON-P9", reason=42, note="x"))
        frames = [
            (1, bb.S.REJECT_UNKNOWN_KIND, unknown_kind_event(sid, 1), "event without a body"),
            (2, bb.S.REJECT_MISSING_ID, bb.damaged(sid, 2, ""), "parcel_damaged.parcel_id empty"),
            (3, bb.S.REJECT_ID_TOO_LONG, bb.damaged(sid, 3, "L" * 65), "parcel id of 65 bytes"),
            (4, bb.S.REJECT_BAD_ENUM, bad_enum, "service_class 99"),
            (5, bb.S.REJECT_BAD_ID, bb.damaged(sid, 5, "CON\x07P5"), "parcel id with BEL"),
            (6, None, bb.damaged(sid, 6, "CON-P6"), "valid"),
            (7, bb.S.REJECT_UNKNOWN_KIND, raw_event_with_unknown_body(sid, 7),
             "event with only an unknown field 99 as body"),
            (8, bb.S.REJECT_BAD_ID, bb.damaged(sid, 8, "CON-P8", station="ST\x1b[31m"),
             "station with ESC"),
            (9, bb.S.REJECT_BAD_ENUM, hold_bad, "hold_placed.reason 42"),
            (10, bb.S.REJECT_BAD_ID, bb.damaged(sid, 10, "CON\x7fP10"), "parcel id with DEL (0x7f)"),
            (11, None, bb.damaged(sid, 11, "L" * 64), "parcel id of 64 bytes"),
            (12, bb.S.REJECT_BAD_TIME,
             bb.event(sid, 12, t_ms=int(time.time() * 1000) + 366 * 86400 * 1000,
                      parcel_damaged=dict(parcel_id="CON-P12", weight_g=100)),
             "event_time_ms a year after hubd's clock"),
        ]
        data = b"".join(f if isinstance(f, bytes) else bb.delimited(f) for _, _, f, _ in frames)
        c.send_raw(data)
        fr = c.until_ack(12, 5)
        rj = {r.seq: r for r in rejects(fr)}
        for seq, code, _, what in frames:
            r = rj.get(seq)
            if code is None:
                self.expect(r is None, "valid event accepted", f"seq {seq}: {what}", fmt(r))
            else:
                self.expect(r is not None and r.code == code and r.reason,
                            DOC_CONSUME + f" ({bb.code_name(code)})", f"seq {seq}: {what}",
                            f"{fmt(r)}")
        self.expect(acks(fr)[-1] == 12, DOC_CONSUME, "seqs 1..12", fmts(fr))
        self.expect(not any(d.seq == 4 for d in decisions(fr)),
                    'session.proto SortDecision: "sent for every accepted ParcelSorted"',
                    "seq 4: parcel_sorted with service_class 99 (rejected)", fmts(fr))
        fields = {2: "parcel_id", 3: "parcel_id", 4: "service_class", 5: "parcel_id", 8: "station",
                  9: "reason", 10: "parcel_id"}
        for q, field in fields.items():
            r = rj.get(q)
            self.expect(r is not None and field in r.reason,
                        'session.proto Reject.reason: "Human-readable, names the offending field."',
                        f"seq {q}", fmt(r))
        first = dict(rj)
        # same connection: re-send the rejected ones -> same reject again
        c.send_raw(b"".join(f if isinstance(f, bytes) else bb.delimited(f)
                            for s, code, f, _ in frames if code is not None))
        fr2 = c.until_ack(12, 5)
        rj2 = {r.seq: r for r in rejects(fr2)}
        for seq, code, _, what in frames:
            if code is None:
                continue
            r = rj2.get(seq)
            self.expect(r is not None and r.code == first[seq].code and r.reason == first[seq].reason,
                        DOC_RESEND + " / " + DOC_CONSUME, f"same connection re-send seq {seq}: {what}",
                        f"first {fmt(first.get(seq))}, again {fmt(r)}")
        c.close()
        # new connection: resume point past them, the same reject again
        c, w = self.d.session(sid, "ST")
        self.expect(w.welcome.last_durable_seq == 12,
                    'README: "the ack covers it, the resume point moves past it (durably)"',
                    "reconnect", fmt(w))
        c.send(bb.damaged(sid, 3, "L" * 65), bb.damaged(sid, 2, "CON-FIXED2"))
        fr3 = c.until_ack(3, 5)
        rj3 = {r.seq: r for r in rejects(fr3)}
        self.expect(3 in rj3 and rj3[3].code == bb.S.REJECT_ID_TOO_LONG, DOC_RESEND,
                    "new connection: re-send of content-rejected seq 3 (same content)", fmts(fr3))
        st, _ = self.d.trace("CON-FIXED2")
        self.expect(st == 404, DOC_CONSUME + ' README: "send the corrected scan with a **new** seq"',
                    "new connection: seq 2 re-sent with corrected parcel CON-FIXED2", f"trace {st}")
        c.send(bb.damaged(sid, 13, "CON-FIXED13"))
        fr4 = c.until_ack(13, 5)
        self.expect(not rejects(fr4), DOC_CONSUME + " (a corrected scan takes a new seq)", "seq 13",
                    fmts(fr4))
        c.close()

    @check
    def test_16_consumed_tail_is_resume_point(self):
        """a content reject as the last event moves the resume point past it"""
        sid = "TAIL-1"
        c, w = self.d.session(sid, "ST")
        c.send(bb.damaged(sid, 1, "TAIL-P1"), bb.damaged(sid, 2, ""))
        fr = c.until_ack(2, 5)
        c.close()
        c, w = self.d.session(sid, "ST")
        self.expect(w.welcome.last_durable_seq == 2,
                    'README: "Content rejects ... do: the event is final, the ack covers it, the '
                    'resume point moves past it (durably)"', "seq 1 ok, seq 2 MISSING_ID, reconnect",
                    f"{fmts(fr)} then {fmt(w)}")
        c.close()

    @check
    def test_17_duplicate_within_pipeline(self):
        """the same new seq twice in one pipeline: applied once"""
        sid = "DUPP-1"
        c, w = self.d.session(sid, "ST")
        c.send(bb.damaged(sid, 1, "DUPP-P1"), bb.damaged(sid, 1, "DUPP-X1"),
               bb.damaged(sid, 2, "DUPP-P2"))
        fr = c.until_ack(2, 5)
        st, _ = self.d.trace("DUPP-X1")
        self.expect(st == 404, DOC_RESEND + ' SPEC §5: "exactly-once effect"',
                    "pipeline seq 1 (DUPP-P1), seq 1 (DUPP-X1), seq 2", f"{fmts(fr)}; trace DUPP-X1 {st}")
        c.close()

    @check
    def test_18_ping_pong(self):
        """ping before and after hello -> pong with the same nonce"""
        c = self.d.scanner()
        c.send(bb.ping(2 ** 64 - 1))
        f = c.recv(3)
        self.expect(kind(f) == "pong" and f.pong.nonce == 2 ** 64 - 1,
                    'session.proto Ping: "answered with a Pong carrying the same nonce. Allowed before '
                    'and after the hello."', "ping{nonce 2^64-1} before hello", fmt(f))
        w = c.do_hello("PING-1", "ST")
        self.expect(kind(w) == "welcome", "ping before hello does not break the hello", "hello", fmt(w))
        c.send(bb.ping(0), bb.ping(42))
        fr = [c.recv(3), c.recv(3)]
        self.expect([kind(x) for x in fr] == ["pong", "pong"] and [x.pong.nonce for x in fr] == [0, 42],
                    'session.proto Ping: "answered with a Pong carrying the same nonce"',
                    "ping 0, ping 42 after hello", fmts(fr))
        c.close()

    @check
    def test_18b_byte_by_byte_frames(self):
        """a pipeline delivered one byte per TCP segment is decoded and answered normally"""
        sid = "DRIP-1"
        c, w = self.d.session(sid, "ST")
        data = b"".join(bb.delimited(bb.damaged(sid, i, f"DRIP-P{i}")) for i in range(1, 21))
        for i in range(len(data)):
            c.send_raw(data[i:i + 1])
        fr = c.until_ack(20, 5)
        self.expect(not rejects(fr), 'README: "as many frames per write as it likes" (and frames split '
                    'over writes)', f"20 events, {len(data)} bytes, one byte per write", fmts(fr))
        c.close()

    # ------------------------------------------------------------ hostile frames
    def _bystander(self, sid):
        c, w = self.d.session(sid, "ST")
        c.send(bb.damaged(sid, w.welcome.last_durable_seq + 1, f"{sid}-{time.monotonic_ns()}"))
        c.until_ack(w.welcome.last_durable_seq + 1, 5)
        return c, w.welcome.last_durable_seq + 1

    def _bystander_ok(self, c, sid, seq, what):
        c.send(bb.ping(123), bb.damaged(sid, seq + 1, f"{sid}-{time.monotonic_ns()}"))
        try:
            fr = c.until_ack(seq + 1, 5)
            ok = any(kind(f) == "pong" for f in fr) and not rejects(fr)
        except (TimeoutError, bb.Closed) as e:
            fr, ok = [repr(e)], False
        self.expect(ok, DOC_LIMIT_FRAME, f"bystander session after {what}", fmts(fr) if ok else str(fr))
        return seq + 1

    @check
    def test_19_malformed_frames_close_only_that_session(self):
        """unparsable frame / bad varint / garbage close that session only"""
        by, bseq = self._bystander("BYST-1")
        cases = [
            ("truncated field inside a frame (len 3: 0a 05 61)", b"\x03\x0a\x05a", True),
            ("invalid wire type inside a frame", b"\x02\x0f\x01", True),
            ("varint length of 11 bytes", b"\xff" * 11, True),
            ("frame of 5 bytes ff ff ff ff ff", b"\x05\xff\xff\xff\xff\xff", True),
            ("unparsable frame before any hello", b"\x03\x0a\x05a", False),
            ("event whose parcel id is invalid UTF-8 (proto3 string)", None, True),
        ]
        for what, data, after_hello in cases:
            c = self.d.scanner()
            if after_hello:
                w = c.do_hello(f"MAL-{abs(hash(what)) % 10000}", "ST")
            if data is None:
                raw = bb.damaged("MAL-U", 1, "PLACEHOLDER1").SerializeToString().replace(
                    b"PLACEHOLDER1", b"P\xff\xfe\xc3\x28XXXXXXX")
                data = bb.varint(len(raw)) + raw
            c.send_raw(data)
            closed, fr = c.drain_until_closed(3)
            self.expect(closed, DOC_LIMIT_FRAME, what, f"{fmts(fr)} closed={closed}")
            c.close()
            bseq = self._bystander_ok(by, "BYST-1", bseq, what)
        st, body = self.d.http("GET", "/healthz")
        self.expect(st == 200, 'SPEC §6: "no crash, no corruption, no other session disturbed"',
                    "malformed frames", f"/healthz {st}")
        by.close()

    @check
    def test_20_oversized_frames(self):
        """frame over --max-frame closes at once; frame within it works"""
        by, bseq = self._bystander("BYST-2")
        sid = "BIG-1"
        c, w = self.d.session(sid, "ST")
        # a Ping padded with an unknown field to exactly the maximum frame size, then one byte more
        def padded_ping(total, nonce):
            pad = total - 16
            while True:
                ping = bytes([0x08, nonce]) + bytes([0x9A, 0x06]) + bb.varint(pad) + b"p" * pad
                cf = bytes([0x1A]) + bb.varint(len(ping)) + ping
                if len(cf) == total:
                    return cf
                pad += total - len(cf)
        cf = padded_ping(MAX_FRAME, 7)
        c.send_raw(bb.varint(len(cf)) + cf)
        fr = c.recv_until(lambda x: kind(x) == "pong", 3)
        self.expect(fr[-1] is not None and fr[-1].pong.nonce == 7,
                    'session.proto: "A frame longer than the daemon\'s configured maximum ... closes the '
                    'session" (so a frame of exactly the maximum does not)',
                    f"ClientFrame{{ping}} padded with an unknown field to exactly {len(cf)} bytes "
                    f"(max {MAX_FRAME})", fmts(fr))
        cf = padded_ping(MAX_FRAME + 1, 8)
        c.send_raw(bb.varint(len(cf)) + cf)
        closed, fr = c.drain_until_closed(3)
        self.expect(closed and not any(kind(x) == "pong" for x in fr), DOC_LIMIT_FRAME,
                    f"valid ClientFrame{{ping}} of {len(cf)} bytes (max {MAX_FRAME})",
                    f"{fmts(fr)} closed={closed}")
        bseq = self._bystander_ok(by, "BYST-2", bseq, "oversized frame")
        # only a length prefix announcing 10 MB: closed at once
        c = self.d.scanner()
        c.do_hello("BIG-2", "ST")
        t0 = time.monotonic()
        c.send_raw(bb.varint(10_000_000))
        closed, fr = c.drain_until_closed(3)
        dt = time.monotonic() - t0
        self.expect(closed and dt < 1.5, DOC_LIMIT_FRAME,
                    "length prefix of 10,000,000 bytes and nothing else",
                    f"{fmts(fr)} closed={closed} after {dt:.2f}s")
        bseq = self._bystander_ok(by, "BYST-2", bseq, "announced 10 MB frame")
        # same before the hello
        c = self.d.scanner()
        c.send_raw(bb.varint(MAX_FRAME * 4) + b"\x0a")
        closed, fr = c.drain_until_closed(3)
        self.expect(closed, DOC_LIMIT_FRAME, f"before hello: prefix of {MAX_FRAME * 4} bytes",
                    f"{fmts(fr)} closed={closed}")
        by.close()

    @check
    def test_20b_free_text_note_limit(self):
        """free-text note: 1024 bytes accepted; 2000 bytes rejected (ID_TOO_LONG, consumes) naming the note"""
        doc = ('event.proto: "Free-text notes are at most 1024 bytes (longer: REJECT_ID_TOO_LONG) and may '
               'hold any text."; session.proto: "REJECT_ID_TOO_LONG = 3; // consumes: an id exceeds 64 '
               'bytes, or a free-text note 1024 bytes"')
        sid = "NOTE-1"
        c, w = self.d.session(sid, "ST")
        c.send(bb.event(sid, 1, parcel_damaged=dict(parcel_id="NOTE-P1", weight_g=5, note="n\n" * 512)),
               bb.event(sid, 2, parcel_damaged=dict(parcel_id="NOTE-P2", weight_g=5, note="n" * 2000)))
        fr = c.until_ack(2, 5)
        rj = rejects(fr)
        self.expect(len(rj) == 1 and rj[0].seq == 2 and rj[0].code == bb.S.REJECT_ID_TOO_LONG
                    and "note" in rj[0].reason and acks(fr) and acks(fr)[-1] >= 2, doc,
                    "seq 1: note of 1024 bytes with newlines; seq 2: note of 2000 bytes", fmts(fr))
        c.close()

    @check
    def test_21_control_chars_never_reach_logs(self):
        """ids with control characters are refused before any log; spaced ids are quoted"""
        c = self.d.scanner()
        c.send(bb.hello("X\nevent=forged scanner=EVIL", "ST"))
        c.drain_until_closed(2)
        c = self.d.scanner()
        c.send(bb.hello("LOGT-1", "A\rB\x1b[2J"))
        c.drain_until_closed(2)
        # a frame whose string field is not UTF-8 (does not parse: closes the session)
        c = self.d.scanner()
        h = bb.hello("PLACEHOLDER1").SerializeToString().replace(b"PLACEHOLDER1", b"H\xc3\x28XXXXXXXXX")
        c.send_raw(bb.varint(len(h)) + h)
        c.drain_until_closed(2)
        c, w = self.d.session('SC Q=1"x', "ST A")
        c.send(bb.damaged('SC Q=1"x', 1, "LOG\x00P"), bb.damaged('SC Q=1"x', 2, "LOG\nevent=forged2"))
        c.until_ack(2, 5)
        c.close()
        time.sleep(0.2)
        out = self.d.output()
        bad = sorted({b for b in out if (b < 0x20 and b not in (0x0a,)) or b == 0x7f})
        self.expect(not bad, 'README: "ids with control characters are refused before they can reach '
                    'a log"', "hellos/events with \\n, \\r, ESC, NUL in ids",
                    f"daemon output contains control bytes {bad}")
        forged = [l for l in out.split(b"\n") if l.startswith(b"event=forged")]
        self.expect(not forged, 'README: "a value that holds spaces, `=` or quotes is quoted, and ids '
                    'with control characters are refused before they can reach a log"',
                    "scanner_id 'X\\nevent=forged ...'", f"forged log lines {forged}")
        odd = [l for l in out.split(b"\n")
               if l and not re.match(rb"^ts=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z level=\w+ event=\w+", l)]
        self.expect(not odd, 'README: "Logs are logfmt lines (`ts=2026-11-30T09:49:56.157Z level=info '
                    'event=ready listen=127.0.0.1:7400 ...`)"', "hellos with control characters, a hello whose scanner_id is invalid UTF-8 (and the "
                    "hostile frames of the checks before)", f"{len(odd)} log lines not in that form, e.g. {odd[:2]}")
        unquoted = [l for l in out.split(b"\n") if b'SC Q=1' in l and b'"SC Q=1' not in l]
        self.expect(not unquoted, 'README: "a value that holds spaces, `=` or quotes is quoted"',
                    "hello scanner_id 'SC Q=1\"x'", f"log lines {unquoted[:3]}")

    @check
    def test_22_backpressure_nothing_dropped(self):
        """30000 sort scans sent without reading answers: all answered once the scanner reads"""
        sid = "BP-1"
        n = 30000
        c, w = self.d.session(sid, "SORTER")
        data = b"".join(bb.delimited(bb.sorted_scan(sid, i, f"BP{i}", "D-BB")) for i in range(1, n + 1))
        done = threading.Event()
        err = []

        def sender():
            try:
                c.send_raw(data)
            except OSError as e:
                err.append(repr(e))
            done.set()
        t = threading.Thread(target=sender, daemon=True)
        t.start()
        done.wait(1.5)   # do not read meanwhile: the daemon must hold back, not drop
        ndec = 0
        last = 0
        rj = []
        deadline = time.monotonic() + 30
        while last < n and time.monotonic() < deadline:
            f = c.recv(max(0.1, deadline - time.monotonic()))
            if f is None:
                break
            k = kind(f)
            if k == "decision":
                ndec += 1
            elif k == "ack":
                last = f.ack.acked_seq
            elif k == "reject":
                rj.append(f.reject)
        t.join(5)
        self.expect(last == n and ndec == n and not rj and not err,
                    'README: "A scanner that stops reading its answers is no longer read from (TCP '
                    'pushes back on it); nothing is dropped."',
                    f"{n} sort scans in one write, answers read only after 1.5 s",
                    f"last ack {last}, decisions {ndec}, rejects {len(rj)} {rj[:2]}, send errors {err}")
        c.close()
