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
// board once with it; prints "variant NAME median MS min MS max MS" per
// variant (no push row, no median line).
// Usage: node bench/console.mjs URL TLS_DIR LOGIN LOADS [SOCKET PUSHES]
import { readFileSync, renameSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { connect } from 'node:tls';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(join(dirname(fileURLToPath(import.meta.url)), '..', 'tests', 'browser', 'package.json'));
const { chromium } = require('playwright-core');
const [url, tls, login, loadsArg, socketAddr, pushesArg] = process.argv.slice(2);
const pushes = Number(pushesArg || 0);
const loads = Number(loadsArg || 9);
const detail = process.env.BENCH_CONSOLE_DETAIL === '1';

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
}

const browser = await chromium.launch({
  executablePath: process.env.STREETD_CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
});
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
async function boardLoad(label) {
  const ctx = await browser.newContext({
    ignoreHTTPSErrors: true,
    clientCertificates: [{ origin: url, certPath: `${tls}/${login}.crt`, keyPath: `${tls}/${login}.key` }],
  });
  const page = await ctx.newPage();
  const reqs = [];
  if (detail) page.on('requestfinished', (r) => reqs.push(r));
  await page.goto(url + '/#/board');
  const ms = await page.waitForFunction(() => {
    const m = performance.getEntriesByName('board-first-rows')[0];
    return m ? m.startTime : null;
  }, null, { timeout: 60000 }).then((h) => h.jsonValue());
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

const times = [];
let rows = 0;
let firstTicket = null;
const variants = (process.env.BENCH_CONSOLE_VARIANTS || '').split(/\s+/).filter(Boolean).map((x) => x.split('='));
const link = process.env.BENCH_CONSOLE_ROOT;
try {
  if (variants.length) {
    if (!link) throw new Error('BENCH_CONSOLE_VARIANTS needs BENCH_CONSOLE_ROOT');
    const by = new Map(variants.map(([n]) => [n, []]));
    for (let i = 0; i < loads + 1; i++) {
      // the variants take turns, starting each round with the next one
      for (let j = 0; j < variants.length; j++) {
        const [n, dir] = variants[(i + j) % variants.length];
        symlinkSync(dir, link + '.new');
        renameSync(link + '.new', link);
        const ms = await boardLoad(`${n} load ${i}`);
        console.log(`load ${i}${i === 0 ? ' (warm-up)' : ''} ${n}: ${ms.toFixed(1)} ms, ${rows} rows`);
        if (i > 0) by.get(n).push(ms);
      }
    }
    for (const [n, a] of by) console.log(`variant ${n} ${summary(a)}`);
  } else {
    for (let i = 0; i < loads + 1; i++) {
      const ms = await boardLoad(`load ${i}`);
      // the first load warms streetd's and PostgreSQL's caches: not counted
      console.log(`load ${i}${i === 0 ? ' (warm-up)' : ''}: ${ms.toFixed(1)} ms, ${rows} rows`);
      if (i > 0) times.push(ms);
    }
    if (socketAddr && pushes > 0) {
      const ctx = await browser.newContext({
        ignoreHTTPSErrors: true,
        clientCertificates: [{ origin: url, certPath: `${tls}/${login}.crt`, keyPath: `${tls}/${login}.key` }],
      });
      await pushLatency(ctx, firstTicket);
      await ctx.close();
    }
  }
} finally {
  await browser.close();
}
if (times.length) console.log(`${summary(times)} rows ${rows}`);
