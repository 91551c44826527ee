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
// Usage: node bench/console.mjs URL TLS_DIR LOGIN LOADS
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(join(dirname(fileURLToPath(import.meta.url)), '..', 'tests', 'browser', 'package.json'));
const { chromium } = require('playwright-core');
const [url, tls, login, loadsArg] = process.argv.slice(2);
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
const times = [];
let rows = 0;
try {
  for (let i = 0; i < loads + 1; i++) {
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
    if (detail) await waterfall(page, reqs);
    await ctx.close();
    // the first load warms streetd's and PostgreSQL's caches: not counted
    console.log(`load ${i}${i === 0 ? ' (warm-up)' : ''}: ${ms.toFixed(1)} ms, ${rows} rows`);
    if (i > 0) times.push(ms);
  }
} finally {
  await browser.close();
}
times.sort((a, b) => a - b);
const median = times[Math.floor(times.length / 2)];
console.log(`median ${median.toFixed(1)} min ${times[0].toFixed(1)} max ${times[times.length - 1].toFixed(1)} rows ${rows}`);
