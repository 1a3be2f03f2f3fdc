// The worklist: GET /v1/exceptions?order=newest with the filters in the
// hash (type, status, id, from, to), paged with before/next_before, kept
// current by the shared case stream (docs/api.md: open the stream first,
// then read the list, then apply each streamed case over it by id; the
// later status wins). Select cases and acknowledge or resolve them at once.

import { api, query } from './api.js';
import { h, clear, errorBox, idLink, caseHref, announce, humanize } from './dom.js';
import { TYPES, STATUSES, later, matches, idTags, statusBadge, typeBadge, cmpId } from './cases.js';
import { timeEl, parseWhen, hubZone } from './time.js';
import { bulkAction } from './actions.js';

const PAGE = 100;
const FILTERS = ['type', 'status', 'id', 'from', 'to'];

export function worklistView(root, route, ctx) {
  const f = {};
  for (const k of FILTERS) f[k] = route.params.get(k) || '';
  const window_ = { fromMs: null, toMs: null };
  try { window_.fromMs = parseWhen(f.from); } catch { /* the API says why */ }
  try { window_.toMs = parseWhen(f.to); } catch { /* the API says why */ }
  const filters = { ...f, ...window_ };

  const rows = new Map();      // id -> case
  const rowEls = new Map();    // id -> <tr>
  const selected = new Set();
  let pending = null;          // streamed cases while a load is under way
  let nextBefore = null;
  let generation = 0;
  let loaded = false;
  let failed = false;          // the last load failed

  // --- layout -----------------------------------------------------------------
  const title = f.id ? `Cases naming ${f.id}` : 'Worklist';
  const status = h('div', { id: 'list-status', class: 'list-status', role: 'status' });
  const errors = h('div', { id: 'list-errors' });
  const tbody = h('tbody', {});
  const selectAll = h('input', { type: 'checkbox', id: 'select-all', 'aria-label': 'Select every case shown' });
  const tableEl = h('table', { class: 'cases', id: 'cases', dataset: { hash: route.hash } },
    h('caption', { class: 'vh' }, 'Cases, newest first. Enter opens a case, Space selects it.'),
    h('thead', {}, h('tr', {},
      h('th', { scope: 'col', class: 'sel' }, selectAll),
      h('th', { scope: 'col' }, 'Case'),
      h('th', { scope: 'col' }, 'Type'),
      h('th', { scope: 'col' }, 'Status'),
      h('th', { scope: 'col' }, `Raised (${hubZone()})`),
      h('th', { scope: 'col' }, 'Ids'),
      h('th', { scope: 'col', class: 'wide' }, 'Station'),
      h('th', { scope: 'col', class: 'wide' }, 'Detail'))),
    tbody);
  const more = h('button', { type: 'button', id: 'older', hidden: true }, 'Load older cases');
  const bulk = bulkAction(ctx, {
    selected: () => [...selected].sort(cmpId),
    onDone: (results) => {
      for (const r of results) {
        if (r.case) apply(r.case);
        if (r.case) select(r.id, false);
      }
      renderCount();
    },
  });

  root.append(
    h('h1', {}, title),
    filterForm(f),
    h('p', { class: 'hint' },
      f.id ? ['Open ', idLink('parcel', f.id), ' as a parcel, ', idLink('bag', f.id), ' as a bag, ',
        idLink('vehicle', f.id), ' as a vehicle or ', idLink('load', f.id), ' as a load.'] : null),
    errors, bulk.el, status,
    h('div', { class: 'scroll' }, tableEl),
    h('div', { class: 'more' }, more));

  // --- rows -------------------------------------------------------------------
  function rowFor(c) {
    const box = h('input', { type: 'checkbox', class: 'pick', 'aria-label': `Select case ${c.id}`, tabindex: '-1' });
    box.checked = selected.has(c.id);
    box.addEventListener('change', () => select(c.id, box.checked));
    const tr = h('tr', { tabindex: '0', dataset: { id: c.id }, 'aria-selected': String(selected.has(c.id)) });
    tr.append(
      h('td', { class: 'sel' }, box),
      h('td', {}, h('a', { href: caseHref(c.id), class: 'id case-link' }, `#${c.id}`)),
      h('td', {}, typeBadge(c.type)),
      h('td', { class: 'st' }, statusBadge(c.status)),
      h('td', {}, timeEl(c.event_time_ms)),
      h('td', {}, idTags(c)),
      h('td', { class: 'wide' }, c.station || ''),
      h('td', { class: 'wide detail' }, detailText(c)));
    tr.addEventListener('keydown', (e) => {
      if (e.target !== tr) return;
      if (e.key === 'Enter') { e.preventDefault(); location.hash = caseHref(c.id); }
      else if (e.key === ' ') { e.preventDefault(); select(c.id, !selected.has(c.id)); }
      else if (e.key === 'ArrowDown') { e.preventDefault(); tr.nextElementSibling?.focus(); }
      else if (e.key === 'ArrowUp') { e.preventDefault(); tr.previousElementSibling?.focus(); }
    });
    tr.addEventListener('click', (e) => {
      if (e.target.closest('a, input, button, label')) return;
      location.hash = caseHref(c.id);
    });
    return tr;
  }

  function refreshRow(c) {
    const tr = rowEls.get(c.id);
    if (!tr) return;
    tr.querySelector('td.st').replaceChildren(statusBadge(c.status));
    const out = !matches(c, filters);
    tr.classList.toggle('left', out);
    tr.title = out ? `Now ${humanize(c.status)}: no longer matches the filters (gone on reload)` : '';
  }

  function select(id, on) {
    if (on) selected.add(id); else selected.delete(id);
    const tr = rowEls.get(id);
    if (tr) {
      tr.setAttribute('aria-selected', String(on));
      tr.querySelector('input.pick').checked = on;
    }
    syncSelectAll();
    bulk.update();
  }

  function syncSelectAll() {
    const n = rowEls.size;
    const k = [...rowEls.keys()].filter((id) => selected.has(id)).length;
    selectAll.checked = n > 0 && k === n;
    selectAll.indeterminate = k > 0 && k < n;
  }

  selectAll.addEventListener('change', () => {
    for (const id of rowEls.keys()) select(id, selectAll.checked);
  });

  // Puts `c` in its place (newest first), or updates the row it has.
  // Streamed cases (`listed` false) older than every row while older pages
  // remain are left for paging to bring.
  function apply(c, { fresh = false, listed = false } = {}) {
    const old = rows.get(c.id);
    if (old) {
      const keep = later(old, c);
      rows.set(c.id, keep);
      refreshRow(keep);
      return;
    }
    if (!matches(c, filters)) return;
    const ids = [...tbody.children].map((el) => el.dataset.id);  // newest first
    const oldest = ids.length ? ids[ids.length - 1] : null;
    if (!listed && nextBefore && oldest && cmpId(c.id, oldest) < 0) return;
    rows.set(c.id, c);
    const tr = rowFor(c);
    const after = ids.find((id) => cmpId(id, c.id) < 0);
    tbody.insertBefore(tr, after === undefined ? null : rowEls.get(after));
    rowEls.set(c.id, tr);
    if (fresh) {
      tr.classList.add('fresh');
      announce(`New case ${c.id}: ${c.type}`);
    }
    syncSelectAll();
  }

  function renderCount() {
    const n = rowEls.size;
    const open = [...rows.values()].filter((c) => c.status === 'OPEN').length;
    tableEl.setAttribute('aria-busy', String(!loaded && !failed));
    if (!loaded) {
      status.textContent = failed ? 'The cases could not be read.' : 'Reading the cases\u2026';
      return;
    }
    status.textContent = n === 0 ? 'No cases match.' :
      `${n} case${n === 1 ? '' : 's'} shown, newest first (${open} open)` +
      (nextBefore ? '; older cases below' : '');
  }

  // --- loading ------------------------------------------------------------------
  async function load(before) {
    const gen = ++generation;
    if (!before) pending = pending || [];
    more.disabled = true;
    clear(errors);
    try {
      const page = await api(`/v1/exceptions${query({
        order: 'newest', limit: PAGE, before,
        type: f.type, status: f.status.toLowerCase(), id: f.id, from: f.from, to: f.to,
      })}`);
      if (gen !== generation) return;
      if (!before) {
        rows.clear();
        rowEls.clear();
        tbody.replaceChildren();
      }
      for (const c of page.exceptions || []) apply(c, { listed: true });
      nextBefore = page.next_before && page.next_before !== '0' ? page.next_before : null;
      for (const c of pending || []) apply(c, { fresh: !rows.has(c.id) });
      pending = null;
      loaded = true;
      failed = false;
    } catch (e) {
      if (gen !== generation) return;
      pending = null;
      failed = true;
      errors.append(errorBox(e, 'Could not read the cases'));
    } finally {
      if (gen === generation) {
        more.hidden = !nextBefore;
        more.disabled = false;
        renderCount();
      }
    }
  }

  more.addEventListener('click', () => load(nextBefore));

  const onCase = (e) => {
    const c = e.detail;
    if (pending) pending.push(c);
    else if (loaded) {
      apply(c, { fresh: !rows.has(c.id) });
      renderCount();
    }
  };
  // Every hello is a fresh start of the stream: read the list again.
  const onHello = () => load();
  const onState = (e) => {
    if (e.detail.state === 'down' && !loaded && generation === 0) load();
    liveNote();
  };
  function liveNote() {
    const s = ctx.stream.state;
    const el = root.querySelector('#live-note');
    const text = s === 'down' ? `Not live: ${ctx.stream.message}. The list shows what was read last.` : '';
    if (el) el.textContent = text;
  }
  root.insertBefore(h('p', { id: 'live-note', class: 'warn', 'aria-live': 'polite' }), status);

  ctx.stream.addEventListener('case', onCase);
  ctx.stream.addEventListener('hello', onHello);
  ctx.stream.addEventListener('state', onState);
  if (ctx.stream.state === 'live' || ctx.stream.state === 'down') load();
  liveNote();
  renderCount();

  return () => {
    generation += 1;
    ctx.stream.removeEventListener('case', onCase);
    ctx.stream.removeEventListener('hello', onHello);
    ctx.stream.removeEventListener('state', onState);
  };
}

