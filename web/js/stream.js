// The live case stream, GET /v1/exceptions/stream (docs/api.md), read with
// fetch() and a ReadableStream so it can carry the bearer token.
//
// Events fired (CustomEvent, details in `detail`):
//   'hello'  {hub_seq}   the stream is live: every change after hub_seq
//                        follows. Views (re)load their lists after it.
//   'case'   case        a case raised or changed, in hub order.
//   'state'  {state, message}  'connecting', 'live' or 'down' (retrying).
// On overflow, a dropped connection or 45 s without a byte (the server
// sends a keep-alive every 15 s), it reconnects with a growing pause; the
// next 'hello' tells views to read their lists again.

import { ApiError, authHeaders, errorOf } from './api.js';
import { SseParser } from './sse.js';

const SILENCE_MS = 45000;
const BACKOFF_MS = [1000, 2000, 5000, 10000, 30000];

export class CaseStream extends EventTarget {
  constructor(path = '/v1/exceptions/stream') {
    super();
    this.path = path;
    this.state = 'idle';
    this.failures = 0;
    this.stopped = true;
    this.hubSeq = null;
  }

  start() {
    if (!this.stopped) return;
    this.stopped = false;
    this.connect();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    clearInterval(this.watchdog);
    if (this.ctrl) this.ctrl.abort();
    this.setState('idle');
  }

  setState(state, message = '') {
    this.state = state;
    this.message = message;
    this.dispatchEvent(new CustomEvent('state', { detail: { state, message } }));
  }

  async connect() {
    const ctrl = new AbortController();
    this.ctrl = ctrl;
    this.setState('connecting');
    let last = Date.now();
    clearInterval(this.watchdog);
    this.watchdog = setInterval(() => {
      if (Date.now() - last > SILENCE_MS) ctrl.abort(new Error('no keep-alive for 45 s'));
    }, 5000);
    let why;
    try {
      const res = await fetch(this.path, {
        headers: { Accept: 'text/event-stream', ...authHeaders() },
        cache: 'no-store',
        signal: ctrl.signal,
      });
      if (!res.ok) throw await errorOf(res, this.path);
      const parser = new SseParser((ev) => this.onEvent(ev, ctrl));
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        last = Date.now();
        parser.push(value);
      }
      why = 'the stream ended';
    } catch (e) {
      why = ctrl.signal.aborted && ctrl.signal.reason instanceof Error ? ctrl.signal.reason.message : e.message;
      if (e instanceof ApiError && e.status === 401) {
        window.dispatchEvent(new CustomEvent('hub:unauthorized', { detail: e }));
        this.stop();
        return;
      }
      if (e instanceof ApiError) why = `${e.message} (HTTP ${e.status})`;
    } finally {
      clearInterval(this.watchdog);
    }
    if (this.stopped || this.ctrl !== ctrl) return;
    const pause = this.overflowed ? 0 : BACKOFF_MS[Math.min(this.failures, BACKOFF_MS.length - 1)];
    this.overflowed = false;
    this.failures += 1;
    this.setState('down', `live updates paused: ${why}; retrying in ${Math.round(pause / 1000)} s`);
    this.retryTimer = setTimeout(() => { if (!this.stopped) this.connect(); }, pause);
  }

  onEvent(ev, ctrl) {
    if (ctrl !== this.ctrl) return;
    let data;
    try {
      data = JSON.parse(ev.data);
    } catch {
      return;  // not ours to show; the list stays right after a reload
    }
    if (ev.event === 'hello') {
      this.failures = 0;
      this.hubSeq = data.hub_seq;
      this.setState('live');
      this.dispatchEvent(new CustomEvent('hello', { detail: data }));
    } else if (ev.event === 'case') {
      this.dispatchEvent(new CustomEvent('case', { detail: data }));
    } else if (ev.event === 'overflow') {
      this.overflowed = true;
      ctrl.abort(new Error('the page fell behind the stream'));
    }
  }
}
