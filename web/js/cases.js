// Exception cases (proto/hub/v1/exception.proto): names, the life cycle's
// order, merging a streamed case over a listed one, and the worklist's
// filters applied on this side.

import { h, humanize, idLink } from './dom.js';

// ExceptionType, with what each means (the .proto's comments).
export const TYPES = {
  SEAL_BROKEN: 'vehicle arrived with its seal not intact',
  SEAL_MISMATCH: 'scanned seal differs from the advised one',
  BAGS_MISSING: 'unloading ended with fewer bags than advised',
  BAGS_EXTRA: 'unloading ended with more bags than advised',
  BAG_SHORT: 'bag emptied with fewer parcels than its label',
  BAG_OVER: 'bag emptied with more parcels than its label',
  MISBAGGED: 'parcel came out of a bag whose advice lacks it',
  NO_ROUTE: "sorted parcel's destination has no route",
  NO_READ: 'sort scan without a readable parcel id',
  HELD_PARCEL: 'parcel under hold scanned; diverted',
  MISSORT: 'parcel bagged into a bag for another route',
  BAG_LABEL_MISMATCH: "closed bag's written count differs from the parcels bagged",
  MISLOAD: 'bag loaded onto a load for another route',
  UNCLOSED_BAG_LOADED: 'bag loaded before it was closed',
  LEFT_BEHIND: 'load departed without a parcel routed to it',
  DAMAGED: 'parcel reported damaged',
  DUPLICATE_PARCEL: 'one parcel id live in two places at once',
  DWELL_EXCEEDED: 'parcel in the hub longer than the dwell time',
  WEIGHT_MISMATCH: 'measured weight (DWS) differs from the known one by more than the tolerance',
  AMBIGUOUS_READ: 'one read gave several codes that disagree; diverted like a no-read',
  VEHICLE_OVERDUE: 'an advised vehicle has not arrived by its expected time plus the grace',
};

export const STATUSES = ['OPEN', 'ACKNOWLEDGED', 'RESOLVED'];
const RANK = { OPEN: 1, ACKNOWLEDGED: 2, RESOLVED: 3 };

export function rank(c) { return RANK[c?.status] || 0; }

// Of two versions of one case, the one to show: a status never goes back,
// so the later status wins; on a tie, the one seen last.
export function later(a, b) {
  if (!a) return b;
  if (!b) return a;
  return rank(b) >= rank(a) ? b : a;
}

// The ids a case names: [[kind, id]].
export function idsOf(c) {
  const out = [];
  if (c.vehicle_id) out.push(['vehicle', c.vehicle_id]);
  if (c.bag_id) out.push(['bag', c.bag_id]);
  if (c.parcel_id) out.push(['parcel', c.parcel_id]);
  if (c.load_id) out.push(['load', c.load_id]);
  return out;
}

// What missing_ids / unexpected_ids name: bag ids for BAGS_*, else parcels.
export function listedKind(c) {
  return c.type === 'BAGS_MISSING' || c.type === 'BAGS_EXTRA' ? 'bag' : 'parcel';
}

// The ids a case names, each labelled with its kind and linked.
export function idTags(c) {
  return h('div', { class: 'idtags' }, idsOf(c).map(([kind, id]) =>
    h('span', { class: 'idtag' }, h('span', { class: 'kind' }, kind), ' ', idLink(kind, id))));
}

export function statusBadge(status) {
  const s = status || 'OPEN';
  return h('span', { class: `status s-${s.toLowerCase()}` }, humanize(s));
}

export function typeBadge(type) {
  return h('span', { class: 'type', title: TYPES[type] || '' }, type);
}

// Whether a case belongs in a worklist with these filters ({type, status,
// id} as the API reads them, fromMs/toMs resolved to milliseconds).
export function matches(c, f) {
  if (f.type && c.type !== f.type.toUpperCase()) return false;
  if (f.status && c.status !== f.status.toUpperCase()) return false;
  if (f.id && ![c.vehicle_id, c.bag_id, c.parcel_id, c.load_id].includes(f.id)) return false;
  const t = Number(c.event_time_ms);
  if (f.fromMs != null && t < f.fromMs) return false;
  if (f.toMs != null && t > f.toMs) return false;
  return true;
}

// BigInt-safe comparison of two case ids (64-bit numbers come as strings).
export function cmpId(a, b) {
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}
