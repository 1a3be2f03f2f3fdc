// The supervisor's page: sign-in, the header, hash routing and the one live
// case stream every view shares.
//
// Routes: #/cases[?type=&status=&id=&from=&to=]  the worklist
//         #/cases/ID                              one case
//         #/parcels/ID #/bags/ID #/vehicles/ID #/loads/ID
//         #/dashboard[?from=&to=]                 the shift dashboard
//         #/signin
// A view is a function (root, route, ctx) that fills `root` and returns a
// function that stops whatever it started.

import { api, ApiError, storedToken, storeToken, forgetToken } from './api.js';
import { CaseStream } from './stream.js';
import { h, clear, errorBox, announce, notice } from './dom.js';
import { setZone, setHubClock, zoneLabel } from './time.js';
import { worklistView } from './worklist.js';
import { caseView } from './case.js';
import { parcelView, bagView, vehicleView, loadView } from './entities.js';
import { dashboardView } from './dashboard.js';

const ROLES = { viewer: 1, supervisor: 2, admin: 3 };

const ctx = {
  info: null,              // GET /v1/hub
  stream: new CaseStream(),
  lastWorklist: '#/cases', // where "back to the worklist" goes
  can(role) { return (ROLES[this.info?.role] || 0) >= ROLES[role]; },
};

let dispose = null;
let lastPath = null;
let afterSignIn = '#/cases';

function parseHash() {
  const raw = location.hash.replace(/^#/, '') || '/cases';
  const q = raw.indexOf('?');
  const path = q < 0 ? raw : raw.slice(0, q);
  const params = new URLSearchParams(q < 0 ? '' : raw.slice(q + 1));
  const parts = path.split('/').filter(Boolean).map((p) => {
    try { return decodeURIComponent(p); } catch { return p; }
  });
  return { path, parts, params, hash: `#${raw}` };
}

const VIEWS = {
  cases: (parts) => (parts.length > 1 ? caseView : worklistView),
  parcels: () => parcelView,
  bags: () => bagView,
  vehicles: () => vehicleView,
  loads: () => loadView,
  dashboard: () => dashboardView,
};

function route() {
  const r = parseHash();
  const main = document.getElementById('main');
  if (!ctx.info) {
    if (r.parts[0] !== 'signin') afterSignIn = r.hash;
    return show(main, signInView, r);
  }
  if (r.parts[0] === 'signin') {
    location.replace(afterSignIn || '#/cases');
    return;
  }
  const pick = VIEWS[r.parts[0]];
  if (!pick) {
    return show(main, (root) => {
      root.append(h('h1', { tabindex: '-1' }, 'No such page'),
        h('p', {}, 'Go to the ', h('a', { href: '#/cases' }, 'worklist'), '.'));
    }, r);
  }
  if (r.parts[0] === 'cases' && r.parts.length === 1) ctx.lastWorklist = r.hash;
  for (const a of document.querySelectorAll('[data-nav]')) {
    if (a.dataset.nav === r.parts[0]) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  show(main, pick(r.parts), r);
}

function show(main, view, r) {
  if (dispose) dispose();
  dispose = null;
  clear(main);
  const samePath = r.path === lastPath;
  lastPath = r.path;
  const d = view(main, r, ctx);
  dispose = typeof d === 'function' ? d : null;
  // A new page: focus its heading (keyboard and screen-reader users start
  // there). The same page with other filters keeps the focus where it is.
  if (!samePath) {
    const heading = main.querySelector('h1');
    if (heading) {
      heading.setAttribute('tabindex', '-1');
      heading.focus({ preventScroll: true });
    }
    window.scrollTo(0, 0);
  }
}

// --- sign-in -----------------------------------------------------------------

function signInView(root, r) {
  const err = h('div', { id: 'signin-error' });
  if (signInMessage) err.append(typeof signInMessage === 'string' ? notice(signInMessage) : errorBox(signInMessage));
  const input = h('input', {
    id: 'token', name: 'token', type: 'password', required: true, autocomplete: 'off',
    spellcheck: 'false', 'aria-describedby': 'token-help',
  });
  const button = h('button', { type: 'submit', class: 'primary' }, 'Sign in');
  const form = h('form', { class: 'signin card', id: 'signin' },
    h('h1', {}, 'Supervisor\u2019s desk'),
    h('p', {}, 'Sign in with your hubd API token.'),
    h('label', { for: 'token' }, 'Token'),
    input,
    h('p', { id: 'token-help', class: 'muted' },
      'Your administrator gives you a token ([[api.tokens]] in hubd.toml). ',
      'With none configured, hubd made one in its data directory: local-admin-token. ',
      'The page keeps it in this tab only, until you sign out or close the tab.'),
    err, button);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    button.disabled = true;
    clear(err);
    try {
      await signIn(input.value.trim());
      location.hash = afterSignIn || '#/cases';
      route();
    } catch (ex) {
      err.append(errorBox(ex.status === 401 ? new ApiError(401, `hubd refused this token: ${ex.message}`) : ex,
        'Could not sign in'));
      input.focus();
    } finally {
      button.disabled = false;
    }
  });
  root.append(form);
  setTimeout(() => input.focus(), 0);
}

