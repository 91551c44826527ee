// The report form's map picker (views/collector.js with gridmap.js's
// gridPicker): only the account's grids are drawn; a grid picked on the map
// sets the grid list and one chosen in the list is highlighted on the map;
// the report made after a pick on the map has that grid.  The street
// office reports with the same form, for the grids of its street.
import { check, contextFor, harness, log, open, run, shot, streetctl } from './lib.mjs';
import { optionByCode, ticketOf } from './looplib.mjs';

const MARK = 'map-' + Date.now();

await run(async (browser) => {
  const cc = await contextFor(browser, 'wang.fang');
  const coll = await open(cc, '#/collector');
  await coll.waitForSelector('#report-map[data-ready="1"]');
  const options = await coll.$$eval('#report-grid option', (os) => os.map((o) => o.value).filter(Boolean));
  const drawn = await coll.$$eval('#report-map path.grid-poly', (ps) => ps.map((p) => p.dataset.grid));
  check(drawn.length === options.length && drawn.every((g) => options.includes(g)),
    `the map draws the account's grids only (${drawn.length}: ${drawn.join(', ')})`);
  const mine = Number(await harness("sql SELECT count(*) FROM street.account_grid ag JOIN street.account a ON a.id = ag.account_id WHERE a.login = 'wang.fang'"));
  check(drawn.length === mine, `as many as wang.fang's grids (${mine})`);

  // the list follows the map
  const g2 = await optionByCode(coll, '#report-grid', 'jg-yanan-02');
  await coll.click(`#report-map path[data-grid="${g2}"]`);
  await coll.waitForFunction((v) => document.querySelector('#report-grid').value === v, g2);
  check(await coll.locator(`#report-map path[data-grid="${g2}"].grid-selected`).count() === 1, 'a pick on the map sets the list and marks the grid');
  // the map follows the list
  const g3 = await optionByCode(coll, '#report-grid', 'jg-yanan-03');
  await coll.selectOption('#report-grid', g3);
  await coll.waitForSelector(`#report-map path[data-grid="${g3}"].grid-selected`);
  check(await coll.locator('#report-map path.grid-selected').count() === 1, 'a choice in the list moves the mark on the map');

  // pick on the map, report: the ticket has that grid
  await coll.click(`#report-map path[data-grid="${g2}"]`);
  await coll.waitForFunction((v) => document.querySelector('#report-grid').value === v, g2);
  await coll.selectOption('#report-category', await optionByCode(coll, '#report-category', 'pollution.noise'));
  await coll.fill('#report-description', `${MARK} picked on the map`);
  await shot(coll, 'report-map');
  await coll.click('#report-form button[type="submit"]');
  await coll.waitForSelector('#report-msg[data-ticket]');
  const id = Number(await coll.getAttribute('#report-msg', 'data-ticket'));
  const g = streetctl('wang.fang', 'show', String(id));
  const tk = ticketOf(g) || g;
  check(tk.grid_id === Number(g2), `ticket ${id} has the grid picked on the map (${tk.grid_id})`);
  log('reported', id);
  await cc.close();

  // the street office: the same form, folded, its street's grids
  const sc = await contextFor(browser, 'zhang.wei');
  const st = await open(sc, '#/street');
  await st.click('#street-report summary');
  await st.waitForSelector('#street-report #report-map[data-ready="1"]');
  const sgrids = Number(await harness("sql SELECT count(*) FROM street.grid g JOIN street.account a ON a.street_id = g.street_id JOIN street.grid_boundary b ON b.grid_id = g.id WHERE a.login = 'zhang.wei'"));
  check(await st.locator('#report-map path.grid-poly').count() === sgrids, `the street office's form draws its street's grids (${sgrids})`);
  const wen = await optionByCode(st, '#report-grid', 'jg-wenhua-01');
  await st.click(`#report-map path[data-grid="${wen}"]`);
  await st.waitForFunction((v) => document.querySelector('#report-grid').value === v, wen);
  await st.selectOption('#report-category', await optionByCode(st, '#report-category', 'pollution.noise'));
  await st.fill('#report-description', `${MARK} taken by phone`);
  await st.click('#report-form button[type="submit"]');
  await st.waitForSelector('#report-msg[data-ticket]');
  const sid = Number(await st.getAttribute('#report-msg', 'data-ticket'));
  const sg = streetctl('zhang.wei', 'show', String(sid));
  check((ticketOf(sg) || sg).grid_id === Number(wen), `the street's report ${sid} has the grid picked (jg-wenhua-01)`);
  await st.waitForSelector(`#street-inbox li[data-ticket="${sid}"]`);
  check(true, 'and it is in the street inbox');
  await sc.close();
});
