// bench/console.mjs: the first meaningful paint of the supervisor's overdue
// board (issue 15, "How fast"): Debian's Chromium (playwright-core from
// tests/browser/node_modules), a fresh browser context per load (no cache,
// a new TLS handshake with LOGIN's client certificate), #/board opened, and
// the performance mark the board sets when its first rows are drawn
// (clients/web/views/overdue_board.js, 'board-first-rows') read: ms since the
// navigation started.  Prints one line per load, then "median MS min MS max
// MS rows N".  BENCH_CONSOLE_DETAIL=1: a waterfall of each load too (every
// request the page made, its op for POST /api, when it started and ended,
// its connection set-up), where the time goes.
//
// With SOCKET (host:port of streetd's line protocol) and PUSHES > 0: a change
// made on the socket appearing on an open page (issue 15, "within 1 s"): the
// ticket page of the board's first ticket open in Chromium, then PUSHES times
// a comment sent on a TLS socket as LOGIN (what streetctl does), timed from
// the request's write to its event's row in the page's timeline (a
// MutationObserver stamps it with the wall clock of the same machine): commit
// and push included.  Prints one line "push median MS p99 MS max MS n N rtt
// MS" (rtt: the comment's own request-to-reply median, for scale) before the
// median line.
//
// BENCH_CONSOLE_VARIANTS="NAME=DIR …" with BENCH_CONSOLE_ROOT=LINK (the
// daemon's http.web_root, a symbolic link): compares copies of clients/web
// on the same daemon and browser: each round points LINK at every variant's
// DIR in turn (streetd resolves its web root per request) and loads the
// board once with it; prints "variant NAME median MS min MS max MS [paired
// R]; drawn median MS …" per variant (R: the median of each round's ratio
// to the first variant; drawn: from the board's 'board-data' mark, its
// answer in, to its rows drawn, the page's own part, much less noisy than
// the whole; no push row, no median line).
//
// How Chromium gets the client certificate (BENCH_CONSOLE_PROXY):
// - native (the default): as a clerk's browser holds it.  A private HOME is
//   made for the run (a temporary folder, removed at the end): an NSS
//   database in HOME/.pki/nssdb (Chromium's on Linux; certutil and pk12util
//   from libnss3-tools) with LOGIN's PKCS#12 imported, as
//   `scripts/streetd-admin cert-export` writes it for a browser, and the
//   bench's CA trusted for servers (so no certificate error is ignored);
//   a profile (--user-data-dir) whose Preferences select that certificate
//   for URL's origin without asking: the "auto-select-certificate" website
//   setting, what the AutoSelectCertificateForUrls policy sets, kept in the
//   profile so that nothing is written outside the temporary folder (no
//   /etc/chromium/policies).  Without the setting headless Chromium waits
//   at the server's certificate request for a choice no one makes (the
//   navigation times out); there is no command-line switch for it.  Chromium is started by this script with a DevTools
//   port and driven through it (playwright's connectOverCDP); each load is
//   a new browser context (its own cache and connections, nothing kept from
//   the last load; the NSS database is the process's, as in a browser).
// - BENCH_CONSOLE_PROXY=1: playwright's `clientCertificates`: Chromium
//   talks to a TLS-terminating proxy inside this node process, which talks
//   to streetd with the certificate: every connection is two handshakes and
//   passes node's event loop, which the figure includes (a harness artefact;
//   sessions 6 and 7 measured so).
// - BENCH_CONSOLE_PROXY=both: the two browsers at once, the loads taking
//   turns (each round starting with the next); a line "mode NAME median MS
//   min MS max MS [paired R]" each (R: the median of each round's ratio to
//   native), then the median line of native.  With BENCH_CONSOLE_VARIANTS
//   every variant is loaded in each mode ("variant NAME/MODE …").
// Usage: node bench/console.mjs URL TLS_DIR LOGIN LOADS [SOCKET PUSHES]
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { connect } from 'node:tls';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(join(dirname(fileURLToPath(import.meta.url)), '..', 'tests', 'browser', 'package.json'));
const { chromium } = require('playwright-core');
const [url, tls, login, loadsArg, socketAddr, pushesArg] = process.argv.slice(2);
const pushes = Number(pushesArg || 0);
const loads = Number(loadsArg || 9);
const detail = process.env.BENCH_CONSOLE_DETAIL === '1';
const proxy = process.env.BENCH_CONSOLE_PROXY === '1';
const chromiumPath = process.env.STREETD_CHROMIUM || '/usr/bin/chromium';
const chromiumArgs = ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'];

