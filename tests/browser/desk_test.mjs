// The supervisor's page in a real browser (Debian's chromium, headless,
// driven by playwright-core) against a real hubd loaded with a generated
// day. It signs in (a wrong token first), filters the worklist, sees a case
// raised by a scanner appear live without a reload, acknowledges and then
// resolves two cases with one action each, follows a case to its parcel
// trace and on to its bag and load, reads the dashboard, and looks at the
// page at tablet width. Screenshots go to --out. Any console error, page
// error, failed request or error answer the test did not ask for fails it.
//
// node desk_test.mjs --hubd PATH --hubgen PATH --hubreplay PATH
//                    --modules DIR (holds node_modules/playwright-core)
//                    --out DIR [--chromium /usr/bin/chromium] [--keep]

import { spawn, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sendDamaged } from './scan_client.mjs';

// --- arguments -------------------------------------------------------------------
const args = {};
for (let i = 2; i < process.argv.length; i++) {
  const a = process.argv[i];
  if (!a.startsWith('--')) throw new Error(`unexpected argument ${a}`);
  const key = a.slice(2);
  if (key === 'keep') args.keep = true;
  else args[key] = process.argv[++i];
}
for (const k of ['hubd', 'hubgen', 'hubreplay', 'modules', 'out'])
  if (!args[k]) { console.error(`desk_test: --${k} is required`); process.exit(2); }
const CHROMIUM = args.chromium || '/usr/bin/chromium';
if (!fs.existsSync(CHROMIUM)) {
  console.error(`desk_test: no browser at ${CHROMIUM} (scripts/install-deps.sh installs Debian's chromium)`);
  process.exit(1);
}
const require = createRequire(path.join(path.resolve(args.modules), 'package.json'));
const { chromium } = require('playwright-core');

const HUB_ZONE = 'Asia/Shanghai';        // hubd's zone (TZ); the browser runs in another
const BROWSER_ZONE = 'America/New_York';
const SUP = 'browser-sup-token-0123456789';
const ADMIN = 'browser-admin-token-0123456789';
const VIEWER = 'browser-viewer-token-0123456789';
const NOTE_ACK = 'checked at the scale';
const NOTE_RES = 'recounted, all there';

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'hub-browser-'));
fs.mkdirSync(args.out, { recursive: true });
for (const f of fs.readdirSync(args.out)) if (f.endsWith('.png')) fs.rmSync(path.join(args.out, f));
const t0 = Date.now();
const log = (...m) => console.log(`[${((Date.now() - t0) / 1000).toFixed(1)}s]`, ...m);

// --- hubd ------------------------------------------------------------------------
const config = path.join(work, 'hubd.toml');
fs.writeFileSync(config, `durability = "wal"
[[api.tokens]]
name = "sup-li"
token = "${SUP}"
role = "supervisor"

[[api.tokens]]
name = "ops-admin"
token = "${ADMIN}"
role = "admin"

[[api.tokens]]
name = "viewer-wu"
token = "${VIEWER}"
role = "viewer"
`, { mode: 0o600 });

