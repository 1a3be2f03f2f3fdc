// Unit tests of the page's pure modules under Node's test runner: the
// server-sent events parser (web/js/sse.js) and the time forms the page
// reads (web/js/time.js). Run: node --test tests/browser/modules_test.mjs
import test from 'node:test';
import assert from 'node:assert/strict';
import { SseParser } from '../../web/js/sse.js';
import { setZone, parseWhen, formatTime, isoTime, offsetAt, hourLabel, setHubClock } from '../../web/js/time.js';

function parse(chunks) {
  const events = [];
  const comments = [];
  const p = new SseParser((e) => events.push(e), (c) => comments.push(c));
  for (const c of chunks) p.push(c);
  return { events, comments };
}

const STREAM = 'event: hello\ndata: {"hub_seq":"7"}\n\n: keep-alive\n\nevent: case\nid: 9\ndata: {"id":"1","status":"OPEN"}\n\n';

test('sse: events, ids and comments', () => {
  const { events, comments } = parse([STREAM]);
  assert.deepEqual(events, [
    { event: 'hello', data: '{"hub_seq":"7"}', id: '' },
    { event: 'case', data: '{"id":"1","status":"OPEN"}', id: '9' },
  ]);
  assert.deepEqual(comments, ['keep-alive']);
});

test('sse: the same events from every split of the stream', () => {
  const whole = parse([STREAM]).events;
  for (let i = 0; i <= STREAM.length; i++) {
    for (let j = i; j <= STREAM.length; j += 7) {
      const got = parse([STREAM.slice(0, i), STREAM.slice(i, j), STREAM.slice(j)]).events;
      assert.deepEqual(got, whole, `split at ${i}, ${j}`);
    }
  }
});

test('sse: CRLF and CR line ends, a CRLF split between chunks', () => {
  const crlf = STREAM.replace(/\n/g, '\r\n');
  assert.deepEqual(parse([crlf]).events, parse([STREAM]).events);
  const cut = crlf.indexOf('\r\n') + 1;
  assert.deepEqual(parse([crlf.slice(0, cut), crlf.slice(cut)]).events, parse([STREAM]).events);
  // A lone CR at the end may be half a CRLF: the parser waits for the next byte.
  const cr = STREAM.replace(/\n/g, '\r');
  assert.equal(parse([cr]).events.length, 1);
  assert.deepEqual(parse([cr, 'x']).events, parse([STREAM]).events);
});

test('sse: multi-line data, no space after the colon, default event, unfinished event held', () => {
  const { events } = parse(['data:a\ndata: b\n\nevent: case\ndata: x']);
  assert.deepEqual(events, [{ event: 'message', data: 'a\nb', id: '' }]);
});

test('time: the hub zone, not the machine\'s', () => {
  setZone('Asia/Shanghai');
  assert.equal(formatTime(1795730400000), '2026-11-27 06:00:00');
  assert.equal(isoTime(1795730400000), '2026-11-27T06:00:00+08:00');
  assert.equal(offsetAt(1795730400000), '+08:00');
  assert.equal(hourLabel(1795730400000 + 3599000), '06:00');
  assert.equal(formatTime(0), '');
  setZone('No/Such_Zone');
  assert.equal(isoTime(1795730400000), '2026-11-26T22:00:00+00:00');
});

test('time: the API\'s time forms', () => {
  setZone('Asia/Shanghai');
  assert.equal(parseWhen(''), null);
  assert.equal(parseWhen('2026-11-27T06:00:00+08:00'), Date.parse('2026-11-26T22:00:00Z'));
  assert.equal(parseWhen('2026-11-26T22:00:00Z'), Date.parse('2026-11-26T22:00:00Z'));
  assert.equal(parseWhen('2026-11-27T06:00'), Date.parse('2026-11-26T22:00:00Z'));
  assert.equal(parseWhen('2026-11-27'), Date.parse('2026-11-26T16:00:00Z'));
  assert.equal(parseWhen('1795730400000'), 1795730400000);
  setHubClock(Date.now());
  const eightHours = Date.now() - parseWhen('8h');
  assert.ok(Math.abs(eightHours - 8 * 3600000) < 1000, `8h is ${eightHours} ms`);
  assert.throws(() => parseWhen('yesterday'), /not a time/);
  // A zone with summer time: the offset of the date, not of today.
  setZone('Europe/Berlin');
  assert.equal(parseWhen('2026-07-01T12:00'), Date.parse('2026-07-01T10:00:00Z'));
  assert.equal(parseWhen('2026-01-01T12:00'), Date.parse('2026-01-01T11:00:00Z'));
});