// One line per request, times in ms since navigation start (playwright's
// timing: startTime is wall clock, the rest relative to it; -1 = not done,
// e.g. a reused connection has no connect).
async function waterfall(page, reqs) {
  const nav = await page.evaluate(() => {
    const n = performance.getEntriesByType('navigation')[0];
    return { origin: performance.timeOrigin, dcl: n.domContentLoadedEventEnd, load: n.loadEventEnd };
  });
  const rows = [];
  for (const r of reqs) {
    const tm = r.timing();
    const at = tm.startTime - nav.origin;
    let what = new URL(r.url()).pathname;
    if (r.method() === 'POST') {
      try { what += ' ' + JSON.parse(r.postData()).op; } catch (e) { /* not JSON */ }
    }
    const size = (await r.sizes().catch(() => ({ responseBodySize: 0 }))).responseBodySize;
    rows.push({ at, what, connect: tm.connectStart >= 0 ? tm.connectEnd - tm.connectStart : 0,
      wait: tm.responseStart - tm.requestStart, end: at + tm.responseEnd, size });
  }
  rows.sort((a, b) => a.at - b.at);
  for (const x of rows) {
    console.log(`  ${x.at.toFixed(0).padStart(6)} → ${x.end.toFixed(0).padStart(6)} ms  ${x.what.padEnd(32)}`
      + ` connect ${x.connect.toFixed(0).padStart(4)}  wait ${x.wait.toFixed(0).padStart(4)}  ${x.size} B`);
  }
  console.log(`  DOMContentLoaded ${nav.dcl.toFixed(0)} ms, load ${nav.load.toFixed(0)} ms`);
  // the page's own marks (the board's: its answer in, its rows in the DOM, drawn)
  const marks = await page.evaluate(() => performance.getEntriesByType('mark').map((m) => [m.name, m.startTime]));
  console.log('  marks: ' + marks.map(([n, t]) => `${n} ${t.toFixed(0)}`).join(', '));
}

// Native mode (see the header): the private HOME with LOGIN's certificate
// in its NSS database, Chromium started on it; resolves to {browser, done}.
async function nativeBrowser() {
  const home = mkdtempSync(join(tmpdir(), 'streetd-bench-chromium-'));
  let proc = null;
  const done = async () => {
    if (proc && proc.exitCode === null) {
      const gone = new Promise((resolve) => proc.once('exit', resolve));
      proc.kill('SIGTERM');
      await gone;
    }
    rmSync(home, { recursive: true, force: true });
  };
  try {
    const nss = 'sql:' + join(home, '.pki', 'nssdb');
    mkdirSync(join(home, '.pki', 'nssdb'), { recursive: true });
    const pw = join(home, 'p12.pw');
    writeFileSync(pw, 'bench-only-' + process.pid + '\n', { mode: 0o600 });
    const run = (cmd, args, env) => execFileSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...env } });
    run('certutil', ['-N', '-d', nss, '--empty-password']);
    // the CA trusted for servers first (the PKCS#12 carries it too, untrusted)
    run('certutil', ['-A', '-d', nss, '-n', 'streetd bench CA', '-t', 'C,,', '-i', `${tls}/ca.crt`]);
    // the PKCS#12 a clerk imports (docs/console.md), made the same way
    const root = join(dirname(fileURLToPath(import.meta.url)), '..');
    run(join(root, 'scripts', 'streetd-admin'), ['cert-export', tls, login, '--out', join(home, login + '.p12'), '--password-file', pw]);
    run('pk12util', ['-i', join(home, login + '.p12'), '-d', nss, '-w', pw]);
    // the profile: LOGIN's certificate chosen for the origin without a prompt
    const profile = join(home, 'profile');
    mkdirSync(join(profile, 'Default'), { recursive: true });
    const origin = new URL(url).origin;
    writeFileSync(join(profile, 'Default', 'Preferences'), JSON.stringify({
      profile: { content_settings: { exceptions: { auto_select_certificate: {
        [`${origin},*`]: { setting: { filters: [{ SUBJECT: { CN: login } }] } },
      } } } },
    }));
    proc = spawn(chromiumPath, [...chromiumArgs, '--headless', '--remote-debugging-port=0', `--user-data-dir=${profile}`,
      '--no-first-run', '--no-default-browser-check', '--password-store=basic', 'about:blank'],
    { env: { ...process.env, HOME: home }, stdio: ['ignore', 'ignore', 'pipe'] });
    const ws = await new Promise((resolve, reject) => {
      let err = '';
      proc.stderr.on('data', (d) => {
        err += d;
        const m = /DevTools listening on (ws:\S+)/.exec(err);
        if (m) resolve(m[1]);
      });
      proc.once('exit', (code) => reject(new Error('chromium exited ' + code + ': ' + err.slice(-2000))));
    });
    proc.stderr.resume();
    return { browser: await chromium.connectOverCDP(ws), done };
  } catch (e) {
    await done();
    throw e;
  }
}

