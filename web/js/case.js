// One case: GET /v1/exceptions/{id}. Every id it names (links), expected
// vs. actual, the missing and unexpected ids, known vs. measured weight, the
// codes of a read, its history (raised, acknowledged, resolved: who, when,
// note) and the actions. Changes made elsewhere arrive on the stream and
// show at once.

import { api } from './api.js';
import { h, clear, errorBox, dl, idLink, idLinks, humanize } from './dom.js';
import { TYPES, idsOf, listedKind, statusBadge, typeBadge, later } from './cases.js';
import { timeEl } from './time.js';
import { caseActions } from './actions.js';

export function caseView(root, route, ctx) {
  const id = route.parts[1];
  const body = h('div', { id: 'case-body' });
  root.append(
    h('p', { class: 'crumbs' }, h('a', { href: ctx.lastWorklist, id: 'back' }, '\u2190 Worklist')),
    h('h1', {}, `Case #${id}`), body);
  let current = null;

  function render(c) {
    current = c;
    clear(body);
    body.append(
      h('p', { class: 'headline' }, typeBadge(c.type), ' ', statusBadge(c.status), ' ',
        h('span', { class: 'muted' }, TYPES[c.type] || '')),
      dl([
        ['Raised', timeEl(c.event_time_ms)],
        ['Hub sequence', c.hub_seq],
        ['Scanner', c.scanner_id],
        ['Station', c.station],
        ...idsOf(c).map(([kind, v]) => [humanize(kind), idLink(kind, v)]),
        ['Expected', c.expected_count != null ? String(c.expected_count) : null],
        ['Actual', c.actual_count != null ? String(c.actual_count) : null],
        ['Difference', c.expected_count != null && c.actual_count != null ?
          diffText(c.expected_count, c.actual_count) : null],
        [`Missing ${listedKind(c)}s`, c.missing_ids?.length ? idLinks(listedKind(c), c.missing_ids) : null],
        [`Unexpected ${listedKind(c)}s`, c.unexpected_ids?.length ? idLinks(listedKind(c), c.unexpected_ids) : null],
        ['Known weight', c.known_weight_g != null ? `${c.known_weight_g} g` : null],
        ['Measured weight', c.measured_weight_g != null ? `${c.measured_weight_g} g` : null],
        ['Codes read', c.read_codes?.length ? c.read_codes.join(', ') : null],
        ['Detail', c.detail],
      ]),
      history(c),
      caseActions(ctx, c, (after) => render(later(current, after))));
  }

  const onCase = (e) => {
    if (current && e.detail.id === current.id) render(later(current, e.detail));
  };
  ctx.stream.addEventListener('case', onCase);

  api(`/v1/exceptions/${encodeURIComponent(id)}`)
    .then((c) => render(later(current, c)))
    .catch((e) => body.append(errorBox(e, `Could not read case ${id}`)));

  return () => ctx.stream.removeEventListener('case', onCase);
}

function diffText(expected, actual) {
  const d = Number(actual) - Number(expected);
  if (d === 0) return 'none';
  return d < 0 ? `${-d} short` : `${d} over`;
}

function history(c) {
  const items = [h('li', {}, h('strong', {}, 'Raised'), ' ', timeEl(c.event_time_ms),
    c.scanner_id ? ` by scanner ${c.scanner_id}` : '', c.station ? ` at ${c.station}` : '')];
  for (const [name, t] of [['Acknowledged', c.acknowledged], ['Resolved', c.resolved]]) {
    if (!t) continue;
    items.push(h('li', { class: `t-${name.toLowerCase()}` },
      h('strong', {}, name), ' ', timeEl(t.at_ms), ' by ', h('span', { class: 'by' }, t.by || 'unknown'),
      t.note ? [': ', h('q', { class: 'note' }, t.note)] : h('span', { class: 'muted' }, ' (no note)')));
  }
  return h('section', { 'aria-labelledby': 'hist-h' },
    h('h2', { id: 'hist-h' }, 'History'), h('ol', { class: 'history', id: 'case-history' }, items));
}
