// The console's working time (clients/web/worktime.js, evaluated in the
// page over the calendar op's reply) agrees with the database's
// sla_working_between to the second, for instants around holidays, make-up
// Saturdays, weekends, the window's edges, midnight, and spans of months.
import { check, contextFor, harness, log, open, run } from './lib.mjs';

const S = (d) => d + '+08:00';
const fixed = [
  ['2026-09-30T16:00:00', '2026-10-09T10:00:00'], // National Day week
  ['2026-09-24T12:00:00', '2026-09-28T12:00:00'], // Mid-Autumn
  ['2026-02-13T15:00:00', '2026-02-14T11:30:00'], // a make-up Saturday
  ['2026-02-13T15:00:00', '2026-02-25T09:00:01'], // Spring Festival
  ['2026-01-01T00:00:00', '2026-12-31T23:59:59'], // a year
  ['2026-12-07T08:59:59', '2026-12-07T09:00:01'],
  ['2026-12-07T17:00:00', '2026-12-08T09:00:00'],
  ['2026-12-07T16:59:59.500', '2026-12-07T17:00:00'],
  ['2026-12-05T10:00:00', '2026-12-06T18:00:00'], // a weekend
  ['2026-12-07T00:00:00', '2026-12-08T00:00:00'], // b at midnight
  ['2026-12-08T10:00:00', '2026-12-07T10:00:00'], // b before a
  ['2026-12-07T10:00:00', '2026-12-07T10:00:00'],
  ['2026-11-02T09:00:00', '2027-02-20T17:00:00'],
  ['2025-12-29T13:00:00', '2026-01-05T10:00:00'],
].map(([a, b]) => [S(a), S(b)]);
// and pseudo-random ones across 2026 (fixed seed: the same every run)
let seed = 20261207;
const rnd = () => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed / 2147483648; };
const base = Date.parse('2026-01-01T00:00:00+08:00');
for (let i = 0; i < 60; i++) {
  const a = base + Math.floor(rnd() * 365 * 86400) * 1000;
  const b = a + Math.floor(rnd() * (i % 3 === 0 ? 40 : 6) * 86400) * 1000;
  fixed.push([new Date(a).toISOString(), new Date(b).toISOString()]);
}

await run(async (browser) => {
  const ctx = await contextFor(browser, 'chen.jing');
  const page = await open(ctx, '#/');
  const js = await page.evaluate(async (pairs) => {
    const wt = await import('/worktime.js');
    const res = await fetch('/api', { method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ id: 1, op: 'calendar', from: '2025-12-01', to: '2027-03-01' }) });
    const cal = wt.fromReply((await res.json()).result);
    return pairs.map(([a, b]) => wt.workingBetween(cal, a, b));
  }, fixed);
  const sql = [];
  for (let i = 0; i < fixed.length; i += 30) {
    const vals = fixed.slice(i, i + 30).map(([a, b], k) => `(${k}, '${a}'::timestamptz, '${b}'::timestamptz)`).join(',');
    const r = await harness(`sql SELECT string_agg(street.sla_working_between(a, b)::text, ',' ORDER BY k) FROM (VALUES ${vals}) v(k, a, b)`);
    sql.push(...r.split(',').map(Number));
  }
  let bad = 0;
  fixed.forEach(([a, b], i) => {
    if (js[i] !== sql[i]) { bad++; log(`differ: [${a}, ${b}) page ${js[i]} s, SQL ${sql[i]} s`); }
  });
  log('e.g.', fixed[0].join(' → '), js[0], 's');
  check(bad === 0 && js.length === sql.length, `the page and SQL agree on ${fixed.length} spans`);
  check(js[5] === 1 && js[7] === 0 && js[9] === 8 * 3600 && js[10] === 0, 'and on the hand-checked ones');
  await ctx.close();
});
