// Acknowledge and resolve: many selected cases at once (POST
// /v1/exceptions:acknowledge|:resolve, BulkCaseAction) or one (POST
// /v1/exceptions/{id}:acknowledge|:resolve), each with a note. Needs the
// supervisor role; below it the controls say why they are off.

import { api } from './api.js';
import { h, clear, errorBox, announce } from './dom.js';

const VERB = { acknowledge: 'Acknowledged', resolve: 'Resolved' };

function roleNote(ctx) {
  return ctx.can('supervisor') ? null :
    h('p', { class: 'muted' }, `Your role (${ctx.info.role}) may read only; acknowledging and resolving needs supervisor.`);
}

// The bar above the worklist. selected() gives the chosen ids; onDone gets
// BulkCaseResult.results after an action.
export function bulkAction(ctx, { selected, onDone }) {
  const count = h('span', { class: 'count', id: 'selected-count' }, 'None selected');
  const note = h('input', { id: 'bulk-note', name: 'note', placeholder: 'Note (what was done, why)', autocomplete: 'off' });
  const ack = h('button', { type: 'submit', value: 'acknowledge', id: 'bulk-ack' }, 'Acknowledge');
  const res = h('button', { type: 'submit', value: 'resolve', id: 'bulk-resolve', class: 'primary' }, 'Resolve');
  const out = h('div', { id: 'bulk-result', 'aria-live': 'polite' });
  const form = h('form', { class: 'bulk', id: 'bulk', 'aria-label': 'Act on the selected cases' },
    count, h('label', { for: 'bulk-note', class: 'vh' }, 'Note'), note, ack, res);
  const el = h('div', { class: 'bulkbar' }, form, roleNote(ctx), out);

  function update() {
    const n = selected().length;
    count.textContent = n ? `${n} selected` : 'None selected';
    const off = n === 0 || !ctx.can('supervisor');
    ack.disabled = off;
    res.disabled = off;
  }

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const action = e.submitter?.value || 'acknowledge';
    const ids = selected();
    if (!ids.length) return;
    ack.disabled = res.disabled = true;
    clear(out);
    try {
      const answer = await api(`/v1/exceptions:${action}`, { method: 'POST', body: { ids, note: note.value } });
      const results = answer.results || [];
      const failed = results.filter((r) => !r.case);
      const applied = Number(answer.applied ?? results.length - failed.length);
      const msg = `${VERB[action]} ${applied} case${applied === 1 ? '' : 's'}` +
        (failed.length ? `; ${failed.length} refused` : '') + '.';
      out.append(h('p', { class: failed.length ? 'warn' : 'ok', role: 'status' }, msg));
      if (failed.length) {
        out.append(h('ul', { class: 'refused' },
          failed.map((r) => h('li', {}, `Case ${r.id}: ${r.error || 'refused'} (HTTP ${r.status})`))));
      }
      if (applied) note.value = '';
      announce(msg);
      onDone(results);
    } catch (ex) {
      out.append(errorBox(ex, `Could not ${action} the cases`));
    } finally {
      update();
    }
  });
  update();
  return { el, update };
}

// The action form on a case's page. onDone gets the case after the action.
export function caseActions(ctx, c, onDone) {
  const note = h('textarea', { id: 'case-note', name: 'note', rows: '2', placeholder: 'Note (what was done, why)' });
  const ack = h('button', { type: 'submit', value: 'acknowledge', id: 'case-ack' }, 'Acknowledge');
  const res = h('button', { type: 'submit', value: 'resolve', id: 'case-resolve', class: 'primary' }, 'Resolve');
  const out = h('div', { id: 'case-result', 'aria-live': 'polite' });
  const canAct = ctx.can('supervisor');
  ack.disabled = !canAct || c.status !== 'OPEN';
  res.disabled = !canAct || c.status === 'RESOLVED';
  const form = h('form', { class: 'actions', id: 'case-actions' },
    h('label', { for: 'case-note' }, 'Note'), note, h('div', { class: 'buttons' }, ack, res));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const action = e.submitter?.value || 'acknowledge';
    ack.disabled = res.disabled = true;
    clear(out);
    try {
      const after = await api(`/v1/exceptions/${encodeURIComponent(c.id)}:${action}`,
        { method: 'POST', body: { note: note.value } });
      announce(`${VERB[action]} case ${c.id}`);
      onDone(after);
    } catch (ex) {
      out.append(errorBox(ex, `Could not ${action} case ${c.id}`));
      ack.disabled = !canAct || c.status !== 'OPEN';
      res.disabled = !canAct || c.status === 'RESOLVED';
    }
  });
  if (c.status === 'RESOLVED') return h('div', {}, h('p', { class: 'muted' }, 'This case is resolved.'));
  return h('section', { 'aria-labelledby': 'act-h' }, h('h2', { id: 'act-h' }, 'Act'), roleNote(ctx), form, out);
}
