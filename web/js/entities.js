// The parcel trace and the bag, vehicle and load views (GET /v1/parcels/ID,
// /v1/bags/ID, /v1/vehicles/ID, /v1/loads/ID; proto/hub/v1/views.proto).
// Every id shown links to its own view, every case to its page.

import { api } from './api.js';
import { h, append, clear, errorBox, dl, idLink, caseLink, table, humanize, notice } from './dom.js';
import { idTags, statusBadge, typeBadge } from './cases.js';
import { timeEl } from './time.js';

// Fields holding ids, and what they name.
const ID_FIELDS = {
  parcel_id: 'parcel', bag_id: 'bag', vehicle_id: 'vehicle', load_id: 'load',
  parcel_ids: 'parcel', bag_ids: 'bag',
};
const EVENT_META = new Set(['scanner_id', 'seq', 'event_time_ms', 'station']);

// Many ids: the first `limit` as links, a button shows the rest.
function manyLinks(kind, ids, limit = 40) {
  if (!ids || ids.length === 0) return h('span', { class: 'muted' }, 'none');
  const out = h('span', { class: 'ids' });
  const put = (list) => list.forEach((id) => {
    if (out.childNodes.length) out.append(', ');
    out.append(idLink(kind, id));
  });
  put(ids.slice(0, limit));
  if (ids.length > limit) {
    const btn = h('button', { type: 'button', class: 'link' }, `show all ${ids.length}`);
    btn.addEventListener('click', () => {
      btn.remove();
      put(ids.slice(limit));
    });
    out.append(' ', btn);
  }
  return out;
}

function yes(flag) { return flag ? 'yes' : null; }

// "key value" pairs of one event or reference body, ids as links.
function fieldsOf(body) {
  if (body == null) return [];
  if (typeof body !== 'object') return [String(body)];
  const out = [];
  for (const [k, v] of Object.entries(body)) {
    if (v == null || v === '' || (Array.isArray(v) && v.length === 0)) continue;
    const kind = ID_FIELDS[k];
    let value;
    if (kind && Array.isArray(v)) value = manyLinks(kind, v, 20);
    else if (kind) value = idLink(kind, v);
    else if (Array.isArray(v)) value = v.join(', ');
    else if (typeof v === 'object') value = JSON.stringify(v);
    else value = String(v);
    out.push(h('span', { class: 'field' }, h('span', { class: 'k' }, k.replace(/_/g, ' ')), ' ', value));
  }
  return out;
}

function whatOf(entry) {
  if (entry.event) {
    const kind = Object.keys(entry.event).find((k) => !EVENT_META.has(k));
    const body = kind ? entry.event[kind] : null;
    return [h('strong', {}, humanize(kind || 'event')), ' ', fieldsOf(body)];
  }
  if (entry.reference) {
    const kind = Object.keys(entry.reference)[0];
    const body = entry.reference[kind];
    if (kind === 'remove_hold') return [h('strong', {}, 'Hold removed'), ' ', idLink('parcel', body)];
    const shown = body && typeof body === 'object' ? { ...body } : body;
    if (shown && typeof shown === 'object') {
      delete shown.placed_at_ms;
      delete shown.placed_at;
    }
    return [h('strong', {}, humanize(kind)), ' ', fieldsOf(shown)];
  }
  return h('span', { class: 'muted' }, 'record');
}

function whenOf(entry) {
  if (entry.event) return timeEl(entry.event.event_time_ms);
  const hold = entry.reference?.add_hold;
  if (hold?.placed_at_ms) return timeEl(hold.placed_at_ms);
  return h('span', { class: 'muted' }, 'reference');
}

function decisionOf(d) {
  if (!d) return '';
  if (d.divert && d.divert !== 'DIVERT_NONE') return h('span', { class: 'divert' }, `diverted: ${humanize(d.divert.replace('DIVERT_', ''))}`);
  return h('span', {}, [d.route_code && `route ${d.route_code}`, d.chute && `chute ${d.chute}`].filter(Boolean).join(', '),
    d.load_id ? [', load ', idLink('load', d.load_id)] : null);
}

