// A stale page's action gets the conflict message: the page shows version
// N; its live updates are cut (as when a laptop's network drops), the
// ticket moves on in streetctl, and a comment sent with version N is
// answered "someone changed this ticket: reload" (in both languages);
// reload shows the new state, and then the comment goes through.
import { check, contextFor, log, open, run, shot, streetctl } from './lib.mjs';

await run(async (browser) => {
  const rep = streetctl('wang.fang', 'report', '--category', 'pollution.noise', '--grid', 'jg-yanan-02',
    '--description', '占道经营 conflict test');
  const tk = rep.ticket || rep.result.ticket;
  log('reported ticket', tk.id, 'version', tk.version);

  const ctx = await contextFor(browser, 'zhang.wei');
  await ctx.route('**/api/events*', (r) => r.abort()); // a stale page: no live updates
  const page = await open(ctx, '#/ticket/' + tk.id);
  await page.waitForSelector('#ticket-state[data-state="reported"]');
  check(await page.getAttribute('#ticket-state', 'data-version') === String(tk.version), 'the page saw version ' + tk.version);

  streetctl('zhang.wei', 'dispatch', String(tk.id));
  await page.fill('#comment-text', '请尽快处理');
  await page.click('#comment-form button[type="submit"]');
  await page.waitForSelector('#ticket-msg[data-code="conflict"]');
  const msg = await page.textContent('#ticket-msg');
  check(msg.includes('此工单已被他人修改，请刷新'), `the conflict message: ${msg}`);
  await shot(page, 'ticket-conflict');
  check(await page.locator('#timeline li[data-action="comment"]').count() === 0, 'nothing was written');

  await page.click('#ticket-msg button');
  await page.waitForSelector('#ticket-state[data-state="dispatched"]');
  check(true, 'reload shows the new state');
  await page.fill('#comment-text', '请尽快处理');
  await page.click('#comment-form button[type="submit"]');
  await page.waitForSelector('#timeline li[data-action="comment"]');
  check(true, 'with the current version the comment goes through');

  // the same in English
  await page.click('#lang'); // (redraws the page: it reads the ticket again)
  await page.waitForFunction(() => document.querySelector('#ticket-state')?.textContent === 'dispatched');
  streetctl('chen.jing', 'accept', String(tk.id));
  await page.fill('#comment-text', 'please hurry');
  await page.click('#comment-form button[type="submit"]');
  await page.waitForSelector('#ticket-msg[data-code="conflict"]');
  const en = await page.textContent('#ticket-msg');
  check(en.includes('someone changed this ticket: reload'), `in English: ${en}`);
  await ctx.close();
});
