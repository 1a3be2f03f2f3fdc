// A minimal scanner for the browser test: speaks hubd's scanner protocol
// (proto/hub/v1/session.proto: varint-length-delimited ClientFrame /
// ServerFrame) from the .proto field numbers alone, enough to send a hello
// and one parcel_damaged event and wait for its ack.

import net from 'node:net';

function varint(n) {
  let v = BigInt(n);
  const out = [];
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v) b |= 0x80;
    out.push(b);
  } while (v);
  return Buffer.from(out);
}

const tag = (field, wire) => varint((field << 3) | wire);
const str = (field, s) => { const b = Buffer.from(s, 'utf8'); return Buffer.concat([tag(field, 2), varint(b.length), b]); };
const num = (field, n) => Buffer.concat([tag(field, 0), varint(n)]);
const msg = (field, body) => Buffer.concat([tag(field, 2), varint(body.length), body]);
const frame = (body) => Buffer.concat([varint(body.length), body]);

// ClientFrame{hello{scanner_id, station, version: 1}}
export function helloFrame(scannerId, station) {
  return frame(msg(1, Buffer.concat([str(1, scannerId), str(2, station), num(4, 1)])));
}

// ClientFrame{event{scanner_id, seq, event_time_ms, station, parcel_damaged{parcel_id, weight_g, note}}}
export function damagedFrame(scannerId, station, seq, timeMs, parcelId, weightG, note) {
  const damaged = Buffer.concat([str(1, parcelId), num(2, weightG), str(3, note)]);
  const ev = Buffer.concat([str(1, scannerId), num(2, seq), num(3, timeMs), str(4, station), msg(25, damaged)]);
  return frame(msg(2, ev));
}

function readVarint(buf, pos) {
  let v = 0n;
  let shift = 0n;
  for (let i = pos; i < buf.length; i++) {
    v |= BigInt(buf[i] & 0x7f) << shift;
    if (!(buf[i] & 0x80)) return [v, i + 1];
    shift += 7n;
  }
  return null;
}

// Top-level fields of a message: [[field, wire, value(Buffer|BigInt)]].
function fields(buf) {
  const out = [];
  let pos = 0;
  while (pos < buf.length) {
    const [key, p] = readVarint(buf, pos);
    const field = Number(key >> 3n);
    const wire = Number(key & 7n);
    if (wire === 0) {
      const [v, q] = readVarint(buf, p);
      out.push([field, wire, v]);
      pos = q;
    } else if (wire === 2) {
      const [len, q] = readVarint(buf, p);
      out.push([field, wire, buf.subarray(q, q + Number(len))]);
      pos = q + Number(len);
    } else {
      throw new Error(`unexpected wire type ${wire}`);
    }
  }
  return out;
}

// Sends hello + one damaged scan; resolves once hubd acks its seq, rejects
// on a reject, a close or after timeoutMs.
export function sendDamaged({ port, scannerId, station, parcelId, timeMs, note = 'browser test', timeoutMs = 10000 }) {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    let buf = Buffer.alloc(0);
    let seq = null;
    const timer = setTimeout(() => { sock.destroy(); reject(new Error('no ack from hubd in time')); }, timeoutMs);
    const done = (err, v) => { clearTimeout(timer); sock.end(); err ? reject(err) : resolve(v); };
    sock.on('connect', () => sock.write(helloFrame(scannerId, station)));
    sock.on('error', (e) => done(e));
    sock.on('close', () => done(new Error('hubd closed the scanner connection')));
    sock.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      for (;;) {
        const lv = readVarint(buf, 0);
        if (!lv || buf.length < lv[1] + Number(lv[0])) return;
        const body = buf.subarray(lv[1], lv[1] + Number(lv[0]));
        buf = buf.subarray(lv[1] + Number(lv[0]));
        const [[field, , value]] = fields(body);
        if (field === 1) {  // welcome{last_durable_seq}
          const last = fields(value).find(([f]) => f === 1);
          seq = (last ? last[2] : 0n) + 1n;
          sock.write(damagedFrame(scannerId, station, seq, timeMs, parcelId, 100, note));
        } else if (field === 2) {  // ack{acked_seq}
          const acked = fields(value).find(([f]) => f === 1)?.[2] ?? 0n;
          if (seq !== null && acked >= seq) return done(null, Number(seq));
        } else if (field === 4) {  // reject{seq, code, reason}
          const reason = fields(value).find(([f]) => f === 3)?.[2]?.toString() ?? '';
          return done(new Error(`hubd rejected the scan: ${reason}`));
        }
      }
    });
  });
}
