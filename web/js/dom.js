// Small DOM helpers: elements from data (never from HTML strings, so ids and
// notes from the hub are always text), links to entities and cases.

export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

const SVG_NS = 'http://www.w3.org/2000/svg';
export function svg(tag, attrs, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

function setAttrs(el, attrs) {
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v == null || v === false) continue;
    if (k === 'class') el.setAttribute('class', v);
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k === 'value' || k === 'checked' || k === 'indeterminate') el[k] = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
}

export function append(el, children) {
  for (const c of [children].flat(Infinity)) {
    if (c == null || c === false || c === '') continue;
    el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

export function clear(el) {
  el.replaceChildren();
  return el;
}

// Hash routes of the entity views; ids percent-encoded.
export const KIND_ROUTE = { parcel: 'parcels', bag: 'bags', vehicle: 'vehicles', load: 'loads' };

export function entityHref(kind, id) {
  return `#/${KIND_ROUTE[kind]}/${encodeURIComponent(id)}`;
}

export function idLink(kind, id) {
  if (!id) return null;
  return h('a', { href: entityHref(kind, id), class: 'id', title: `${kind} ${id}` }, id);
}

export function caseHref(id) {
  return `#/cases/${encodeURIComponent(id)}`;
}

export function caseLink(id, text) {
  return h('a', { href: caseHref(id), class: 'id' }, text ?? `#${id}`);
}

// Links to many ids, comma separated; `limit` shows the first few and a count.
export function idLinks(kind, ids, limit = Infinity) {
  if (!ids || ids.length === 0) return h('span', { class: 'muted' }, 'none');
  const shown = ids.slice(0, limit);
  const out = h('span', { class: 'ids' });
  shown.forEach((id, i) => {
    if (i) out.append(', ');
    out.append(idLink(kind, id));
  });
  if (ids.length > shown.length) out.append(h('span', { class: 'muted' }, ` and ${ids.length - shown.length} more`));
  return out;
}

// A definition list of [label, value] pairs; pairs whose value is null,
// undefined or '' are left out.
export function dl(pairs, cls = 'facts') {
  const out = h('dl', { class: cls });
  for (const [label, value] of pairs) {
    if (value == null || value === '' || value === false) continue;
    out.append(h('div', {}, h('dt', {}, label), h('dd', {}, value)));
  }
  return out;
}

// An error from the API (or anything thrown) as an alert box.
export function errorBox(err, what) {
  const msg = err && err.message ? err.message : String(err);
  const status = err && err.status ? ` (HTTP ${err.status})` : '';
  return h('div', { class: 'error', role: 'alert' },
    what ? h('strong', {}, `${what}: `) : null, `${msg}${status}`);
}

export function notice(text, cls = 'notice') {
  return h('div', { class: cls, role: 'status' }, text);
}

// A table with a caption; `columns` are [header, (row) => cell] pairs.
export function table(caption, columns, rows, { rowAttrs, empty = 'None.' } = {}) {
  if (!rows || rows.length === 0) return h('p', { class: 'muted' }, caption ? `${caption}: ${empty}` : empty);
  return h('div', { class: 'scroll' },
    h('table', {},
      caption ? h('caption', {}, caption) : null,
      h('thead', {}, h('tr', {}, columns.map(([head]) => h('th', { scope: 'col' }, head)))),
      h('tbody', {}, rows.map((r) => h('tr', rowAttrs ? rowAttrs(r) : {},
        columns.map(([, cell]) => h('td', {}, cell(r))))))));
}

// Says `text` to screen readers (the page's polite live region).
export function announce(text) {
  const el = document.getElementById('announce');
  if (!el) return;
  el.textContent = '';
  setTimeout(() => { el.textContent = text; }, 30);
}

export function humanize(name) {
  const s = String(name).toLowerCase().replace(/_/g, ' ');
  return s.charAt(0).toUpperCase() + s.slice(1);
}
