"""One owner per scanner id: fencing (session.proto "One owner per scanner
id", README protocol step 2), and a race of two clients for one id."""
import random
import threading
import time

import bb_lib as bb
from bb_lib import check, fmt, fmts, kind, acks, rejects

DOC_FENCE = ('session.proto: "A hello for a scanner id that already has a session fences the old '
             'session, as a new producer epoch fences an old one: the old session reads no more '
             'frames, everything it had already read is applied and answered, it gets Reject{seq 0, '
             'REJECT_FENCED} and is closed, and only then is the new session welcomed, with a resume '
             'point that covers every event the old one had acked. Two sessions never both feed '
             'events of one scanner."')


class FencingTests(bb.BBTest):

    @check
    def test_01_fence_idle_session(self):
        """second hello fences an idle first session: FENCED, close, then welcome with its acks"""
        sid = "FEN-1"
        a, w = self.d.session(sid, "ST")
        a.send(*[bb.damaged(sid, i, f"FEN1-A{i}") for i in (1, 2, 3)])
        a.until_ack(3, 5)
        f0 = self.d.metric_value("hubd_scanner_sessions_fenced_total") or 0
        b = self.d.scanner(src="127.0.0.2")
        b.send(bb.hello(sid, "ST"))
        wb = b.recv(5)
        # the welcome comes only after A got its reject and was closed
        try:
            fa = a.recv(0.05)
        except TimeoutError:
            fa = "nothing yet"
        self.expect(kind(wb) == "welcome" and wb.welcome.last_durable_seq == 3, DOC_FENCE,
                    "A: hello, seq 1..3 acked; B (127.0.0.2): hello same id", f"B got {fmt(wb)}")
        self.expect(not isinstance(fa, str) and kind(fa) == "reject" and fa.reject.code == bb.S.REJECT_FENCED
                    and fa.reject.seq == 0, DOC_FENCE + " (A's reject must precede B's welcome)",
                    "B hello", f"A, polled right after B's welcome arrived: {fa if isinstance(fa, str) else fmt(fa)}")
        closed, rest = a.drain_until_closed(2)
        self.expect(closed and not rest, DOC_FENCE, "B hello", f"A after the reject: {fmts(rest)} closed={closed}")
        f1 = bb.wait_for(lambda: (self.d.metric_value("hubd_scanner_sessions_fenced_total") or 0) >= f0 + 1, 2)
        self.expect(f1, "README metrics: hubd_scanner_sessions_fenced_total", "one fence",
                    f"{f0} -> {self.d.metric_value('hubd_scanner_sessions_fenced_total')}")
        # B continues where A stopped
        b.send(bb.damaged(sid, 4, "FEN1-B4"))
        fr = b.until_ack(4, 5)
        self.expect(not rejects(fr), DOC_FENCE, "B: seq 4", fmts(fr))
        b.close()

    @check
    def test_02_fence_mid_pipeline(self):
        """fence while the old session streams: it is answered up to what it read, nothing more applied"""
        sid = "FEN-2"
        n = 20000
        a, w = self.d.session(sid, "ST")
        data = b"".join(bb.delimited(bb.damaged(sid, i, f"FEN2-A{i}")) for i in range(1, n + 1))
        t = threading.Thread(target=_sendall, args=(a, data), daemon=True)
        t.start()
        first = a.until_ack(1, 5)
        b = self.d.scanner()
        b.send(bb.hello(sid, "ST"))
        closed, fr = a.drain_until_closed(10)
        fr = first + fr
        wb = b.recv(5)
        a_max = max(acks(fr) or [0])
        fenced_idx = [i for i, f in enumerate(fr) if kind(f) == "reject" and f.reject.code == bb.S.REJECT_FENCED]
        self.expect(closed and fenced_idx and fenced_idx[-1] == len(fr) - 1 and fr[-1].reject.seq == 0,
                    DOC_FENCE, f"A streams seq 1..{n}; B hello after A's first ack",
                    f"A's last frames {fmts(fr[-3:])}, closed={closed}")
        self.expect(kind(wb) == "welcome" and wb.welcome.last_durable_seq == a_max,
                    DOC_FENCE + ' and session.proto REJECT_FENCED: "frames not yet answered were not read"',
                    f"A streams seq 1..{n}; B hello", f"A's highest ack {a_max}; B got {fmt(wb)}")
        t.join(5)
        print(f"      fence: A acked {a_max} of {n} before being fenced", flush=True)
        if kind(wb) != "welcome":
            return
        r = wb.welcome.last_durable_seq
        b.send(*[bb.damaged(sid, s, f"FEN2-B{s}") for s in range(r + 1, r + 11)])
        frb = b.until_ack(r + 10, 5)
        self.expect(not rejects(frb), DOC_FENCE, f"B: seq {r + 1}..{r + 10}", fmts(frb))
        api = bb.ApiSession(self.d)
        for s in sorted({1, max(1, a_max // 2), a_max} | set(range(max(1, a_max - 3), a_max + 1))):
            st, j = api.get_json(f"/v1/parcels/FEN2-A{s}")
            self.expect(st == 200 and len(j.get("entries", [])) == 1, DOC_FENCE,
                        f"A's seq {s} (acked to A)", f"GET /v1/parcels/FEN2-A{s} -> {st}")
        if a_max < n:
            for s in range(a_max + 1, min(n, a_max + 11) + 1):
                st, j = api.get_json(f"/v1/parcels/FEN2-A{s}")
                self.expect(st == 404, DOC_FENCE + " (the old session reads no more frames)",
                            f"A's seq {s}, never acked to A", f"GET /v1/parcels/FEN2-A{s} -> {st} {j}")
        for s in range(r + 1, r + 11):
            st, j = api.get_json(f"/v1/parcels/FEN2-B{s}")
            self.expect(st == 200, DOC_FENCE, f"B's seq {s}", f"GET /v1/parcels/FEN2-B{s} -> {st}")
        api.close()
        b.close()

    @check
    def test_02b_fence_old_session_mid_frame(self):
        """old session stalled half-way through a frame: the new hello is welcomed at once, the half frame dropped"""
        sid = "FEN-3"
        a, w = self.d.session(sid, "ST")
        a.send(bb.damaged(sid, 1, "FEN3-P1"))
        a.until_ack(1, 5)
        full = bb.delimited(bb.damaged(sid, 2, "FEN3-P2"))
        a.send_raw(full[:10])
        b = self.d.scanner()
        t0 = time.monotonic()
        b.send(bb.hello(sid, "ST"))
        wb = b.recv(5)
        dt = time.monotonic() - t0
        self.expect(kind(wb) == "welcome" and wb.welcome.last_durable_seq == 1 and dt < 1.0, DOC_FENCE,
                    "A: seq 1 acked, then 10 bytes of a frame; B: hello same id", f"B got {fmt(wb)} after {dt:.2f}s")
        closed, fr = a.drain_until_closed(2)
        self.expect(closed and fr and kind(fr[-1]) == "reject" and fr[-1].reject.code == bb.S.REJECT_FENCED,
                    DOC_FENCE, "B hello while A is mid-frame", f"A: {fmts(fr)} closed={closed}")
        try:
            a.send_raw(full[10:])
        except OSError:
            pass
        time.sleep(0.1)
        st, _ = self.d.trace("FEN3-P2")
        self.expect(st == 404, DOC_FENCE + " (the old session reads no more frames)",
                    "rest of A's frame after the fence", f"GET /v1/parcels/FEN3-P2 -> {st}")
        b.close()

    @check
    def test_03_race_two_clients_100_rounds(self):
        """100 rounds of 2 (every 5th: 3) clients racing hellos for one id: no acked event lost or taken"""
        sid = "RACE-1"
        rounds = 100
        k = 3  # 3 events per session in even rounds, 40 in odd rounds
        rng = random.Random(1234)
        sessions = []
        for rnd in range(rounds):
            nc = 3 if rnd % 5 == 4 else 2   # every fifth round: three clients
            barrier = threading.Barrier(nc)
            delays = [rng.random() * 0.004 for _ in range(nc)]
            k = 3 if rnd % 2 == 0 else 40
            out = [None] * nc
            ths = [threading.Thread(target=self._racer, args=(sid, rnd, i, barrier, delays[i], k, out),
                                    daemon=True) for i in range(nc)]
            for t in ths:
                t.start()
            for t in ths:
                t.join(15)
            sessions += [o for o in out if o is not None]
        # 1. every hello got a welcome or a FENCED reject; nothing else odd
        odd = [s for s in sessions if s["error"] or (s["welcome"] is None and not s["fenced"])
               or s["other_rejects"]]
        self.expect(not odd, DOC_FENCE, f"{rounds} rounds x 2 clients, hello then {k} events",
                    "; ".join(f"round {s['round']} client {s['client']}: welcome={s['welcome']} "
                              f"fenced={s['fenced']} error={s['error']} rejects={s['other_rejects']} "
                              f"frames={s['frames'][:6]}" for s in odd[:5]))
        # 2. the acked ranges tile 1..final with no overlap
        owner = {}
        overlaps = []
        for s in sessions:
            if s["welcome"] is None:
                continue
            for q in range(s["welcome"] + 1, s["acked"] + 1):
                if q in owner:
                    overlaps.append((q, owner[q], (s["round"], s["client"])))
                owner[q] = (s["round"], s["client"])
        final = max(owner) if owner else 0
        c, w = self.d.session(sid, "ST")
        c.close()
        holes = [q for q in range(1, final + 1) if q not in owner]
        self.expect(not overlaps and not holes and w.welcome.last_durable_seq == final,
                    DOC_FENCE, f"{rounds} racing rounds",
                    f"seqs acked to two sessions: {overlaps[:5]}; seqs acked to none: {holes[:5]}; "
                    f"final resume {w.welcome.last_durable_seq} vs highest ack {final}")
        # 3. through the API: each acked event is the acked client's; unacked ones were not applied
        api = bb.ApiSession(self.d)
        lost, phantom = [], []
        for s in sessions:
            for seq, pid in s["sent"]:
                st, j = api.get_json(f"/v1/parcels/{pid}")
                if seq <= s["acked"]:
                    ents = (j or {}).get("entries", [])
                    ok = (st == 200 and len(ents) == 1 and ents[0]["event"]["scanner_id"] == sid
                          and ents[0]["event"]["seq"] == str(seq))
                    if not ok:
                        lost.append((pid, seq, st, ents[:1]))
                elif st != 404:
                    phantom.append((pid, seq, st))
        api.close()
        self.expect(not lost, DOC_FENCE + ' session.proto Ack: "every event of this session with seq <= '
                    'acked_seq is handled for good: durable"',
                    f"{rounds} racing rounds; GET /v1/parcels/{{id}} for every acked event",
                    f"{len(lost)} acked events missing or taken by the other client: {lost[:5]}")
        self.expect(not phantom, DOC_FENCE + ' ("everything it had already read is applied and answered")',
                    f"{rounds} racing rounds; GET /v1/parcels/{{id}} for every unacked event",
                    f"{len(phantom)} events applied but never acked: {phantom[:5]}")
        print(f"      race: {len(sessions)} sessions, "
              f"{sum(1 for s in sessions if s['welcome'] is not None)} welcomed, "
              f"{sum(1 for s in sessions if s['fenced'])} fenced, final seq {final}", flush=True)

    @check
    def test_04_two_clients_fight_for_one_id(self):
        """two clients keep re-connecting as one scanner id while streaming: acked events all theirs"""
        sid = "FIGHT-1"
        stop = threading.Event()
        sessions = []
        lock = threading.Lock()

        def fighter(idx):
            n = 0
            while not stop.is_set():
                n += 1
                rec = dict(round=n, client=idx, welcome=None, acked=0, sent=[], frames=[], fenced=False,
                           error=None, other_rejects=[])
                try:
                    c = self.d.scanner(src=f"127.0.0.{idx + 1}")
                    c.send(bb.hello(sid, "ST"))
                    deadline = time.monotonic() + 3
                    while time.monotonic() < deadline:
                        f = c.recv(deadline - time.monotonic())
                        if f is None:
                            break
                        kd = kind(f)
                        if kd == "welcome":
                            r = f.welcome.last_durable_seq
                            rec["welcome"] = rec["acked"] = r
                            rec["sent"] = [(r + i, f"FIGHT-{idx}-{n}-{r + i}") for i in range(1, 51)]
                            c.try_send(*[bb.event(sid, q, parcel_unbagged=dict(parcel_id=p, bag_id="FIGHT-BAG"))
                                         for q, p in rec["sent"]])
                        elif kd == "ack":
                            rec["acked"] = max(rec["acked"], f.ack.acked_seq)
                            if rec["sent"] and rec["acked"] >= rec["sent"][-1][0]:
                                break
                        elif kd == "reject":
                            if f.reject.code == bb.S.REJECT_FENCED:
                                rec["fenced"] = True
                            else:
                                rec["other_rejects"].append(fmt(f))
                    c.close()
                except TimeoutError:
                    rec["error"] = "timeout"
                except Exception as e:  # noqa: BLE001
                    rec["error"] = repr(e)
                with lock:
                    sessions.append(rec)
        ths = [threading.Thread(target=fighter, args=(i,), daemon=True) for i in (0, 1)]
        for t in ths:
            t.start()
        time.sleep(1.0)
        stop.set()
        for t in ths:
            t.join(10)
        self._verify_sessions(sid, sessions, "two clients re-connecting for 1 s, 50 events per session",
                              bag="FIGHT-BAG")
        print(f"      fight: {len(sessions)} sessions, {sum(1 for s in sessions if s['fenced'])} fenced", flush=True)

    def _verify_sessions(self, sid, sessions, sent_desc, bag=None):
        odd = [s for s in sessions if s["error"] or s["other_rejects"]]
        self.expect(not odd, DOC_FENCE, sent_desc,
                    "; ".join(f"client {s['client']} #{s['round']}: error={s['error']} rejects={s['other_rejects'][:2]}"
                              for s in odd[:5]))
        owner, overlaps = {}, []
        for s in sessions:
            if s["welcome"] is None:
                continue
            for q in range(s["welcome"] + 1, s["acked"] + 1):
                if q in owner:
                    overlaps.append((q, owner[q], (s["client"], s["round"])))
                owner[q] = (s["client"], s["round"])
        final = max(owner) if owner else 0
        c, w = self.d.session(sid, "ST")
        c.close()
        holes = [q for q in range(1, final + 1) if q not in owner]
        self.expect(not overlaps and not holes and w.welcome.last_durable_seq == final, DOC_FENCE, sent_desc,
                    f"seqs acked to two sessions: {overlaps[:5]}; acked to none: {holes[:5]}; final resume "
                    f"{w.welcome.last_durable_seq} vs highest ack {final}")
        api = bb.ApiSession(self.d)
        lost, phantom = [], []
        if bag:
            # every event went into one bag: its view's history holds them all
            st, j = api.get_json(f"/v1/bags/{bag}")
            hist = {}
            dup = []
            for e in (j or {}).get("history", []):
                ev = e.get("event")
                if ev and ev.get("scanner_id") == sid:
                    q = int(ev["seq"])
                    if q in hist:
                        dup.append(q)
                    hist[q] = ev.get("parcel_unbagged", {}).get("parcel_id")
            self.expect(st == 200 and not (j or {}).get("truncated") and not dup, DOC_FENCE,
                        f"GET /v1/bags/{bag}", f"{st}, truncated={(j or {}).get('truncated')}, seqs twice {dup[:5]}")
            applied = set(hist.values())
            for s in sessions:
                for q, p in s["sent"]:
                    if q <= s["acked"]:
                        if hist.get(q) != p:
                            lost.append((p, q, hist.get(q)))
                    elif p in applied:
                        phantom.append((p, q))
        for s in (sessions if not bag else []):
            acked = [(q, p) for q, p in s["sent"] if q <= s["acked"]]
            unacked = [(q, p) for q, p in s["sent"] if q > s["acked"]]
            # every acked event, and the first few unacked ones
            for q, p in acked + unacked[:3]:
                st, j = api.get_json(f"/v1/parcels/{p}")
                if q <= s["acked"]:
                    ents = (j or {}).get("entries", [])
                    if not (st == 200 and len(ents) == 1 and ents[0]["event"]["seq"] == str(q)
                            and ents[0]["event"]["scanner_id"] == sid):
                        lost.append((p, q, st))
                elif st != 404:
                    phantom.append((p, q, st))
        api.close()
        self.expect(not lost, DOC_FENCE, sent_desc + "; the log (API view) of every acked event",
                    f"{len(lost)} acked events missing or not theirs: {lost[:5]}")
        self.expect(not phantom, DOC_FENCE, sent_desc + "; the log (API view) of unacked events",
                    f"{len(phantom)} applied but never acked: {phantom[:5]}")

    def _racer(self, sid, rnd, idx, barrier, delay, k, out):
        rec = dict(round=rnd, client=idx, welcome=None, acked=0, sent=[], frames=[], fenced=False,
                   error=None, other_rejects=[])
        out[idx] = rec
        c = None
        try:
            c = self.d.scanner(src=f"127.0.0.{idx + 1}")
            barrier.wait(5)
            time.sleep(delay)
            c.send(bb.hello(sid, "ST"))
            deadline = time.monotonic() + 8
            target = None
            while time.monotonic() < deadline:
                try:
                    f = c.recv(deadline - time.monotonic())
                except TimeoutError:
                    rec["error"] = "timeout"
                    break
                if f is None:
                    if rec["welcome"] is None and not rec["fenced"]:
                        rec["error"] = "closed without welcome or FENCED"
                    break
                rec["frames"].append(fmt(f))
                kd = kind(f)
                if kd == "welcome":
                    r = f.welcome.last_durable_seq
                    rec["welcome"] = r
                    rec["acked"] = r
                    rec["sent"] = [(r + i, f"RACE-{rnd}-{idx}-{r + i}") for i in range(1, k + 1)]
                    rec["k"] = k
                    target = r + k
                    c.try_send(*[bb.damaged(sid, q, p) for q, p in rec["sent"]])
                elif kd == "ack":
                    rec["acked"] = max(rec["acked"], f.ack.acked_seq)
                    if target is not None and rec["acked"] >= target:
                        break
                elif kd == "reject":
                    if f.reject.code == bb.S.REJECT_FENCED:
                        rec["fenced"] = True
                    else:
                        rec["other_rejects"].append(fmt(f))
        except Exception as e:  # noqa: BLE001
            rec["error"] = repr(e)
        finally:
            if c:
                c.close()


def _sendall(c, data):
    try:
        c.send_raw(data)
    except OSError:
        pass
