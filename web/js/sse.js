// A server-sent events parser (the text/event-stream format of the HTML
// standard) for streams read with fetch(): EventSource cannot send an
// Authorization header. Feed it text as it arrives; it calls onEvent with
// {event, data, id} at each blank line that ends an event with data, and
// onComment for comment lines (': keep-alive').

export class SseParser {
  constructor(onEvent, onComment = () => {}) {
    this.onEvent = onEvent;
    this.onComment = onComment;
    this.buf = '';
    this.reset();
    this.lastId = '';
  }

  reset() {
    this.event = '';
    this.data = [];
  }

  push(text) {
    this.buf += text;
    for (;;) {
      const m = /\r\n|\r|\n/.exec(this.buf);
      if (!m) break;
      // A CR at the very end may be the first half of a CRLF: wait.
      if (m[0] === '\r' && m.index === this.buf.length - 1) break;
      const line = this.buf.slice(0, m.index);
      this.buf = this.buf.slice(m.index + m[0].length);
      this.line(line);
    }
  }

  line(line) {
    if (line === '') {
      if (this.data.length) {
        this.onEvent({ event: this.event || 'message', data: this.data.join('\n'), id: this.lastId });
      }
      this.reset();
      return;
    }
    if (line.startsWith(':')) {
      this.onComment(line.slice(1).trim());
      return;
    }
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') this.event = value;
    else if (field === 'data') this.data.push(value);
    else if (field === 'id' && !value.includes('\0')) this.lastId = value;
    // 'retry' and unknown fields: ignored.
  }
}