// BENCH_CONSOLE_PROXY: 1 the proxy only, both: the two (loads taking turns)
const modes = { 1: ['proxy'], both: ['native', 'proxy'] }[process.env.BENCH_CONSOLE_PROXY] || ['native'];
const browsers = {};
for (const m of modes) {
  browsers[m] = m === 'proxy'
    ? { browser: await chromium.launch({ executablePath: chromiumPath, headless: true, args: chromiumArgs }), done: async () => {} }
    : await nativeBrowser();
}
console.log('client certificate: ' + modes.map((m) => (m === 'proxy' ? "proxy (playwright's clientCertificates)"
  : "native (Chromium's own, NSS database, auto-selected)")).join('; '));

// A fresh context of mode's browser: its own cache and connections.
function newContext(mode) {
  if (mode === 'proxy') {
    return browsers.proxy.browser.newContext({
      ignoreHTTPSErrors: true,
      clientCertificates: [{ origin: url, certPath: `${tls}/${login}.crt`, keyPath: `${tls}/${login}.key` }],
    });
  }
  return browsers.native.browser.newContext();
}

// A line-protocol client on streetd's socket: call(op, fields) -> the reply
// object (pushes and other lines are skipped).
async function lineClient(addr) {
  const [host, port] = addr.split(':');
  const sock = connect({ host, port: Number(port), cert: readFileSync(`${tls}/${login}.crt`),
    key: readFileSync(`${tls}/${login}.key`), rejectUnauthorized: false });
  await new Promise((resolve, reject) => { sock.once('secureConnect', resolve); sock.once('error', reject); });
  const waiting = new Map();
  let buf = '';
  let next = 1;
  sock.setEncoding('utf8');
  sock.on('data', (d) => {
    buf += d;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      let m;
      try { m = JSON.parse(line); } catch (e) { continue; }
      const w = m && m.id !== undefined && waiting.get(m.id);
      if (w) { waiting.delete(m.id); w(m); }
    }
  });
  return {
    call(op, fields) {
      const id = next++;
      return new Promise((resolve) => {
        waiting.set(id, resolve);
        sock.write(JSON.stringify({ id, op, ...fields }) + '\n');
      });
    },
    close() { sock.end(); },
  };
}

