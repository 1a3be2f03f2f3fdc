// The shift dashboard: GET /v1/report (the window's cases by type, cases
// per hour, oldest open case, loads with parcels left behind, vehicles with
// missing bags) and GET /v1/summary (open cases by type over all time,
// parcels in the hub). Refreshed a few seconds after the stream reports a
// change.

import { api, query } from './api.js';
import { h, svg, clear, errorBox, caseLink, idLink, idLinks, table } from './dom.js';
import { typeBadge } from './cases.js';
import { timeEl, hourLabel, dayLabel, duration, hubNow, hubZone, formatTime } from './time.js';

const REFRESH_MS = 5000;

const n = (v) => Number(v || 0);

export function dashboardView(root, route, ctx) {
  const from = route.params.get('from') || '8h';
  const to = route.params.get('to') || '';
  const form = h('form', { class: 'filters', id: 'window' , 'aria-label': 'Shift window' },
    h('div', { class: 'field' }, h('label', { for: 'd-from' }, 'From'),
      h('input', { id: 'd-from', name: 'from', value: from, placeholder: '8h', autocomplete: 'off' })),
    h('div', { class: 'field' }, h('label', { for: 'd-to' }, 'To'),
      h('input', { id: 'd-to', name: 'to', value: to, placeholder: 'now', autocomplete: 'off' })),
    h('div', { class: 'field buttons' }, h('button', { type: 'submit', class: 'primary' }, 'Show')));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const d = new FormData(form);
    location.hash = `#/dashboard${query({ from: String(d.get('from')).trim(), to: String(d.get('to')).trim() })}`;
  });
  const body = h('div', { id: 'dashboard-body' });
  const updated = h('p', { class: 'muted', id: 'updated', 'aria-live': 'off' });
  root.append(h('h1', {}, 'Shift dashboard'), form, updated, body);

  let live = true;
  let timer = null;
  let busy = false;

  async function refresh() {
    timer = null;
    if (busy) return;
    busy = true;
    const [report, summary] = await Promise.allSettled([
      api(`/v1/report${query({ from, to })}`),
      api('/v1/summary'),
    ]);
    busy = false;
    if (!live) return;
    clear(body);
    body.append(render(report, summary));
    updated.textContent = `Updated ${formatTime(hubNow())} (${hubZone()}); it follows the live stream.`;
  }

  const onCase = () => {
    if (!timer) timer = setTimeout(refresh, REFRESH_MS);
  };
  ctx.stream.addEventListener('case', onCase);
  refresh();
  return () => {
    live = false;
    clearTimeout(timer);
    ctx.stream.removeEventListener('case', onCase);
  };
}

function card(label, value, extra, id) {
  return h('div', { class: 'card stat', id }, h('div', { class: 'label' }, label),
    h('div', { class: 'value' }, value), extra ? h('div', { class: 'extra' }, extra) : null);
}

function render(reportR, summaryR) {
  const out = h('div', {});
  const r = reportR.status === 'fulfilled' ? reportR.value : null;
  const s = summaryR.status === 'fulfilled' ? summaryR.value : null;
  if (!r) out.append(errorBox(reportR.reason, 'Could not read the shift report'));
  if (!s) out.append(errorBox(summaryR.reason, 'Could not read the summary'));

  const oldest = r?.oldest_open && r.oldest_open.id ? r.oldest_open : null;
  out.append(h('div', { class: 'cards' },
    r ? card('Raised in the window', String(n(r.raised)),
      ['from ', timeEl(r.from_ms), ' to ', timeEl(r.to_ms)], 'stat-raised') : null,
    r ? card('Open now', String(n(r.open_now)), 'any time', 'stat-open') : null,
    r ? card('Oldest open case', oldest ? caseLink(oldest.id) : 'none',
      oldest ? [typeBadge(oldest.type), ' raised ', timeEl(oldest.event_time_ms),
        ` (${duration(hubNow() - Number(oldest.event_time_ms))} ago)`] : null, 'stat-oldest') : null,
    s ? card('Parcels in the hub', String(n(s.parcels_in_hub)), `hub sequence ${s.hub_seq || 0}`, 'stat-parcels') : null));

  if (r) out.append(h('section', { 'aria-labelledby': 'per-hour-h', class: 'card' },
    h('h2', { id: 'per-hour-h' }, 'Cases raised per hour'), perHourChart(r.per_hour || [])));

  const grid = h('div', { class: 'columns' });
  if (s) grid.append(h('section', { class: 'card', id: 'open-by-type' }, h('h2', {}, 'Open cases by type'),
    byTypeTable(s.exceptions || [], true)));
  if (r) grid.append(h('section', { class: 'card', id: 'window-by-type' }, h('h2', {}, 'This window by type (status now)'),
    byTypeTable(r.by_type || [], false)));
  out.append(grid);

  if (r) {
    out.append(h('div', { class: 'columns' },
      h('section', { class: 'card', id: 'left-behind' }, h('h2', {}, 'Parcels left behind, by load'),
        table(null, [
          ['Load', (x) => idLink('load', x.load_id)],
          ['Parcels', (x) => String(n(x.parcels))],
          ['Parcel ids', (x) => idLinks('parcel', x.parcel_ids || [], 8)],
        ], r.left_behind || [], { empty: 'No load left parcels behind in this window.' })),
      h('section', { class: 'card', id: 'missing-bags' }, h('h2', {}, 'Vehicles with missing bags'),
        table(null, [
          ['Vehicle', (x) => idLink('vehicle', x.vehicle_id)],
          ['Missing bags', (x) => idLinks('bag', x.bag_ids || [], 8)],
        ], r.missing_bags || [], { empty: 'No vehicle came short of bags in this window.' }))));
  }
  return out;
}

