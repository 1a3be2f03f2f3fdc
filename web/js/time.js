// Times in the hub's time zone (GET /v1/hub's time_zone), whatever the
// browser's zone: Intl.DateTimeFormat with that zone. Also the time forms
// the API takes (docs/api.md, "Times"), read here so the worklist can tell
// whether a streamed case falls in its window.

let zone = 'UTC';
let parts = null;
let skewMs = 0;  // hubd's clock minus this browser's

function build() {
  parts = new Intl.DateTimeFormat('en-GB', {
    timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit',
    hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23',
    timeZoneName: 'longOffset',
  });
}
build();

// Sets the zone (an IANA name); an unknown one falls back to UTC, which the
// page then shows.
export function setZone(name) {
  try {
    new Intl.DateTimeFormat('en-GB', { timeZone: name });
    zone = name;
  } catch {
    zone = 'UTC';
  }
  build();
  return zone;
}

export function hubZone() { return zone; }

export function setHubClock(hubNowMs) {
  skewMs = Number(hubNowMs) - Date.now();
}

// hubd's clock, as far as this page can tell.
export function hubNow() { return Date.now() + skewMs; }

function fields(ms) {
  const out = {};
  for (const p of parts.formatToParts(new Date(ms))) out[p.type] = p.value;
  // 'GMT+08:00' -> '+08:00'; 'GMT' -> '+00:00'
  const off = out.timeZoneName === 'GMT' ? '+00:00' : out.timeZoneName.replace('GMT', '');
  return { ...out, offset: off };
}

// The zone's UTC offset at `ms` (now by default), e.g. '+08:00'.
export function offsetAt(ms = Date.now()) { return fields(ms).offset; }

export function zoneLabel() { return `${zone} (UTC${offsetAt()})`; }

// '2026-11-27 06:00:12' in the hub's zone; '' for no time.
export function formatTime(ms) {
  const n = Number(ms);
  if (!ms || !Number.isFinite(n)) return '';
  const f = fields(n);
  return `${f.year}-${f.month}-${f.day} ${f.hour}:${f.minute}:${f.second}`;
}

// '2026-11-27T06:00:12+08:00': the same instant in ISO 8601 with the zone's offset.
export function isoTime(ms) {
  const f = fields(Number(ms));
  return `${f.year}-${f.month}-${f.day}T${f.hour}:${f.minute}:${f.second}${f.offset}`;
}

export function hourLabel(ms) {
  const f = fields(Number(ms));
  return `${f.hour}:00`;
}

export function dayLabel(ms) {
  const f = fields(Number(ms));
  return `${f.year}-${f.month}-${f.day}`;
}

// A <time> element: the local time as text, ISO with offset and zone in
// its title and datetime attribute.
export function timeEl(ms) {
  const el = document.createElement('time');
  if (!ms || !Number(ms)) {
    el.textContent = '—';
    return el;
  }
  el.dateTime = isoTime(ms);
  el.title = `${isoTime(ms)} ${zone}`;
  el.textContent = formatTime(ms);
  return el;
}

// '3 h 12 min', '2 d 4 h', '45 s'.
export function duration(ms) {
  let s = Math.max(0, Math.round(ms / 1000));
  const d = Math.floor(s / 86400); s -= d * 86400;
  const hr = Math.floor(s / 3600); s -= hr * 3600;
  const m = Math.floor(s / 60); s -= m * 60;
  if (d) return `${d} d ${hr} h`;
  if (hr) return `${hr} h ${m} min`;
  if (m) return `${m} min`;
  return `${s} s`;
}

// Local wall time in the hub's zone -> epoch ms (two passes settle the
// offset, DST included).
function zonedToMs(y, mo, d, hh, mi, ss, msec) {
  const wall = Date.UTC(y, mo - 1, d, hh, mi, ss, msec);
  let guess = wall;
  for (let i = 0; i < 2; i++) {
    const off = offsetAt(guess);
    const sign = off[0] === '-' ? -1 : 1;
    const mins = sign * (Number(off.slice(1, 3)) * 60 + Number(off.slice(4, 6)));
    guess = wall - mins * 60000;
  }
  return guess;
}

const RELATIVE = /^(\d+)\s*(s|m|h|d)$/;
const LOCAL_ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?)?$/;

// A time parameter as the API reads it ("30m", "8h", ISO with or without an
// offset, epoch ms) -> epoch ms; null when empty; throws Error when it is
// none of those forms.
export function parseWhen(text) {
  const t = String(text ?? '').trim();
  if (!t) return null;
  let m = RELATIVE.exec(t);
  if (m) {
    const unit = { s: 1000, m: 60000, h: 3600000, d: 86400000 }[m[2]];
    return hubNow() - Number(m[1]) * unit;
  }
  if (/^\d{10,}$/.test(t)) return Number(t);
  m = LOCAL_ISO.exec(t);
  if (m) {
    return zonedToMs(+m[1], +m[2], +m[3], +(m[4] || 0), +(m[5] || 0), +(m[6] || 0),
      +((m[7] || '0').padEnd(3, '0')));
  }
  if (/^\d{4}-\d{2}-\d{2}T.*(Z|[+-]\d{2}:?\d{2})$/.test(t)) {
    const ms = Date.parse(t);
    if (Number.isFinite(ms)) return ms;
  }
  throw new Error(`"${t}" is not a time: use 30m, 8h, 2d, 2026-11-27T06:00 (hub time) or ISO with an offset`);
}