export function historyTable(entries, caption = 'History') {
  return table(caption, [
    ['Hub seq', (e) => e.hub_seq],
    ['Time', whenOf],
    ['Where', (e) => (e.event ? [e.event.station, e.event.scanner_id].filter(Boolean).join(' / ') :
      (e.reference?.add_hold?.placed_by ? `by ${e.reference.add_hold.placed_by}` : ''))],
    ['What', whatOf],
    ['Decision', (e) => decisionOf(e.decision)],
  ], entries, { empty: 'no records' });
}

export function casesTable(cases, caption = 'Cases') {
  return table(caption, [
    ['Case', (c) => caseLink(c.id)],
    ['Type', (c) => typeBadge(c.type)],
    ['Status', (c) => statusBadge(c.status)],
    ['Raised', (c) => timeEl(c.event_time_ms)],
    ['Ids', idTags],
    ['Detail', (c) => c.detail || ''],
  ], cases, { empty: 'none' });
}

function truncatedNote(v) {
  return v.truncated ? notice('The oldest records are left out: more than a view reads, or aged out.', 'warn') : null;
}

// Fetches `path` and fills the page with render(view), or an error.
function entityPage(root, kind, id, path, render) {
  const body = h('div', { id: `${kind}-body`, class: 'entity' });
  root.append(h('p', { class: 'crumbs' }, h('a', { href: '#/cases' }, 'Worklist'), ' \u203a ', humanize(kind)),
    h('h1', {}, `${humanize(kind)} `, h('span', { class: 'id' }, id)),
    h('p', { class: 'hint' }, h('a', { href: `#/cases?id=${encodeURIComponent(id)}` }, `Cases naming ${id} in the worklist`)),
    body);
  let live = true;
  body.append(h('p', { class: 'muted' }, 'Reading\u2026'));
  api(`${path}/${encodeURIComponent(id)}`)
    .then((v) => { if (live) { clear(body); render(body, v); } })
    .catch((e) => { if (live) { clear(body); body.append(errorBox(e, `Could not read ${kind} ${id}`)); } });
  return () => { live = false; };
}

export function parcelView(root, route) {
  const id = route.parts[1];
  return entityPage(root, 'parcel', id, '/v1/parcels', (body, p) => {
    append(body, [
      truncatedNote(p),
      dl([
        ['Destination', p.destination],
        ['Load', idLink('load', p.load_id)],
        ['Inbound bag', idLink('bag', p.inbound_bag)],
        ['Outbound bag', idLink('bag', p.outbound_bag)],
        ['Held', yes(p.held)],
        ['Damaged', yes(p.damaged)],
        ['Departed', p.departed_hub_seq && p.departed_hub_seq !== '0' ? `with its load, at hub sequence ${p.departed_hub_seq}` : null],
        ['Forgotten', p.forgotten_hub_seq && p.forgotten_hub_seq !== '0' ?
          `at hub sequence ${p.forgotten_hub_seq}: nothing scanned it for the hub's forget time (it did not depart)` : null],
      ]),
      casesTable(p.exceptions || [], 'Cases naming this parcel'),
      historyTable(p.entries || [], 'Trace')]);
  });
}

