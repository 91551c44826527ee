// The supervisor's screens: the overdue board lists overdue tickets most
// overdue first, an urge from it reaches the ticket's timeline, a ticket
// that becomes overdue meanwhile appears live; the arbitration queue's
// rulings (rejected: back to the returner; upheld: to the named
// department); the assessment draws its charts from `ranking` and the
// bulletin shows the fixture month's figures (tests/integration/
// fixtures_assessment.sql, March 2025, as ta.super); the export download is
// byte for byte `streetctl export --format csv`; the grid map shows the
// grids and gridPicker calls onPick.
import { readFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { check, contextFor, harness, log, open, run, shot, streetctl, streetctlRaw, WAIT } from './lib.mjs';

const ticketOf = (r) => (r && (r.ticket || (r.result && r.result.ticket))) || null;
const DEPT_LOGIN = { cgj: 'chen.jing', sthj: 'yang.min', yjgl: 'huang.qiang', scjg: 'zhou.jie', zjj: 'wu.hao', sw: 'xu.lin' };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function report(category, description) {
  return ticketOf(streetctl('wang.fang', 'report', '--category', category, '--grid', 'jg-yanan-01', '--description', description)).id;
}

// Reported, dispatched, returned by its department naming another: the
// ticket and the codes of the returner and the named department.
function returned(description) {
  const id = report('pollution.noise', description);
  const d = ticketOf(streetctl('zhang.wei', 'dispatch', String(id)));
  const depts = streetctl('zhang.wei', 'departments');
  const list = depts.departments || depts;
  const by = list.find((x) => x.id === d.department_id).code;
  const named = by === 'cgj' ? 'sthj' : 'cgj';
  streetctl(DEPT_LOGIN[by], 'return', String(id), '--reason', '不归我们管 <i>x</i>', '--department', named);
  return { id, by, named, ids: Object.fromEntries(list.map((x) => [x.code, x.id])) };
}

// The board's row of ticket id, paging with "load more" as a supervisor
// would: in the whole suite's database (every integration suite's tickets,
// many of them overdue for longer) the test's tickets are the least overdue,
// past the first page.  Waits up to WAIT for it (a live update, or a page).
async function boardRow(page, id) {
  const sel = `#board-rows tr[data-ticket="${id}"]`;
  const until = Date.now() + WAIT;
  for (;;) {
    if (await page.locator(sel).count() > 0) return page.waitForSelector(sel);
    if (Date.now() > until) throw new Error(`ticket ${id} is not on the board`);
    const more = page.locator('#board-more:not(.hidden)');
    if (await more.count() > 0) await more.click();
    await sleep(200);
  }
}

await run(async (browser) => {
  // ---- the overdue board (t-tiny: deadlines of a second) ----
  const a = report('t-tiny', 'board A 最早超时');
  await sleep(1100);
  const b = report('t-tiny', 'board B');
  await sleep(1500);
  const ctx = await contextFor(browser, 'ma.jun');
  const page = await open(ctx, '#/board');
  await boardRow(page, a);
  await boardRow(page, b);
  const order = await page.$$eval('#board-rows tr', (trs) => trs.map((tr) => Number(tr.dataset.ticket)));
  check(order.indexOf(a) < order.indexOf(b), `most overdue first (${a} before ${b})`);
  // seconds late: minutes, not "0 小时" (which read as not late)
  const lateB = await page.textContent(`#board-rows tr[data-ticket="${b}"] td.late`);
  check(/^\d+ 分钟$/.test(lateB), `under an hour late shows minutes: "${lateB}"`);
  const api = streetctl('ma.jun', 'overdue');
  const first = (api.tickets || api).slice(0, order.length).map((x) => x.id);
  check(JSON.stringify(first) === JSON.stringify(order.slice(0, first.length)), 'in the order of the overdue op');
  check(await page.evaluate(() => performance.getEntriesByName('board-first-rows').length === 1), 'the first-rows mark is set');
  check(await page.locator('#board-by-dept button.chip').count() >= 2, 'counts per department');
  check(await page.locator('#board-by-street button.chip').count() >= 2, 'counts per street');
  await page.waitForSelector('#conn-state[data-state="connected"]');
  await shot(page, 'supervisor-board');

  // urge from the row: the version shown goes with it
  await page.fill(`#board-rows tr[data-ticket="${a}"] .urge-note`, '请尽快处理 <b>!</b>');
  await page.click(`#board-rows tr[data-ticket="${a}"] button.urge`);
  await page.waitForSelector('#board-msg.msg-ok');
  const tp = await ctx.newPage();
  await tp.goto(process.env.STREETD_URL + '/#/ticket/' + a);
  await tp.waitForSelector('#timeline li[data-action="urge"]');
  check((await tp.textContent('#timeline li[data-action="urge"] .user-text')) === '请尽快处理 <b>!</b>', 'the urge is in the timeline, as text');
  await tp.close();

  // a ticket that becomes overdue while the board is open appears
  // (the harness's daemon runs no sweeper: the test sweeps, as streetd's
  // sweeper would, and the `overdue` event reaches the page through the log)
  const c = report('t-tiny', 'board C 新超时');
  await sleep(1500);
  const t0 = Date.now();
  await harness('sql SELECT count(*) FROM street.st_sweep()');
  await boardRow(page, c);
  log(`ticket ${c} appeared on the board ${Date.now() - t0} ms after the sweep marked it overdue`);
  check(true, 'a ticket made overdue meanwhile appears live');

  // filter by a department: only its rows
  const deptChip = page.locator('#board-by-dept button.chip').nth(1);
  const dept = await deptChip.getAttribute('data-dept');
  await deptChip.click();
  const depts = await page.$$eval('#board-rows tr', (trs) => [...new Set(trs.map((tr) => tr.dataset.department))]);
  check(depts.length === 1 && depts[0] === dept, `filtered to department ${dept} (0: not dispatched)`);

  // ---- the arbitration queue ----
  const arb = await open(ctx, '#/arbitration');
  await arb.waitForSelector('#arb-count');
  await arb.waitForSelector('#conn-state[data-state="connected"]');
  const r1 = returned('arb reject');
  const r2 = returned('arb uphold');
  await arb.waitForSelector(`#arb-rows article[data-ticket="${r1.id}"]`);
  await arb.waitForSelector(`#arb-rows article[data-ticket="${r2.id}"]`);
  check(true, 'new returns appear in the queue live');
  check((await arb.textContent(`#arb-rows article[data-ticket="${r1.id}"] .arb-reason`)) === '不归我们管 <i>x</i>', 'with the reason, as text');
  check(await arb.getAttribute(`#arb-rows article[data-ticket="${r1.id}"]`, 'data-pending') === '1', 'pending');
  await shot(arb, 'supervisor-arbitration');
  await arb.click(`#arb-rows article[data-ticket="${r1.id}"] button.reject`);
  await arb.waitForSelector(`#arb-rows article[data-ticket="${r1.id}"]`, { state: 'detached' });
  let g = streetctl('ma.jun', 'show', String(r1.id));
  let tk = g.ticket || g;
  check(tk.state === 'dispatched' && tk.department_id === r1.ids[r1.by], 'rejected: back to the returning department');
  const sel = `#arb-rows article[data-ticket="${r2.id}"]`;
  check(Number(await arb.$eval(sel + ' select.arb-dept', (s) => s.value)) === r2.ids[r2.named], 'upheld proposes the named department');
  await arb.click(sel + ' button.uphold');
  await arb.waitForSelector(sel, { state: 'detached' });
  g = streetctl('ma.jun', 'show', String(r2.id));
  tk = g.ticket || g;
  check(tk.state === 'dispatched' && tk.department_id === r2.ids[r2.named], 'upheld: to the named department');
  await ctx.close();

  // ---- assessment, bulletin, export: the fixture month as ta.super ----
  // the rollups and export rows are the follower's: fold every event first
  // (as tdb_follow_catch_up does for the integration suites)
  for (let i = 0; i < 2000; i++) {
    await harness('sql SELECT street.st_follow()');
    if (await harness('sql SELECT position >= (SELECT max(seq) FROM street.ticket_event) FROM street.assess_cursor') === 't') break;
    await sleep(10);
  }
  const tctx = await contextFor(browser, 'ta.super', { acceptDownloads: true });
  const as = await open(tctx, '#/assessment?month=2025-03');
  await as.waitForSelector('#chart-series[data-ready="1"]');
  check(await as.locator('main canvas').count() === 3, 'three charts drawn');
  const ranking = streetctl('ta.super', 'ranking', '--from', '2025-03-01', '--to', '2025-04-01');
  const want = ranking.rows.filter((x) => x.composite !== null);
  const got = await as.evaluate(() => {
    const ch = window.Chart.getChart(document.querySelector('#chart-dept'));
    return { labels: ch.data.labels, data: ch.data.datasets[0].data };
  });
  check(JSON.stringify(got.labels) === JSON.stringify(want.map((x) => x.unit.name)), `the department chart's units are ranking's: ${got.labels.join(', ')}`);
  check(JSON.stringify(got.data) === JSON.stringify(want.map((x) => x.composite)), 'and its composites');
  check(await as.locator('#dept-ranking tbody tr').count() === ranking.rows.length, 'the ranking table has every row');
  await shot(as, 'supervisor-assessment');
  // the month picker speaks the page's language, not the browser's, and goes
  // to the month chosen
  const shown = await as.$eval('#assess-month', (el) => el.options[el.selectedIndex].textContent);
  check(shown === '2025年3月', `the month picker shows 2025-03 as "${shown}"`);
  await as.selectOption('#assess-month', '2025-02');
  await as.click('form.period button[type="submit"]');
  await as.waitForFunction(() => location.hash === '#/assessment?month=2025-02');
  await as.waitForSelector('#chart-series[data-ready="1"]');
  check(true, 'choosing 2025-02 shows #/assessment?month=2025-02');
  await as.goto(process.env.STREETD_URL + '/#/assessment?month=2025-03');
  await as.waitForSelector('#chart-series[data-ready="1"]');

  // the export download = streetctl export --format csv, byte for byte
  const [dl] = await Promise.all([as.waitForEvent('download'), as.click('#export')]);
  const dir = mkdtempSync(join(tmpdir(), 'streetd-export-'));
  await dl.saveAs(join(dir, 'page.csv'));
  const fromPage = readFileSync(join(dir, 'page.csv'));
  const r = streetctlRaw('ta.super', 'export', '--month', '2025-03', '--format', 'csv', '-o', join(dir, 'ctl.csv'));
  check(r.status === 0, 'streetctl export ran');
  const fromCtl = readFileSync(join(dir, 'ctl.csv'));
  log(`export: ${fromPage.length} bytes from the page, ${fromCtl.length} from streetctl, ${fromCtl.toString().split('\r\n').length - 2} rows`);
  check(fromPage[0] === 0xef && fromPage[1] === 0xbb && fromPage[2] === 0xbf, 'the download starts with the BOM');
  check(fromPage.equals(fromCtl), 'the download is streetctl\'s CSV byte for byte');

  const bul = await open(tctx, '#/bulletin?month=2025-03');
  await bul.waitForSelector('#bulletin[data-ready="1"]');
  const bj = streetctl('ta.super', 'bulletin', '--month', '2025-03');
  for (const row of bj.departments) {
    for (const k of ['reported', 'dispatched', 'closed']) {
      if (row[k] === undefined) continue;
      const cell = await bul.textContent(`#bul-depts tr[data-unit="${row.unit.code}"] td[data-key="${k}"]`);
      check(cell === String(row[k]), `bulletin ${row.unit.code} ${k} = ${row[k]}`);
    }
  }
  check(await bul.locator('#bul-overdue tbody tr').count() === bj.overdue.tickets.length, `the overdue items (${bj.overdue.tickets.length})`);
  await shot(bul, 'supervisor-bulletin');
  await tctx.close();

  // ---- the grid map and the picker ----
  const mctx = await contextFor(browser, 'ma.jun');
  const mp = await open(mctx, '#/map');
  await mp.waitForSelector('#gridmap[data-ready="1"]');
  const grids = await mp.evaluate(async () => (await import('/refdata.js')).lists.grids);
  const withBoundary = grids.filter((x) => Array.isArray(x.boundary));
  check(await mp.locator('#gridmap path.grid-poly').count() === withBoundary.length, `every grid with a boundary is drawn (${withBoundary.length})`);
  const yanan = withBoundary.find((x) => x.code === 'jg-yanan-01');
  check(Number(await mp.getAttribute(`#gridmap path[data-grid="${yanan.id}"]`, 'data-overdue')) >= 1, 'jg-yanan-01 is coloured by its overdue tickets');
  await mp.click(`#gridmap path[data-grid="${yanan.id}"]`);
  await mp.waitForSelector(`#map-picked[data-grid="${yanan.id}"]`);
  await shot(mp, 'supervisor-map');
  // gridPicker as the report form would use it
  await mp.evaluate(async () => {
    const { gridPicker } = await import('/gridmap.js');
    const { lists } = await import('/refdata.js');
    const div = document.createElement('div');
    div.id = 'picker';
    div.className = 'mapbox';
    document.querySelector('main').append(div);
    window.__picked = null;
    await gridPicker(div, { grids: lists.grids, onPick: (g) => { window.__picked = g.code; } });
  });
  const other = withBoundary.find((x) => x.code !== 'jg-yanan-01');
  await mp.click(`#picker path[data-grid="${other.id}"]`);
  await mp.waitForFunction((code) => window.__picked === code, other.code);
  check(true, `gridPicker called onPick with ${other.code}`);
  await mctx.close();
});
