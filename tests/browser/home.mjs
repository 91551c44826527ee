// `#/` by role: each role lands on its main screen (street → #/street,
// department → #/department, collector → #/collector, supervisor →
// #/board), without leaving `#/` in the history; admin gets the generic
// start page there, and the start page stays reachable for everyone at
// #/home.  The brand link in the header goes home, so to the main screen.
import { check, contextFor, open, run } from './lib.mjs';

const MAIN = { 'zhang.wei': '#/street', 'chen.jing': '#/department', 'wang.fang': '#/collector', 'ma.jun': '#/board' };

await run(async (browser) => {
  for (const [login, hash] of Object.entries(MAIN)) {
    const ctx = await contextFor(browser, login);
    const page = await open(ctx, '#/');
    await page.waitForFunction((h) => location.hash === h, hash);
    await page.waitForSelector(`#conn-state[data-state="connected"]`);
    check(await page.locator('#home-ticket').count() === 0, `${login}: #/ is ${hash}`);
    // the header marks the screen shown, and only it
    const marked = await page.$$eval('header .nav a[aria-current="page"]', (as) => as.map((a) => a.getAttribute('href')));
    check(marked.length === 1 && marked[0] === hash, `${login}: the header marks ${hash} (${marked.join(' ')})`);
    // the start page, by its own route
    await page.goto(process.env.STREETD_URL + '/#/home');
    await page.waitForSelector('#home-ticket');
    check(true, `${login}: #/home is the start page`);
    await page.waitForFunction((h) => !document.querySelector(`header .nav a[href="${h}"][aria-current]`), hash);
    check(true, `${login}: on #/home the main screen's link is no longer marked`);
    // the brand link: home, so the main screen again
    await page.click('.top a.brand');
    await page.waitForFunction((h) => location.hash === h, hash);
    await page.goBack();
    await page.waitForFunction(() => location.hash === '#/home');
    check(true, `${login}: the brand link leads to ${hash}, and Back returns to #/home (no bounce through #/)`);
    await ctx.close();
  }
  const actx = await contextFor(browser, 'admin');
  const admin = await open(actx, '#/');
  await admin.waitForSelector('#home-ticket');
  check(await admin.evaluate(() => location.hash) === '#/', 'admin: #/ is the start page');
  await actx.close();
});