function byTypeTable(rows, openOnly) {
  const list = rows
    .map((t) => ({ type: t.type, open: n(t.open), ack: n(t.acknowledged), res: n(t.resolved) }))
    .filter((t) => !openOnly || t.open + t.ack > 0)
    .sort((a, b) => (b.open - a.open) || (b.open + b.ack + b.res - a.open - a.ack - a.res));
  const max = Math.max(1, ...list.map((t) => t.open));
  return table(null, [
    ['Type', (t) => h('a', { href: `#/cases?type=${t.type}&status=OPEN` }, typeBadge(t.type))],
    ['Open', (t) => h('span', { class: 'num' }, String(t.open), ' ', bar(t.open / max))],
    ['Acknowledged', (t) => String(t.ack)],
    ['Resolved', (t) => String(t.res)],
  ], list, { empty: openOnly ? 'No open cases.' : 'No cases in this window.' });
}

function bar(fraction) {
  return svg('svg', { class: 'minibar', viewBox: '0 0 100 10', width: '80', height: '10', 'aria-hidden': 'true' },
    svg('rect', { x: 0, y: 0, width: Math.max(1, Math.round(fraction * 100)), height: 10 }));
}

// Bars of cases raised per hour, drawn in SVG; the numbers are also in a
// table for screen readers and for copying.
export function perHourChart(hours) {
  if (!hours.length) return h('p', { class: 'muted' }, 'No hours in this window.');
  const W = 760; const H = 220; const left = 36; const bottom = 40; const top = 16;
  const max = Math.max(1, ...hours.map((x) => n(x.raised)));
  const step = (W - left - 8) / hours.length;
  const barW = Math.max(2, step * 0.75);
  const chart = svg('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart', id: 'per-hour', role: 'img',
    'aria-label': `Cases raised per hour, ${hours.length} hours, at most ${max} in an hour` });
  const y = (v) => top + (H - top - bottom) * (1 - v / max);
  // Grid and scale: 0, half, max.
  for (const v of [0, Math.round(max / 2), max]) {
    chart.append(svg('line', { x1: left, x2: W - 4, y1: y(v), y2: y(v), class: 'grid' }),
      svg('text', { x: left - 6, y: y(v) + 4, class: 'axis', 'text-anchor': 'end' }, String(v)));
  }
  const labelEvery = Math.ceil(hours.length / 12);
  hours.forEach((x, i) => {
    const v = n(x.raised);
    const bx = left + i * step + (step - barW) / 2;
    const g = svg('g', { class: 'bar' },
      svg('title', {}, `${dayLabel(x.hour_ms)} ${hourLabel(x.hour_ms)}: ${v} raised`),
      svg('rect', { x: bx.toFixed(1), y: y(v).toFixed(1), width: barW.toFixed(1), height: Math.max(0, y(0) - y(v)).toFixed(1) }));
    if (v > 0 && barW >= 14) g.append(svg('text', { x: (bx + barW / 2).toFixed(1), y: (y(v) - 3).toFixed(1), class: 'val', 'text-anchor': 'middle' }, String(v)));
    chart.append(g);
    if (i % labelEvery === 0) {
      chart.append(svg('text', { x: (bx + barW / 2).toFixed(1), y: H - bottom + 16, class: 'axis', 'text-anchor': 'middle' }, hourLabel(x.hour_ms)));
    }
  });
  chart.append(svg('text', { x: left, y: H - 6, class: 'axis' }, `Hours in ${hubZone()}, from ${dayLabel(hours[0].hour_ms)}`));
  const data = h('details', {}, h('summary', {}, 'Numbers'),
    table(null, [['Hour', (x) => `${dayLabel(x.hour_ms)} ${hourLabel(x.hour_ms)}`], ['Raised', (x) => String(n(x.raised))]], hours));
  return h('div', {}, chart, data);
}
