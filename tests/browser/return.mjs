// A return, in the browser: the department returns a dispatched ticket
// with a reason and the department it believes responsible; the street
// office sees it live under "returned, to dispatch again" with the reason
// and that department proposed, and re-dispatches it in one click.
import { check, contextFor, harness, log, open, run, shot, streetctl } from './lib.mjs';
import { ticketOf } from './looplib.mjs';

await run(async (browser) => {
  const tk = ticketOf(streetctl('wang.fang', 'report', '--category', 'pollution.noise', '--grid', 'jg-yanan-01',
    '--description', 'return test 工地噪声'));
  streetctl('zhang.wei', 'dispatch', String(tk.id));
  const cgj = await harness("sql SELECT id FROM street.department WHERE code = 'cgj'");
  const [dc, sc] = await Promise.all([contextFor(browser, 'yang.min'), contextFor(browser, 'zhang.wei')]);
  const dept = await open(dc, '#/department');
  const street = await open(sc, '#/street');
  await street.waitForSelector('#conn-state[data-state="connected"]');
  const card = `#dept-accept li[data-ticket="${tk.id}"]`;
  await dept.waitForSelector(card);

  await dept.click(`${card} .act-return summary`);
  await dept.fill(`${card} .act-return input.reason`, '<i>施工噪声</i>属城管执法');
  await dept.selectOption(`${card} .act-return select.dept-responsible`, cgj);
  const t0 = Date.now();
  await dept.click(`${card} .act-return button[type="submit"]`);
  await dept.waitForSelector(card, { state: 'detached' });
  check(true, "the ticket left the department's screen");

  const ret = `#street-returns li[data-ticket="${tk.id}"]`;
  await street.waitForSelector(`${ret} .proposal[data-proposed="${cgj}"]`);
  log(`the return reached the street's screen after ${Date.now() - t0} ms`);
  const reason = await street.textContent(`${ret} .return-reason`);
  check(reason.includes('<i>施工噪声</i>属城管执法') && reason.includes('生态环境局'), `the reason and who returned it: ${reason}`);
  check(await street.locator(`${ret} i`).count() === 0, 'as text');
  check(await street.locator(`#street-inbox li[data-ticket="${tk.id}"]`).count() === 0, 'not among the new reports');
  await shot(street, 'role-street-returns');

  await street.click(`${ret} button.dispatch-proposed`);
  await street.waitForSelector(ret, { state: 'detached' });
  const got = ticketOf(streetctl('zhang.wei', 'show', String(tk.id)));
  check(got.state === 'dispatched' && String(got.department_id) === cgj, 're-dispatched to the named department');
  await dc.close(); await sc.close();
});