let hubd = null;
const hubdLog = [];
function startHubd() {
  return new Promise((resolve, reject) => {
    hubd = spawn(args.hubd, ['--data-dir', path.join(work, 'data'), '--listen', '127.0.0.1:0',
      '--http', '127.0.0.1:0', '--config', config], {
      env: { ...process.env, TZ: HUB_ZONE }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let rest = '';
    const timer = setTimeout(() => reject(new Error('hubd did not become ready in 30 s')), 30000);
    const onData = (chunk) => {
      rest += chunk.toString();
      const lines = rest.split('\n');
      rest = lines.pop();
      for (const line of lines) {
        hubdLog.push(line);
        const m = /event=ready listen=\S+:(\d+) http=\S+:(\d+)/.exec(line);
        if (m) { clearTimeout(timer); resolve({ scan: Number(m[1]), http: Number(m[2]) }); }
      }
    };
    hubd.stdout.on('data', onData);
    hubd.stderr.on('data', onData);
    hubd.on('exit', (code) => { clearTimeout(timer); reject(new Error(`hubd exited (${code}): ${hubdLog.slice(-5).join('\n')}`)); });
  });
}

function run(cmd, argv) {
  const r = spawnSync(cmd, argv, { encoding: 'utf8', timeout: 120000 });
  if (r.status !== 0) throw new Error(`${path.basename(cmd)} failed (${r.status}): ${r.stderr || r.stdout}`);
  return r.stdout;
}

// --- checks ------------------------------------------------------------------------
let steps = 0;
let page = null;
function check(cond, what) {
  if (!cond) throw new Error(`check failed: ${what}`);
}
async function step(name, fn) {
  log(`step: ${name}`);
  await fn();
  steps += 1;
  log(`ok ${steps} - ${name}`);
}
// The worklist of the current hash has been read.
async function listRead() {
  await page.waitForFunction(() => {
    const t = document.querySelector('#cases');
    return t && t.dataset.hash === location.hash && t.getAttribute('aria-busy') === 'false';
  });
}
let shot = 0;
async function screenshot(name) {
  shot += 1;
  const file = path.join(args.out, `${String(shot).padStart(2, '0')}-${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

// Hub-zone formatting as the page must do it, to compare with what it shows.
const hubFmt = new Intl.DateTimeFormat('en-GB', {
  timeZone: HUB_ZONE, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit',
  minute: '2-digit', second: '2-digit', hourCycle: 'h23',
});
function hubTime(ms) {
  const p = Object.fromEntries(hubFmt.formatToParts(new Date(Number(ms))).map((x) => [x.type, x.value]));
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second}`;
}

// --- the run -------------------------------------------------------------------------
let browser = null;
let closing = false;
let signingOut = false;
const problems = [];
const allowed = [];  // [{url: RegExp, status}] error answers a step asks for

async function main() {
  const ports = await startHubd();
  const base = `http://127.0.0.1:${ports.http}`;
  log(`hubd ready: scanner port ${ports.scan}, http ${base}`);
  const api = async (p, { token = SUP, method = 'GET', body } = {}) => {
    const res = await fetch(base + p, {
      method, headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${p}: ${res.status} ${text}`);
    return JSON.parse(text);
  };

  // A generated day, yesterday (UTC), so no event is ahead of hubd's clock.
  const day = new Date(Date.now() - 86400000).toISOString().slice(0, 10);
  const dayDir = path.join(work, 'day');
  run(args.hubgen, ['--parcels', '3000', '--seed', '14', '--date', day, '--out', dayDir]);
  run(args.hubreplay, ['--target', `127.0.0.1:${ports.scan}`, '--http', `127.0.0.1:${ports.http}`,
    '--in', dayDir, '--token', ADMIN]);
  const summary = await api('/v1/summary');
  const open = (summary.exceptions || []).map((t) => ({ type: t.type, open: Number(t.open || 0) }))
    .sort((a, b) => b.open - a.open);
  check(open.length > 0 && open[0].open >= 3, `the day raised cases (${JSON.stringify(open)})`);
  log(`day ${day} loaded: hub_seq ${summary.hub_seq}, open cases by type ${JSON.stringify(open.slice(0, 4))}`);

  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
  const context = await browser.newContext({
    viewport: { width: 1280, height: 900 }, timezoneId: BROWSER_ZONE, locale: 'en-US',
  });
  page = await context.newPage();
  page.setDefaultTimeout(10000);
  const isAllowed = (url, status) => allowed.some((a) => a.url.test(url) && (a.status === undefined || a.status === status));
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    const url = m.location()?.url || '';
    if (/Failed to load resource/.test(m.text()) && allowed.some((a) => a.url.test(url))) return;
    problems.push(`console error: ${m.text()} (${url})`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('requestfailed', (r) => {
    // The page ends its own stream when it signs out, and the browser when it closes.
    if ((closing || signingOut) && /\/v1\/exceptions\/stream/.test(r.url()) &&
        r.failure()?.errorText === 'net::ERR_ABORTED') return;
    problems.push(`request failed: ${r.method()} ${r.url()} ${r.failure()?.errorText}`);
  });
  page.on('response', (r) => {
    if (r.status() >= 400 && !isAllowed(r.url(), r.status()))
      problems.push(`error answer: ${r.status()} ${r.request().method()} ${r.url()}`);
  });

  await step('a wrong token is refused with the API\'s reason', async () => {
    allowed.push({ url: /\/v1\/hub$/, status: 401 });
    await page.goto(`${base}/`);
    await page.locator('#token').fill('not-a-token');
    await page.locator('#signin button[type=submit]').click();
    const err = page.locator('#signin-error .error');
    await err.waitFor();
    const text = await err.innerText();
    check(/refused/i.test(text) && /401/.test(text), `sign-in error says refused and 401: "${text}"`);
    await screenshot('signin-refused');
    allowed.pop();
  });

  await step('sign in; the worklist shows the newest cases in the hub\'s zone', async () => {
    await page.locator('#token').fill(SUP);
    await page.locator('#token').press('Enter');
    await page.locator('#cases tbody tr').first().waitFor();
    check((await page.locator('#whoami').innerText()) === 'sup-li (supervisor)', 'who is signed in');
    check((await page.locator('#zone').innerText()).includes(HUB_ZONE), 'the zone is shown');
    check(await page.evaluate(() => sessionStorage.getItem('hubd.token') !== null && localStorage.length === 0),
      'the token is in sessionStorage only');
    const newest = await api('/v1/exceptions?order=newest&limit=1');
    const c = newest.exceptions[0];
    const row = page.locator('#cases tbody tr').first();
    check((await row.getAttribute('data-id')) === c.id, `newest case first (${c.id})`);
    const shown = await row.locator('time').first().innerText();
    check(shown === hubTime(c.event_time_ms), `time in hub zone: shown "${shown}", want "${hubTime(c.event_time_ms)}"`);
    await page.locator('#live[data-state=live]').waitFor();
    await screenshot('worklist');
  });

  await step('page through older cases', async () => {
    const total = (summary.exceptions || []).reduce((n, t) =>
      n + Number(t.open || 0) + Number(t.acknowledged || 0) + Number(t.resolved || 0), 0);
    check(total > 100, `the day has more than a page of cases (${total})`);
    check(await page.locator('#cases tbody tr').count() === 100, 'the first page has 100 rows');
    await page.locator('#older').click();
    await page.waitForFunction((n) => document.querySelectorAll('#cases tbody tr').length === n, Math.min(200, total));
    const ids = await page.locator('#cases tbody tr').evaluateAll((rows) => rows.map((r) => Number(r.dataset.id)));
    check(ids.every((id, i) => i === 0 || ids[i - 1] > id), 'newest first, no repeats');
  });

  const pick = open[0];
  await step(`filter the worklist: ${pick.type}, open`, async () => {
    await page.locator('#f-type').selectOption(pick.type);
    await page.locator('#f-status').selectOption('OPEN');
    await page.locator('#apply-filters').click();
    await page.waitForFunction((t) => location.hash.includes(`type=${t}`), pick.type);
    await listRead();
    const types = await page.locator('#cases tbody tr .type').allInnerTexts();
    const statuses = await page.locator('#cases tbody tr .status').allInnerTexts();
    check(types.length === Math.min(100, pick.open), `${types.length} rows for ${pick.open} open ${pick.type}`);
    check(types.every((t) => t === pick.type), 'every row has the type');
    check(statuses.every((s) => s === 'Open'), 'every row is open');
    await screenshot('worklist-filtered');
  });

  let liveId = null;
  const liveParcel = 'P-LIVE-0001';
  await step('a case raised by a scanner appears live, without a reload', async () => {
    await page.goto(`${base}/#/cases?type=DAMAGED&status=OPEN`);
    await listRead();
    await page.evaluate(() => { window.__sameDocument = true; });
    await sendDamaged({ port: ports.scan, scannerId: 'DESK-BROWSER', station: 'ST-DESK-B',
      parcelId: liveParcel, timeMs: Date.now() });
    const row = page.locator('#cases tbody tr', { hasText: liveParcel });
    await row.waitFor({ timeout: 10000 });
    check(await page.evaluate(() => window.__sameDocument === true), 'the page was not reloaded');
    liveId = await row.getAttribute('data-id');
    check((await page.locator('#cases tbody tr').first().getAttribute('data-id')) === liveId, 'the new case is on top');
    await screenshot('worklist-live-case');
  });

  let otherId = null;
  await step('acknowledge two cases in one action, then resolve both in one action', async () => {
    // One chosen with the keyboard (Space on its row), one with its checkbox.
    const first = page.locator(`#cases tbody tr[data-id="${liveId}"]`);
    const second = page.locator('#cases tbody tr').nth(1);
    otherId = await second.getAttribute('data-id');
    await first.focus();
    await page.keyboard.press(' ');
    await second.locator('input.pick').check();
    check((await page.locator('#selected-count').innerText()) === '2 selected', 'two selected');
    await page.locator('#bulk-note').fill(NOTE_ACK);
    await page.locator('#bulk-ack').click();
    await page.locator('#bulk-result').filter({ hasText: 'Acknowledged 2 cases.' }).waitFor();
    for (const id of [liveId, otherId])
      await page.locator(`#cases tbody tr[data-id="${id}"] .status`).filter({ hasText: 'Acknowledged' }).waitFor();
    await first.locator('input.pick').check();
    await second.locator('input.pick').check();
    await page.locator('#bulk-note').fill(NOTE_RES);
    await page.locator('#bulk-resolve').click();
    await page.locator('#bulk-result').filter({ hasText: 'Resolved 2 cases.' }).waitFor();
    for (const id of [liveId, otherId]) {
      await page.locator(`#cases tbody tr[data-id="${id}"] .status`).filter({ hasText: 'Resolved' }).waitFor();
      const c = await api(`/v1/exceptions/${id}`);
      check(c.status === 'RESOLVED' && c.acknowledged?.by === 'sup-li' && c.acknowledged?.note === NOTE_ACK &&
        c.resolved?.by === 'sup-li' && c.resolved?.note === NOTE_RES, `case ${id} in hubd: ${JSON.stringify(c)}`);
    }
    await screenshot('worklist-bulk-resolved');
  });

  await step('the case shows its history: who, when, note', async () => {
    await page.locator(`#cases tbody tr[data-id="${liveId}"] a.case-link`).click();
    const hist = page.locator('#case-history');
    await hist.filter({ hasText: 'Resolved' }).waitFor();
    const text = await hist.innerText();
    for (const want of ['Raised', 'Acknowledged', 'Resolved', 'sup-li', NOTE_ACK, NOTE_RES, 'DESK-BROWSER'])
      check(text.includes(want), `history names "${want}": ${text}`);
    check(await page.locator(`#case-body a[href="#/parcels/${liveParcel}"]`).count() === 1, 'the parcel is a link');
    await screenshot('case-history');
  });

  // A case whose parcel went into an outbound bag that went onto a load.
  let target = null;
  for (const type of ['MISSORT', 'DAMAGED', 'MISBAGGED', 'HELD_PARCEL', 'DUPLICATE_PARCEL']) {
    const list = await api(`/v1/exceptions?type=${type}&limit=30`);
    for (const c of list.exceptions || []) {
      if (!c.parcel_id) continue;
      const p = await api(`/v1/parcels/${encodeURIComponent(c.parcel_id)}`);
      if (!p.outbound_bag) continue;
      const b = await api(`/v1/bags/${encodeURIComponent(p.outbound_bag)}`);
      if (b.load_id) { target = { c, p, b }; break; }
    }
    if (target) break;
  }
  check(target, 'the day has a case whose parcel was bagged and loaded');

  await step(`follow case ${target.c.id} to parcel ${target.c.parcel_id}, its bag ${target.p.outbound_bag} and load ${target.b.load_id}`, async () => {
    // Find by id (the header's find box), then open the case with the keyboard.
    await page.locator('#find-id').fill(target.c.parcel_id);
    await page.locator('#find-id').press('Enter');
    const row = page.locator(`#cases tbody tr[data-id="${target.c.id}"]`);
    await row.waitFor();
    await row.focus();
    await page.keyboard.press('Enter');
    await page.waitForFunction((id) => location.hash === `#/cases/${id}`, target.c.id);
    await page.locator('#case-body dl').waitFor();
    await page.locator(`#case-body a[href="#/parcels/${encodeURIComponent(target.c.parcel_id)}"]`).first().click();
    await page.locator('#parcel-body table').first().waitFor();
    check((await page.locator('h1').innerText()).includes(target.c.parcel_id), 'the parcel page');
    const traceRows = await page.locator('#parcel-body table caption', { hasText: 'Trace' }).locator('xpath=..').locator('tbody tr').count();
    check(traceRows === target.p.entries.length, `trace shows ${traceRows} of ${target.p.entries.length} records`);
    await screenshot('parcel-trace');
    await page.locator(`#parcel-body dl a[href="#/bags/${encodeURIComponent(target.p.outbound_bag)}"]`).click();
    await page.locator('#bag-body dl').waitFor();
    check((await page.locator('#bag-body').innerText()).includes(target.c.parcel_id), 'the bag lists the parcel');
    await screenshot('bag');
    await page.locator(`#bag-body dl a[href="#/loads/${encodeURIComponent(target.b.load_id)}"]`).click();
    await page.locator('#load-body table').first().waitFor();
    const bagLink = page.locator(`#load-body table a[href="#/bags/${encodeURIComponent(target.p.outbound_bag)}"]`);
    check(await bagLink.count() === 1, 'the load lists the bag');
    await screenshot('load');
    await page.goBack();
    await page.locator('#bag-body dl').waitFor();
    check(page.url().endsWith(`#/bags/${encodeURIComponent(target.p.outbound_bag)}`), 'back goes to the bag');
  });

  await step('read the shift dashboard', async () => {
    await page.locator('nav a[data-nav=dashboard]').click();
    await page.locator('#d-from').fill(`${day}T00:00`);
    await page.locator('#d-to').fill('');
    await page.locator('#window button[type=submit]').click();
    await page.waitForFunction(() => location.hash.includes('from='));
    await page.locator('#per-hour').waitFor();
    const report = await api(`/v1/report?from=${day}T00:00`);
    const bars = await page.locator('#per-hour g.bar').count();
    check(bars === report.per_hour.length, `${bars} bars for ${report.per_hour.length} hours`);
    const raised = await page.locator('#stat-raised .value').innerText();
    check(raised === String(report.raised), `raised ${raised} vs report ${report.raised}`);
    const openNow = await page.locator('#stat-open .value').innerText();
    check(openNow === String(report.open_now), `open now ${openNow} vs ${report.open_now}`);
    if (report.oldest_open?.id)
      check(await page.locator(`#stat-oldest a[href="#/cases/${report.oldest_open.id}"]`).count() === 1, 'oldest open case linked');
    const lb = report.left_behind || [];
    const lbRows = await page.locator('#left-behind tbody tr').count();
    check(lbRows === lb.length, `${lbRows} loads with parcels left behind, report has ${lb.length}`);
    if (lb.length)
      check(await page.locator(`#left-behind a[href="#/loads/${encodeURIComponent(lb[0].load_id)}"]`).count() === 1, 'load linked');
    const byType = await page.locator('#open-by-type tbody tr').count();
    check(byType > 0, 'open cases by type');
    await screenshot('dashboard');
  });

  await step('a time the API cannot read: its error, said plainly', async () => {
    allowed.push({ url: /\/v1\/exceptions\?/, status: 400 });
    await page.goto(`${base}/#/cases`);
    await page.locator('#f-from').fill('yesterday');
    await page.locator('#f-from').press('Enter');
    const err = page.locator('#list-errors .error');
    await err.waitFor();
    const text = await err.innerText();
    check(/from/.test(text) && /400/.test(text), `the error names the parameter: "${text}"`);
    await screenshot('worklist-bad-time');
    allowed.pop();
  });

  await step('sign out; a viewer reads but cannot act', async () => {
    signingOut = true;
    await page.locator('#signout').click();
    await page.locator('#token').waitFor();
    check(await page.evaluate(() => sessionStorage.getItem('hubd.token') === null), 'the token is gone');
    signingOut = false;
    await page.locator('#token').fill(VIEWER);
    await page.locator('#token').press('Enter');
    await page.locator('#cases tbody tr').first().waitFor();
    check((await page.locator('#whoami').innerText()) === 'viewer-wu (viewer)', 'the viewer is signed in');
    await page.locator('#cases tbody tr').first().focus();
    await page.keyboard.press(' ');
    check(await page.locator('#bulk-ack').isDisabled() && await page.locator('#bulk-resolve').isDisabled(),
      'a viewer cannot acknowledge or resolve');
    check((await page.locator('.bulkbar').innerText()).includes('may read only'), 'and is told why');
  });

  await step('a tablet (768 px wide): no sideways scrolling', async () => {
    await page.setViewportSize({ width: 768, height: 1024 });
    for (const [hash, ready, name] of [['#/cases', '#cases tbody tr', 'tablet-worklist'],
      [`#/cases/${target.c.id}`, '#case-body dl', 'tablet-case'],
      [`#/dashboard?from=${day}T00:00`, '#per-hour', 'tablet-dashboard']]) {
      await page.goto(`${base}/${hash}`);
      await page.locator(ready).first().waitFor();
      const wide = await page.evaluate(() => document.documentElement.scrollWidth);
      check(wide <= 768, `${hash} is ${wide} px wide`);
      await screenshot(name);
    }
  });

  await step('hubd serves the page with its headers', async () => {
    const res = await fetch(`${base}/`);
    const html = await res.text();
    check(res.status === 200 && res.headers.get('content-type').startsWith('text/html'), 'GET / is the page');
    check(html.includes('/ui/js/main.js'), 'the page loads its module');
    // Revalidated on every load (the files change with hubd), nothing from
    // another origin, not framed elsewhere, types as sent.
    check(/no-cache/.test(res.headers.get('cache-control') || ''), `Cache-Control: ${res.headers.get('cache-control')}`);
    const csp = res.headers.get('content-security-policy') || '';
    check(/default-src 'self'/.test(csp) && /frame-ancestors 'none'/.test(csp), `Content-Security-Policy: ${csp}`);
    check(res.headers.get('x-content-type-options') === 'nosniff', 'X-Content-Type-Options: nosniff');
    const js = await fetch(`${base}/ui/js/main.js`);
    check(js.status === 200 && js.headers.get('content-type').startsWith('text/javascript'), 'a module');
    const missing = await fetch(`${base}/ui/nope.js`);
    check(missing.status === 404, 'an unknown asset is a 404');
    const post = await fetch(`${base}/`, { method: 'POST' });
    check(post.status === 405, 'POST / is a 405');
  });

  check(problems.length === 0, `the browser saw no errors:\n  ${problems.join('\n  ')}`);
}

let failed = false;
try {
  await main();
} catch (e) {
  failed = true;
  console.error(`FAILED: ${e.stack || e.message}`);
  if (problems.length) console.error(`browser problems:\n  ${problems.join('\n  ')}`);
  if (page) {
    try { console.error(`failure screenshot: ${await screenshot('failure')}`); } catch { /* page gone */ }
  }
  console.error(`hubd log (last lines):\n${hubdLog.slice(-15).join('\n')}`);
} finally {
  closing = true;
  if (browser) await browser.close().catch(() => {});
  if (hubd && hubd.exitCode === null) {
    hubd.removeAllListeners('exit');
    hubd.kill('SIGTERM');
    await new Promise((r) => { const t = setTimeout(() => { hubd.kill('SIGKILL'); r(); }, 10000); hubd.on('exit', () => { clearTimeout(t); r(); }); });
  }
  if (!args.keep) fs.rmSync(work, { recursive: true, force: true });
}
log(`screenshots in ${args.out}`);
console.log(`${steps} passed, ${failed ? 1 : 0} failed`);
process.exit(failed ? 1 : 0);