// The push row: see the header.
async function pushLatency(ctx, ticket) {
  const page = await ctx.newPage();
  await page.goto(url + '/#/ticket/' + ticket);
  await page.waitForSelector('#timeline li[data-seq]');
  // the page appends pushed events only once its timeline is complete (a
  // ticket of an earlier run has its comments): read every older page first
  for (let i = 0; i < 100 && await page.locator('#timeline-more:not(.hidden)').count(); i++) {
    const n = await page.locator('#timeline li[data-seq]').count();
    await page.click('#timeline-more');
    await page.waitForFunction((m) => document.querySelectorAll('#timeline li[data-seq]').length > m, n);
  }
  await page.evaluate(() => {
    window.benchSeen = new Map();
    new MutationObserver(() => {
      const now = performance.timeOrigin + performance.now();
      for (const li of document.querySelectorAll('#timeline li[data-seq]')) {
        if (!window.benchSeen.has(li.dataset.seq)) window.benchSeen.set(li.dataset.seq, now);
      }
    }).observe(document.getElementById('timeline'), { childList: true, subtree: true });
  });
  const c = await lineClient(socketAddr);
  const lat = [];
  const rtt = [];
  try {
    for (let i = 0; i < pushes; i++) {
      const t0 = performance.timeOrigin + performance.now();
      const r = await c.call('comment', { ticket, text: `bench push ${i}` });
      rtt.push(performance.timeOrigin + performance.now() - t0);
      if (!r.ok) throw new Error('comment: ' + JSON.stringify(r.error));
      const seq = String(r.result.event.seq);
      const at = await page.waitForFunction((s) => window.benchSeen.get(s) || null, seq, { timeout: 10000 })
        .then((h) => h.jsonValue());
      lat.push(at - t0);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  } finally {
    c.close();
  }
  lat.sort((a, b) => a - b);
  rtt.sort((a, b) => a - b);
  const q = (a, f) => a[Math.min(a.length - 1, Math.ceil(f * a.length) - 1)];
  console.log(`push median ${q(lat, 0.5).toFixed(1)} p99 ${q(lat, 0.99).toFixed(1)} max ${lat[lat.length - 1].toFixed(1)}`
    + ` n ${lat.length} rtt ${q(rtt, 0.5).toFixed(1)}`);
}

// One load of the board in a fresh context: ms to the mark.
async function boardLoad(label, mode) {
  const ctx = await newContext(mode);
  const page = await ctx.newPage();
  const reqs = [];
  if (detail) page.on('requestfinished', (r) => reqs.push(r));
  await page.goto(url + '/#/board');
  const [ms, data] = await page.waitForFunction(() => {
    const m = performance.getEntriesByName('board-first-rows')[0];
    const d = performance.getEntriesByName('board-data')[0];
    return m ? [m.startTime, d ? d.startTime : null] : null;
  }, null, { timeout: 60000 }).then((h) => h.jsonValue());
  // the page's own part: from the board's answer in to its rows drawn
  lastDraw = data === null ? null : ms - data;
  rows = await page.locator('#board-rows tr').count();
  firstTicket = Number(await page.locator('#board-rows tr').first().getAttribute('data-ticket'));
  if (detail) {
    console.log(`waterfall ${label}:`);
    await waterfall(page, reqs);
  }
  await ctx.close();
  return ms;
}

const summary = (a) => {
  const s = [...a].sort((x, y) => x - y);
  return `median ${s[Math.floor(s.length / 2)].toFixed(1)} min ${s[0].toFixed(1)} max ${s[s.length - 1].toFixed(1)}`;
};

// ratio of each round's b to a (same round, neighbouring loads): its median
const paired = (a, b) => {
  const r = a.map((x, i) => b[i] / x).sort((x, y) => x - y);
  return r[Math.floor(r.length / 2)];
};

let rows = 0;
let firstTicket = null;
let lastDraw = null;
const variants = (process.env.BENCH_CONSOLE_VARIANTS || '').split(/\s+/).filter(Boolean).map((x) => x.split('='));
const link = process.env.BENCH_CONSOLE_ROOT;
// the arms compared: each variant (or the daemon's own web root) in each mode
const arms = [];
for (const [n, dir] of variants.length ? variants : [[null, null]]) {
  for (const m of modes) arms.push({ name: [n, modes.length > 1 ? m : null].filter(Boolean).join('/') || m, dir, mode: m, times: [], draws: [] });
}
try {
  if (variants.length && !link) throw new Error('BENCH_CONSOLE_VARIANTS needs BENCH_CONSOLE_ROOT');
  for (let i = 0; i < loads + 1; i++) {
    // the arms take turns, starting each round with the next one; the first
    // round warms streetd's and PostgreSQL's caches: not counted
    for (let j = 0; j < arms.length; j++) {
      const arm = arms[(i + j) % arms.length];
      if (arm.dir) {
        symlinkSync(arm.dir, link + '.new');
        renameSync(link + '.new', link);
      }
      const ms = await boardLoad(`${arm.name} load ${i}`, arm.mode);
      console.log(`load ${i}${i === 0 ? ' (warm-up)' : ''} ${arm.name}: ${ms.toFixed(1)} ms, ${rows} rows`
        + (lastDraw === null ? '' : `, drawn in ${lastDraw.toFixed(1)} ms`));
      if (i > 0) {
        arm.times.push(ms);
        if (lastDraw !== null) arm.draws.push(lastDraw);
      }
    }
  }
  if (arms.length > 1) {
    for (const arm of arms) {
      const vs = arm === arms[0] ? '' : ` paired ${paired(arms[0].times, arm.times).toFixed(2)} (to ${arms[0].name})`;
      const drawn = arm.draws.length ? `; drawn ${summary(arm.draws)}` : '';
      console.log(`${variants.length ? 'variant' : 'mode'} ${arm.name} ${summary(arm.times)}${vs}${drawn}`);
    }
  }
  if (!variants.length && socketAddr && pushes > 0) {
    const ctx = await newContext(modes[0]);
    await pushLatency(ctx, firstTicket);
    await ctx.close();
  }
} finally {
  for (const b of Object.values(browsers)) {
    await b.browser.close();
    await b.done();
  }
}
// the row's figure: the first mode's (native unless BENCH_CONSOLE_PROXY=1)
if (!variants.length) console.log(`${summary(arms[0].times)} rows ${rows}`);