function detailText(c) {
  const parts = [];
  if (c.expected_count != null || c.actual_count != null)
    parts.push(`expected ${c.expected_count ?? '?'}, actual ${c.actual_count ?? '?'}`);
  if (c.missing_ids?.length) parts.push(`missing ${c.missing_ids.length}`);
  if (c.unexpected_ids?.length) parts.push(`unexpected ${c.unexpected_ids.length}`);
  if (c.detail) parts.push(c.detail);
  return parts.join('; ');
}

function filterForm(f) {
  const sel = (name, label, options) => h('div', { class: 'field' },
    h('label', { for: `f-${name}` }, label),
    h('select', { id: `f-${name}`, name },
      h('option', { value: '' }, 'All'),
      options.map(([v, text]) => h('option', { value: v, selected: v === f[name].toUpperCase() }, text))));
  const text = (name, label, placeholder, help) => h('div', { class: 'field' },
    h('label', { for: `f-${name}` }, label),
    h('input', { id: `f-${name}`, name, value: f[name], placeholder, autocomplete: 'off', spellcheck: 'false',
      title: help }));
  const form = h('form', { class: 'filters', id: 'filters', 'aria-label': 'Filter the cases' },
    sel('type', 'Type', Object.keys(TYPES).map((t) => [t, t])),
    sel('status', 'Status', STATUSES.map((s) => [s, humanize(s)])),
    text('id', 'Any id', 'parcel, bag, vehicle or load', 'Cases naming this id as vehicle, bag, parcel or load'),
    text('from', 'From', '8h or 2026-11-27T06:00', 'Event time from: 30m, 8h, 2d, a hub-time ISO date, or ISO with an offset'),
    text('to', 'To', 'now', 'Event time up to (same forms as From)'),
    h('div', { class: 'field buttons' },
      h('button', { type: 'submit', class: 'primary', id: 'apply-filters' }, 'Show'),
      h('a', { href: '#/cases', class: 'button', id: 'clear-filters' }, 'Clear')));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const data = new FormData(form);
    const q = new URLSearchParams();
    for (const k of FILTERS) {
      const v = String(data.get(k) || '').trim();
      if (v) q.set(k, v);
    }
    const s = q.toString();
    location.hash = `#/cases${s ? `?${s}` : ''}`;
  });
  return form;
}