export function bagView(root, route) {
  const id = route.parts[1];
  return entityPage(root, 'bag', id, '/v1/bags', (body, b) => {
    const inbound = b.direction === 'INBOUND';
    append(body, [
      truncatedNote(b),
      dl([
        ['Direction', b.direction ? humanize(b.direction) : null],
        ['Vehicle', idLink('vehicle', b.vehicle_id)],
        [inbound ? 'Label count' : 'Count written at close', b.label_count != null ? String(b.label_count) : null],
        ['Scanned', String(b.scanned_count ?? 0)],
        ['Destination', b.destination],
        ['Load', idLink('load', b.load_id)],
        ['State', [b.unloaded && 'unloaded', b.opened && 'opened', b.emptied && 'emptied', b.closed && 'closed']
          .filter(Boolean).join(', ') || null],
        ['Members', manyLinks('parcel', b.members || [])],
        ['Advised', b.advised?.length ? manyLinks('parcel', b.advised) : null],
        ['Missing (advised, not scanned)', b.missing?.length ? manyLinks('parcel', b.missing) : null],
        ['Foreign (scanned, not advised)', b.foreign?.length ? manyLinks('parcel', b.foreign) : null],
      ]),
      casesTable(b.exceptions || [], 'Cases naming this bag'),
      historyTable(b.history || [])]);
  });
}

export function vehicleView(root, route) {
  const id = route.parts[1];
  return entityPage(root, 'vehicle', id, '/v1/vehicles', (body, v) => {
    append(body, [
      truncatedNote(v),
      h('div', { class: 'columns' },
        h('section', {}, h('h2', {}, 'Advised'), v.advised ? dl([
          ['Route', v.advised_route_code],
          ['Seal', v.advised_seal_id],
          ['Bags', manyLinks('bag', v.advised_bags || [])],
        ]) : h('p', { class: 'muted' }, 'No advice for this vehicle.')),
        h('section', {}, h('h2', {}, 'Arrived'), v.arrived ? dl([
          ['At', timeEl(v.arrived_ms)],
          ['Route', v.route_code],
          ['Seal', v.seal_id ? `${v.seal_id} (${v.seal_intact ? 'intact' : 'NOT intact'})` : null],
          ['Bags on its papers', v.advised_bag_count != null ? String(v.advised_bag_count) : null],
          ['Gross weight', v.gross_weight_g && v.gross_weight_g !== '0' ? `${v.gross_weight_g} g` : null],
          ['Unloaded', yes(v.unloaded)],
        ]) : h('p', { class: 'muted' }, 'Not arrived.'))),
      dl([
        ['Missing bags (advised, not unloaded)', v.missing_bags?.length ? manyLinks('bag', v.missing_bags) : null],
        ['Unexpected bags (unloaded, not advised)', v.unexpected_bags?.length ? manyLinks('bag', v.unexpected_bags) : null],
      ]),
      table('Bags unloaded', [
        ['Bag', (b) => idLink('bag', b.bag_id)],
        ['Label', (b) => (b.label_count != null ? String(b.label_count) : '')],
        ['Scanned', (b) => String(b.scanned_count ?? 0)],
      ], v.bags || []),
      casesTable(v.exceptions || [], 'Cases naming this vehicle'),
      historyTable(v.history || [])]);
  });
}

export function loadView(root, route) {
  const id = route.parts[1];
  return entityPage(root, 'load', id, '/v1/loads', (body, l) => {
    append(body, [
      truncatedNote(l),
      dl([
        ['Truck', l.vehicle_id],
        ['Route', l.route_code],
        ['Opened', yes(l.opened)],
        ['Departed', l.departed ? timeEl(l.departed_ms) : null],
        ['Seal', l.seal_id],
        ['Parcels on board', String(l.parcel_count ?? 0)],
        ['Routed here', manyLinks('parcel', l.routed || [])],
        ['Routed here, on no bag of it', l.not_loaded?.length ? manyLinks('parcel', l.not_loaded) : null],
      ]),
      table('Bags in load order', [
        ['Bag', (b) => idLink('bag', b.bag_id)],
        ['Destination', (b) => b.destination || ''],
        ['Closed', (b) => (b.closed ? 'yes' : 'no')],
        ['Label', (b) => (b.label_count != null ? String(b.label_count) : '')],
        ['Scanned', (b) => String(b.scanned_count ?? 0)],
        ['Parcels', (b) => manyLinks('parcel', b.parcel_ids || [], 10)],
      ], l.bags || []),
      casesTable(l.exceptions || [], 'Cases naming this load')]);
  });
}
