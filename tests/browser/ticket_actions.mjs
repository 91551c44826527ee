// The ticket page's role actions (added by each role's module: street.js,
// department.js, collector.js, supervisor_actions.js, loaded with the page
// for the viewer's role): each role gets the actions its state allows,
// they act with the version shown, and a refused one shows its code's
// message.  A street page cut off from live updates cancels a ticket
// dispatched meanwhile: the conflict message; the department accepts and asks for an extension from the ticket page;
// the street grants it there; a collector gets no actions on a ticket it
// did not report.
import { check, contextFor, open, run, shot, streetctl } from './lib.mjs';
import { ticketOf } from './looplib.mjs';

await run(async (browser) => {
  const tk = ticketOf(streetctl('wang.fang', 'report', '--category', 'pollution.noise', '--grid', 'jg-yanan-01',
    '--description', 'ticket actions test'));
  const [sc, stale, dc, oc] = await Promise.all(['zhang.wei', 'zhang.wei', 'yang.min', 'zhao.lei'].map((l) => contextFor(browser, l)));
  await stale.route('**/api/events*', (r) => r.abort());
  const old = await open(stale, '#/ticket/' + tk.id);
  await old.waitForSelector('#ticket-actions .act-cancel');
  check(await old.locator('#ticket-actions button.dispatch-proposed').count() === 1, 'a reported ticket: the street may dispatch');
  streetctl('zhang.wei', 'dispatch', String(tk.id));
  await old.click('#ticket-actions .act-cancel summary');
  await old.fill('#ticket-actions .act-cancel input.reason', '重复上报');
  await old.click('#ticket-actions .act-cancel button[type="submit"]');
  await old.waitForSelector('#ticket-msg[data-code="conflict"]');
  check((await old.textContent('#ticket-actions .act-cancel .msg')).includes('此工单已被他人修改'), 'a stale cancel: the conflict message');

  const dept = await open(dc, '#/ticket/' + tk.id);
  await dept.click('#ticket-actions button.act-accept');
  await dept.waitForSelector('#ticket-state[data-state="accepted"]');
  check(await dept.locator('#ticket-actions .act-return').count() === 0, 'accepted: no return any more');
  await dept.click('#ticket-actions .act-extend summary');
  await dept.fill('#ticket-actions .act-extend input.until', '2099-12-31T17:00');
  await dept.fill('#ticket-actions .act-extend input.reason', '需协调施工方');
  await dept.click('#ticket-actions .act-extend button[type="submit"]');
  await dept.waitForSelector('#timeline li[data-action="extend_request"]');
  await dept.waitForSelector('#ticket-actions .ext');
  check(true, 'the department asked for an extension');

  const street = await open(sc, '#/ticket/' + tk.id);
  await street.waitForSelector('#ticket-actions .act-extend_grant');
  await street.click('#ticket-actions .act-extend_grant summary');
  await street.click('#ticket-actions .act-extend_grant button[type="submit"]');
  await street.waitForSelector('#timeline li[data-action="extend_grant"]');
  await dept.waitForSelector('#timeline li[data-action="extend_grant"]');
  check((await street.textContent('#ticket-due')).startsWith('2099-12-31 17:00'), 'granted: the new deadline');
  await shot(street, 'ticket-actions-street');

  // the department's screen counts down to a deadline far past the
  // calendar it fetches: fetched once, not on every tick
  let calendars = 0;
  dept.on('request', (r) => { if (r.url().endsWith('/api') && (r.postData() || '').includes('"op":"calendar"')) calendars++; });
  await dept.goto(process.env.STREETD_URL + '/#/department');
  await dept.waitForSelector(`#dept-progress li[data-ticket="${tk.id}"] .countdown[data-left]`);
  await dept.waitForTimeout(3500); // three ticks or so
  check(calendars === 1, `the calendar was fetched ${calendars} time(s) for three ticks`);

  const other = await open(oc, '#/ticket/' + tk.id);
  await other.waitForSelector('#ticket-msg.msg-error');
  check(await other.locator('#ticket-actions > *').count() === 0, 'another collector: no actions (not even the ticket)');
  for (const c of [sc, stale, dc, oc]) await c.close();
});
