// The page survives the daemon restarting: the connection state goes from
// connected to reconnecting and back to connected, an event committed while
// streetd was down (through the action's SQL function: nothing else can
// act then) appears once streetd is back, replayed from the log through
// Last-Event-ID / since, and live events flow again: nothing missed,
// nothing twice.  A screen first opened while streetd is down says it
// cannot load, and loads once streetd is back.
import { check, contextFor, harness, log, open, run, shot, streetctl, WAIT } from './lib.mjs';

await run(async (browser) => {
  const rep = streetctl('wang.fang', 'report', '--category', 'pollution.noise', '--grid', 'jg-yanan-01',
    '--description', '重启测试 restart test');
  const id = (rep.ticket || rep.result.ticket).id;
  const ctx = await contextFor(browser, 'zhang.wei');
  const page = await open(ctx, '#/ticket/' + id);
  await page.waitForSelector('#conn-state[data-state="connected"]');
  await page.waitForSelector('#timeline li[data-action="report"]');
  // the states the header went through, as the page saw them
  await page.evaluate(() => {
    window.__states = [];
    new MutationObserver(() => window.__states.push(document.querySelector('#conn-state').dataset.state))
      .observe(document.querySelector('#conn-state'), { attributes: true, attributeFilter: ['data-state'] });
  });

  await harness('stop');
  await page.waitForSelector('#conn-state:not([data-state="connected"])', { timeout: WAIT });
  const down = await page.getAttribute('#conn-state', 'data-state');
  log('with streetd down the header says', down);
  check(down === 'reconnecting', 'the page shows it is reconnecting');
  await shot(page, 'restart-down');

  const text = '停机期间的备注 made while streetd was down';
  await harness(`sql SELECT 1 FROM street.st_comment((SELECT id FROM street.account WHERE login = 'wang.fang'), ${id}, '${text}')`);
  await harness('start');
  const t0 = Date.now();
  await page.waitForSelector('#conn-state[data-state="connected"]', { timeout: 30000 });
  log(`reconnected ${Date.now() - t0} ms after streetd listened again`);
  await page.waitForFunction((s) => document.querySelector('#timeline').textContent.includes(s), text, { timeout: WAIT });
  check(true, 'the event made while streetd was down appeared (replayed)');
  const states = await page.evaluate(() => window.__states);
  log('connection states seen:', states.join(' → '));
  check(states[0] === 'reconnecting', 'it went through reconnecting');
  check(states[states.length - 1] === 'connected', 'and ended connected');

  streetctl('zhang.wei', 'dispatch', String(id));
  await page.waitForSelector('#timeline li[data-action="dispatch"]', { timeout: WAIT });
  check(true, 'live events flow again');
  const seqs = await page.$$eval('#timeline li', (els) => els.map((e) => Number(e.dataset.seq)));
  check(seqs.length === 3 && new Set(seqs).size === 3, `report, the comment, dispatch: each once (${seqs.join(', ')})`);
  check(seqs.every((s, i) => i === 0 || s > seqs[i - 1]), 'in order');
  await shot(page, 'restart-after');

  // a screen not opened yet is a module not loaded yet (views load when
  // first shown): with streetd down it says so where the screen would be,
  // and once streetd is back the same screen loads
  await harness('stop');
  await page.evaluate(() => { location.hash = '#/list'; });
  await page.waitForSelector('#view-failed', { timeout: WAIT });
  log('a screen opened with streetd down:', await page.textContent('#view-failed'));
  check(true, 'a screen whose module cannot be loaded says so');
  await harness('start');
  await page.waitForSelector('#conn-state[data-state="connected"]', { timeout: 30000 });
  await page.evaluate(() => { location.hash = '#/home'; });
  await page.waitForSelector('#home-ticket', { timeout: WAIT });
  await page.evaluate(() => { location.hash = '#/list'; });
  await page.waitForSelector('#list-form', { timeout: WAIT });
  check(true, 'the same screen loads once streetd is back');
  await ctx.close();
});