let signInMessage = null;

async function signIn(token) {
  const info = await api('/v1/hub', { token });
  storeToken(token);
  ctx.info = info;
  signInMessage = null;
  setZone(info.time_zone || 'UTC');
  setHubClock(info.now_ms);
  renderBar();
  ctx.stream.start();
  announce(`Signed in as ${info.who}`);
}

function signOut(message) {
  forgetToken();
  ctx.stream.stop();
  ctx.info = null;
  signInMessage = message || null;
  document.getElementById('bar').hidden = true;
  if (dispose) dispose();
  dispose = null;
  lastPath = null;
  if (location.hash !== '#/signin') location.hash = '#/signin';
  else route();
}

function renderBar() {
  const bar = document.getElementById('bar');
  bar.hidden = false;
  document.getElementById('whoami').textContent = `${ctx.info.who} (${ctx.info.role})`;
  const zone = document.getElementById('zone');
  zone.textContent = zoneLabel();
  zone.title = 'All times on this page are in the hub\u2019s time zone';
}

function liveIndicator() {
  const el = document.getElementById('live');
  ctx.stream.addEventListener('state', (e) => {
    const { state, message } = e.detail;
    el.dataset.state = state;
    el.textContent = { live: 'Live', connecting: 'Connecting\u2026', down: 'Not live', idle: '' }[state];
    el.title = message || (state === 'live' ? 'Cases appear as the hub raises or changes them' : '');
  });
}

// --- start ---------------------------------------------------------------------

async function boot() {
  liveIndicator();
  document.getElementById('signout').addEventListener('click', () => signOut('Signed out.'));
  document.getElementById('find').addEventListener('submit', (e) => {
    e.preventDefault();
    const id = document.getElementById('find-id').value.trim();
    if (id) location.hash = `#/cases?id=${encodeURIComponent(id)}`;
  });
  window.addEventListener('hub:unauthorized', (e) => {
    if (ctx.info) signOut(new ApiError(401, `hubd no longer accepts the token: ${e.detail.message}`));
  });
  window.addEventListener('hashchange', route);
  document.addEventListener('keydown', (e) => {
    // '/' jumps to the find box, as on many sites.
    if (e.key === '/' && ctx.info && !/^(INPUT|TEXTAREA|SELECT)$/.test(document.activeElement?.tagName)) {
      e.preventDefault();
      document.getElementById('find-id').focus();
    }
  });
  const token = storedToken();
  if (token) {
    try {
      await signIn(token);
    } catch (ex) {
      if (ex.status === 401) forgetToken();
      signInMessage = ex;
    }
  }
  route();
}

boot();
