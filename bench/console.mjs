// bench/console.mjs: the first meaningful paint of the supervisor's overdue
// board (issue 15, "How fast"): Debian's Chromium (playwright-core from
// tests/browser/node_modules), a fresh browser context per load (no cache,
// a new TLS handshake with LOGIN's client certificate), #/board opened, and
// the performance mark the board sets when its first rows are drawn
// (clients/web/views/overdue_board.js, 'board-first-rows') read: ms since the
// navigation started.  Prints one line per load, then "median MS min MS max
// MS rows N".
// Usage: node bench/console.mjs URL TLS_DIR LOGIN LOADS
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(join(dirname(fileURLToPath(import.meta.url)), '..', 'tests', 'browser', 'package.json'));
const { chromium } = require('playwright-core');
const [url, tls, login, loadsArg] = process.argv.slice(2);
const loads = Number(loadsArg || 9);

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
    await page.goto(url + '/#/board');
    const ms = await page.waitForFunction(() => {
      const m = performance.getEntriesByName('board-first-rows')[0];
      return m ? m.startTime : null;
    }, null, { timeout: 60000 }).then((h) => h.jsonValue());
    rows = await page.locator('#board-rows tr').count();
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
