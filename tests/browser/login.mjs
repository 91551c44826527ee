// The console loads over mutual TLS in Chromium: the static pages, then
// whoami with the certificate the browser presents; the header shows the
// account's name and role, the event stream connects, and English is one
// click away (and stays chosen on reload).
import { check, contextFor, open, run, shot, WAIT } from './lib.mjs';

await run(async (browser) => {
  const ctx = await contextFor(browser, 'zhang.wei');
  const page = await open(ctx);
  const me = await page.textContent('#me');
  check(me.includes('张伟'), `the header names the account: ${me}`);
  check(me.includes('街道'), 'and its role, in Chinese by default');
  await page.waitForSelector('#conn-state[data-state="connected"]', { timeout: WAIT });
  check(true, 'the event stream is connected');
  check(await page.getAttribute('html', 'lang') === 'zh-CN', 'the page is zh-CN');
  await shot(page, 'login-zh');
  await page.click('#lang');
  await page.waitForFunction(() => document.querySelector('#me').textContent.includes('Zhang Wei'));
  check((await page.textContent('#me')).includes('street office'), 'English: name_en and the role in English');
  await page.reload();
  await page.waitForSelector('#me');
  check((await page.textContent('#me')).includes('Zhang Wei'), 'the language choice survives a reload');
  check(await page.getAttribute('html', 'lang') === 'en', 'the page is en');
  await shot(page, 'login-en');
  // the library files come from Debian's packages, through streetd
  const lib = await page.evaluate(async () => (await fetch('/javascript/leaflet/leaflet.css')).status);
  check(lib === 200, 'Leaflet is served from /usr/share/javascript');
  await ctx.close();

  // without a certificate the page loads but the API refuses: a clear message
  const anon = await browser.newContext({ ignoreHTTPSErrors: true });
  const p2 = await anon.newPage();
  await p2.goto(process.env.STREETD_URL + '/');
  await p2.waitForSelector('#fatal');
  const msg = await p2.textContent('#fatal');
  check(msg.includes('未认证'), `no certificate: ${msg}`);
  await anon.close();
});
