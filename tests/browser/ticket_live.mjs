// The ticket page and the list, live: a ticket whose description is an XSS
// payload shows it as text (no element made from it, nothing run); a
// change made by streetctl appears on the open ticket page (timeline and
// header) and in the open list without a reload (the latency is printed:
// the 1 s target is the bench's); a comment made in the page reaches the
// timeline; on a ticket whose history is longer than a page, a pushed event
// shows too (the page reads on to it).
import { check, contextFor, harness, log, open, run, shot, streetctl, WAIT } from './lib.mjs';

const PAYLOAD = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>"\'&amp; 夜间施工噪声';

function ticketOf(r) {
  return (r && (r.ticket || (r.result && r.result.ticket))) || null;
}

await run(async (browser) => {
  const rep = streetctl('wang.fang', 'report', '--category', 'pollution.noise', '--grid', 'jg-yanan-01',
    '--description', PAYLOAD, '--address', '<b>延安北路12号</b>');
  const id = ticketOf(rep).id;
  log('reported ticket', id);

  const ctx = await contextFor(browser, 'zhang.wei');
  const page = await open(ctx, '#/ticket/' + id);
  await page.waitForSelector('#ticket-description');
  await page.waitForSelector('#conn-state[data-state="connected"]');
  const desc = await page.textContent('#ticket-description');
  check(desc === PAYLOAD, 'the description is shown as the text it is');
  check(await page.locator('#ticket-head img, main img[src="x"], main script').count() === 0,
    'no element was made from it');
  check(await page.evaluate(() => window.__xss === undefined), 'and nothing in it ran');
  check((await page.textContent('#ticket-address')) === '<b>延安北路12号</b>', 'the address too');
  check(await page.locator('#timeline li[data-action="report"]').count() === 1, 'the timeline has the report');
  check((await page.textContent('#timeline li[data-action="report"]')).includes('王芳'), 'with its actor');
  check(await page.getAttribute('#ticket-state', 'data-state') === 'reported', 'state reported');
  // time in Asia/Shanghai although the browser's zone is London
  const shown = await page.textContent('#timeline li[data-action="report"] time');
  const at = await page.getAttribute('#timeline li[data-action="report"] time', 'datetime');
  const sh = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' })
    .format(new Date(at)).replace(',', '');
  check(shown === sh, `times are Asia/Shanghai's: ${shown}`);
  await shot(page, 'ticket-xss');

  // a list page in the same context, open at the same time
  const list = await ctx.newPage();
  await list.goto(process.env.STREETD_URL + '/#/list?state=reported');
  await list.waitForSelector(`#list-rows tr[data-ticket="${id}"]`);
  check((await list.textContent(`#list-rows tr[data-ticket="${id}"] td.desc`)) === PAYLOAD, 'the list shows it as text too');
  await list.waitForSelector('#conn-state[data-state="connected"]');

  // streetctl dispatches: both pages change without a reload
  const t0 = Date.now();
  streetctl('zhang.wei', 'dispatch', String(id));
  await page.waitForSelector('#timeline li[data-action="dispatch"]', { timeout: WAIT });
  log(`the dispatch appeared on the ticket page after ${Date.now() - t0} ms (streetctl's run included)`);
  await page.waitForSelector('#ticket-state[data-state="dispatched"]');
  check(true, 'the header shows the new state');
  check((await page.textContent('#ticket-department')) !== '', 'and the department');
  await list.waitForSelector(`#list-rows tr[data-ticket="${id}"] [data-state="dispatched"]`, { timeout: WAIT });
  log(`the list row changed after ${Date.now() - t0} ms`);
  await shot(list, 'list-live');

  // another account's comment: text, live
  const t1 = Date.now();
  streetctl('wang.fang', 'comment', String(id), '<i>still noisy</i> 仍有噪声');
  await page.waitForSelector('#timeline li[data-action="comment"]', { timeout: WAIT });
  log(`the comment appeared after ${Date.now() - t1} ms`);
  check((await page.textContent('#timeline li[data-action="comment"] .user-text')) === '<i>still noisy</i> 仍有噪声',
    'the comment is text');
  check(await page.locator('#timeline i').count() === 0, 'no element from it');

  // a comment from the page itself
  await page.fill('#comment-text', '已联系施工单位');
  await page.click('#comment-form button[type="submit"]');
  await page.waitForFunction(() => [...document.querySelectorAll('#timeline li[data-action="comment"]')]
    .some((li) => li.textContent.includes('已联系施工单位')));
  check(await page.locator('#timeline li').count() === 4, 'report, dispatch and two comments, each once');
  await page.waitForSelector('#ticket-msg.msg-ok');
  await shot(page, 'ticket-live');

  // a history of more than one page (get gives 100 events a page): the page
  // shows the first; a pushed event still appears, after the ones between
  await harness(`sql SELECT count(street.st_comment((SELECT id FROM street.account WHERE login = 'zhang.wei'), ${id}, 'c' || i)) FROM generate_series(1, 120) i`);
  // the open page takes the burst (120 pushes) first: once they are all
  // shown, the log reader is past them, so the reloaded page (subscribed
  // from the head) gets none of them pushed and stays at its first page
  await page.waitForFunction(() => document.querySelectorAll('#timeline li').length === 124);
  check(true, 'a burst of 120 pushed comments shows, each once');
  await page.reload();
  await page.waitForSelector('#conn-state[data-state="connected"]');
  await page.waitForSelector('#timeline-more:not(.hidden)');
  const before = await page.locator('#timeline li').count();
  check(before === 100, `one page of the long history shown (${before} events)`);
  streetctl('wang.fang', 'comment', String(id), '长历史之后的备注');
  await page.waitForFunction(() => [...document.querySelectorAll('#timeline li[data-action="comment"]')]
    .some((li) => li.textContent.includes('长历史之后的备注')));
  check(await page.locator('#timeline li').count() === 125, 'the pushed comment shows, after every event before it, each once');
  await ctx.close();
});
