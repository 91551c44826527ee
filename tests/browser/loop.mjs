// The whole loop in the browser, four roles in four contexts, each step
// seen live on the others' pages (no reload): the collector reports with a
// photo; the street office dispatches to the proposed department; the
// supervisor urges; the department accepts (its deadline counts down in
// working time) and resolves with a note and a photo; the collector
// confirms with a rating.  Screenshots of each role's main screen.
import { check, contextFor, harness, log, open, run, shot, streetctl } from './lib.mjs';
import { optionByCode, png } from './looplib.mjs';

const MARK = 'loop-' + Date.now();
const since = (t0) => `${Date.now() - t0} ms`;

await run(async (browser) => {
  const [cc, sc, dc, vc] = await Promise.all(['wang.fang', 'zhang.wei', 'yang.min', 'sun.li'].map((l) => contextFor(browser, l)));
  const coll = await open(cc, '#/collector');
  const street = await open(sc, '#/street');
  const dept = await open(dc, '#/department');
  for (const p of [coll, street, dept]) await p.waitForSelector('#conn-state[data-state="connected"]');
  const sthj = await harness("sql SELECT id FROM street.department WHERE code = 'sthj'");

  // 1. the collector reports, with a photo
  await coll.selectOption('#report-category', await optionByCode(coll, '#report-category', 'pollution.noise'));
  await coll.selectOption('#report-grid', await optionByCode(coll, '#report-grid', 'jg-yanan-01'));
  await coll.fill('#report-description', `${MARK} 夜间施工噪声 <b>not bold</b>`);
  await coll.fill('#report-address', '延安北路12号');
  await coll.setInputFiles('#report-photos-input', { name: 'noise.png', mimeType: 'image/png', buffer: png(64, 48, 1) });
  await coll.waitForSelector('#report-photos-list li[data-state="done"]');
  let t0 = Date.now();
  await coll.click('#report-form button[type="submit"]');
  await coll.waitForSelector('#report-msg[data-ticket]');
  const id = Number(await coll.getAttribute('#report-msg', 'data-ticket'));
  log('reported ticket', id);
  await coll.waitForSelector(`#coll-mine li[data-ticket="${id}"]`);
  check((await coll.textContent(`#coll-mine li[data-ticket="${id}"] .desc`)).includes('<b>not bold</b>'), 'my reports show it, as text');
  const card = `#street-inbox li[data-ticket="${id}"]`;
  await street.waitForSelector(card);
  log(`the report reached the street's inbox after ${since(t0)}`);
  await street.waitForSelector(`${card} .proposal[data-proposed="${sthj}"]`);
  check(true, 'with the routed department (sthj) proposed');
  await shot(street, 'role-street');
  // a ticket page of the collector's, open through the loop
  const tpage = await cc.newPage();
  await tpage.goto(process.env.STREETD_URL + '/#/ticket/' + id);
  await tpage.waitForSelector('#timeline li[data-action="report"] img.photo[src^="blob:"]');
  check(true, "the report's photo shows on the ticket page");

  // 2. the supervisor, on the ticket page, urges the street office
  const sup = await open(vc, '#/ticket/' + id);
  await sup.waitForSelector('#ticket-actions .act-urge');
  await sup.click('#ticket-actions .act-urge summary');
  await sup.fill('#ticket-actions .act-urge input.note', '请尽快派单');
  t0 = Date.now();
  await sup.click('#ticket-actions .act-urge button[type="submit"]');
  await tpage.waitForSelector('#timeline li[data-action="urge"]');
  log(`the urge reached the collector's ticket page after ${since(t0)}`);

  // 3. the street office dispatches to the proposed department, in one click
  t0 = Date.now();
  await street.click(`${card} button.dispatch-proposed`);
  await dept.waitForSelector(`#dept-accept li[data-ticket="${id}"]`);
  log(`the dispatch reached the department's screen after ${since(t0)}`);
  await street.waitForSelector(card, { state: 'detached' });
  check(true, "and left the street's inbox");
  await coll.waitForSelector(`#coll-mine li[data-ticket="${id}"][data-state="dispatched"]`);
  await tpage.waitForSelector('#ticket-state[data-state="dispatched"]');
  await sup.waitForSelector('#ticket-state[data-state="dispatched"]');
  check(true, "the collector's and the supervisor's pages show it dispatched");
  await shot(dept, 'role-department-accept');

  // 4. the supervisor urges the department
  await sup.waitForSelector('#ticket-actions .act-urge');
  await sup.click('#ticket-actions .act-urge summary');
  await sup.click('#ticket-actions .act-urge button[type="submit"]');
  await tpage.waitForFunction(() => document.querySelectorAll('#timeline li[data-action="urge"]').length === 2);
  check(true, 'the second urge is on the collector\'s page');

  // 5. the department accepts: in progress, counting down in working time
  t0 = Date.now();
  await dept.click(`#dept-accept li[data-ticket="${id}"] button.act-accept`);
  const prog = `#dept-progress li[data-ticket="${id}"]`;
  await dept.waitForSelector(`${prog} .countdown[data-left]`);
  const left = Number(await dept.getAttribute(`${prog} .countdown`, 'data-left'));
  const want = Number(await harness(`sql SELECT street.sla_working_between(now(), due_at) FROM street.ticket WHERE id = ${id}`));
  log('countdown', await dept.textContent(`${prog} .countdown`), 'page', left, 's; SQL', want, 's');
  check(Math.abs(left - want) <= 120, 'the countdown is the working time left (as SQL counts it)');
  await coll.waitForSelector(`#coll-mine li[data-ticket="${id}"][data-state="accepted"]`);
  await tpage.waitForSelector('#timeline li[data-action="accept"]');
  log(`the accept reached the collector after ${since(t0)}`);
  await shot(dept, 'role-department');

  // 6. resolve with a note and a photo
  await dept.click(`${prog} .act-resolve summary`);
  await dept.fill(`${prog} .act-resolve textarea.note`, '已责令停止夜间施工');
  await dept.setInputFiles(`#resolve-photos-${id}-input`, { name: 'done.png', mimeType: 'image/png', buffer: png(32, 32, 2) });
  await dept.waitForSelector(`#resolve-photos-${id}-list li[data-state="done"]`);
  t0 = Date.now();
  await dept.click(`${prog} .act-resolve button[type="submit"]`);
  await dept.waitForSelector(prog, { state: 'detached' });
  await street.waitForSelector(`#street-feedback li[data-ticket="${id}"]`);
  log(`the resolve reached the street's feedback list after ${since(t0)}`);
  await coll.waitForSelector(`#coll-feedback li[data-ticket="${id}"]`);
  await tpage.waitForSelector('#timeline li[data-action="resolve"] img.photo[src^="blob:"]');
  check(true, "the note's photo shows on the collector's ticket page");
  await shot(coll, 'role-collector');

  // 7. the collector confirms with a rating
  const fb = `#coll-feedback li[data-ticket="${id}"]`;
  await coll.click(`${fb} .act-confirm summary`);
  await coll.selectOption(`${fb} .act-confirm select.rating`, '4');
  await coll.fill(`${fb} .act-confirm input.comment`, '满意');
  t0 = Date.now();
  await coll.click(`${fb} .act-confirm button[type="submit"]`);
  await coll.waitForSelector(`#coll-mine li[data-ticket="${id}"][data-state="closed"]`);
  await street.waitForSelector(`#street-feedback li[data-ticket="${id}"]`, { state: 'detached' });
  await sup.waitForSelector('#ticket-state[data-state="closed"]');
  log(`the confirmation reached the street and the supervisor after ${since(t0)}`);
  await shot(sup, 'role-supervisor-ticket');

  const got = streetctl('zhang.wei', 'show', String(id));
  const tk = got.ticket || got.result.ticket;
  const photos = got.photos || got.result.photos;
  check(tk.state === 'closed' && tk.rating === 4 && tk.urge_count === 2, 'closed, rated 4, urged twice');
  check(photos.length === 2, 'with the two photos');
  for (const c of [cc, sc, dc, vc]) await c.close();
});
