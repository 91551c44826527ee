// Every screen of every role, as its user sees it: a screenshot in Chinese
// and in English at 1280 wide, and one at a narrow width (400, a phone held
// upright); and, in English, no Chinese text in the chrome: every text node
// and every placeholder, aria-label and title of the page outside user data
// (.user-text: descriptions, notes, reasons, addresses as typed) and the
// language button (which names 中文).  Data first, through streetctl, so
// that every section has something to show: a report in the inbox, one
// dispatched, one accepted, one resolved, one overdue, one returned.
import { join } from 'node:path';
import { check, contextFor, harness, log, open, run, shot, streetctl } from './lib.mjs';
import { ticketOf } from './looplib.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const idOf = (r) => (ticketOf(r) || r).id;

function report(category, description, extra = []) {
  return idOf(streetctl('wang.fang', 'report', '--category', category, '--grid', 'jg-yanan-01',
    '--description', description, '--address', '延安北路12号', ...extra));
}

// The page's chrome in Chinese characters (CJK, their punctuation, full-width forms).
function chineseInChrome(page) {
  return page.evaluate(() => {
    const CJK = /[\u3000-\u303f\u3400-\u9fff\uf900-\ufaff\uff00-\uffef]/;
    const skip = (el) => !el || el.closest('.user-text, #lang, script, style');
    const where = (el) => {
      const parts = [];
      for (let e = el; e && e !== document.body && parts.length < 4; e = e.parentElement) {
        parts.unshift(e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.classList.length ? '.' + [...e.classList].join('.') : ''));
      }
      return parts.join(' > ');
    };
    const bad = [];
    const w = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let n = w.nextNode(); n; n = w.nextNode()) {
      if (CJK.test(n.data) && !skip(n.parentElement)) bad.push(`${where(n.parentElement)}: "${n.data.trim().slice(0, 60)}"`);
    }
    for (const el of document.body.querySelectorAll('[placeholder], [aria-label], [title]')) {
      if (skip(el)) continue;
      for (const a of ['placeholder', 'aria-label', 'title']) {
        const v = el.getAttribute(a);
        if (v && CJK.test(v)) bad.push(`${where(el)} @${a}: "${v}"`);
      }
    }
    if (CJK.test(document.title)) bad.push('title: ' + document.title);
    return bad;
  });
}

// The window only (1280×800), for docs/console/: doc-NAME.png.
async function docShot(page, name) {
  const path = join(process.env.STREETD_SHOTS, 'doc-' + name + '.png');
  await page.screenshot({ path });
  log('screenshot', path);
}

// doc: 'zh' or 'en', the language of a window-sized shot for the docs.
async function screen(ctx, login, name, hash, ready, doc) {
  const page = await open(ctx, hash);
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.waitForSelector('#conn-state[data-state="connected"]');
  await ready(page);
  await shot(page, `screen-${name}-zh`);
  if (doc === 'zh') await docShot(page, name);
  await page.click('#lang');
  await page.waitForFunction(() => document.documentElement.lang === 'en');
  await page.waitForSelector('#conn-state[data-state="connected"]');
  await ready(page);
  await shot(page, `screen-${name}-en`);
  if (doc === 'en') await docShot(page, name);
  const bad = await chineseInChrome(page);
  for (const b of bad) log(`  ${name}: Chinese in the English chrome: ${b}`);
  check(bad.length === 0, `${login} ${hash}: the English chrome has no Chinese text`);
  await page.click('#lang');
  await page.waitForFunction(() => document.documentElement.lang === 'zh-CN');
  await page.setViewportSize({ width: 400, height: 800 });
  await ready(page);
  await shot(page, `screen-${name}-narrow`);
  // a table row is one row: no cell pushed out of it (a flex cell would be)
  const split = await page.evaluate(() => [...document.querySelectorAll('table.tickets tr')].filter((tr) =>
    [...tr.cells].some((c) => Math.abs(c.getBoundingClientRect().top - tr.getBoundingClientRect().top) > 1)).length);
  check(split === 0, `${login} ${hash}: every table row's cells line up`);
  const over = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  check(over <= 0, `${login} ${hash}: at 400 px nothing sticks out of the window (${over} px; tables scroll inside)`);
  await page.close();
}

await run(async (browser) => {
  // the data
  const inbox = report('pollution.noise', '工地夜间施工噪声扰民，22点后仍在打桩');
  const disp = report('pollution.noise', '小区门口垃圾堆放三天未清运');
  streetctl('zhang.wei', 'dispatch', String(disp));
  const acc = report('pollution.noise', '工地扬尘严重，未覆盖防尘网');
  streetctl('zhang.wei', 'dispatch', String(acc));
  const accDept = (ticketOf(streetctl('zhang.wei', 'show', String(acc))) || {}).department_id;
  const deptLogin = await harness(`sql SELECT login FROM street.account WHERE department_id = ${Number(accDept)} AND role = 'department' ORDER BY id LIMIT 1`);
  streetctl(deptLogin, 'accept', String(acc));
  const res = report('pollution.noise', '餐馆油烟直排居民楼');
  streetctl('zhang.wei', 'dispatch', String(res));
  streetctl(deptLogin, 'accept', String(res));
  streetctl(deptLogin, 'resolve', String(res), '--note', '已协调施工方停工');
  const ret = report('pollution.noise', '河边有污水直排口');
  streetctl('zhang.wei', 'dispatch', String(ret));
  const other = deptLogin === 'chen.jing' ? 'sthj' : 'cgj';
  streetctl(deptLogin, 'return', String(ret), '--reason', '不属于本部门职责', '--department', other);
  report('t-tiny', '电梯困人，需紧急处理');
  await sleep(1500);
  await harness('sql SELECT count(*) FROM street.st_sweep()');
  // the assessment's rollups are the follower's: fold every event first
  for (let i = 0; i < 2000; i++) {
    await harness('sql SELECT street.st_follow()');
    if (await harness('sql SELECT position >= (SELECT max(seq) FROM street.ticket_event) FROM street.assess_cursor') === 't') break;
    await sleep(10);
  }
  log('tickets', { inbox, disp, acc, res, ret, deptLogin });

  const roles = [
    ['zhang.wei', [
      ['street', '#/street', (p) => p.waitForSelector(`#street-inbox li[data-ticket="${inbox}"] .proposal[data-proposed]`), 'zh'],
      ['list', '#/list', (p) => p.waitForSelector('#list-rows tr')],
      ['ticket', '#/ticket/' + res, (p) => p.waitForSelector('#timeline li[data-action="resolve"]')],
      ['home', '#/home', (p) => p.waitForSelector('#home-ticket')],
    ]],
    [deptLogin, [
      ['department', '#/department', (p) => p.waitForSelector(`#dept-progress li[data-ticket="${acc}"] .countdown[data-left]`), 'en'],
      ['ticket-department', '#/ticket/' + acc, (p) => p.waitForSelector('#ticket-actions .act-resolve')],
    ]],
    ['wang.fang', [
      ['collector', '#/collector', async (p) => {
        await p.waitForSelector('#report-map[data-ready="1"]');
        await p.waitForSelector(`#coll-feedback li[data-ticket="${res}"]`);
        await p.click('#report-map path.grid-poly >> nth=1'); // a grid picked on the map
      }, 'zh'],
    ]],
    ['ma.jun', [
      ['board', '#/board', (p) => p.waitForSelector('#board-rows tr'), 'zh'],
      ['arbitration', '#/arbitration', (p) => p.waitForSelector(`#arb-rows article[data-ticket="${ret}"]`)],
      ['map', '#/map', (p) => p.waitForSelector('#gridmap[data-ready="1"]')],
    ]],
    ['ta.super', [
      ['assessment', '#/assessment?month=2025-03', async (p) => {
        await p.waitForSelector('#chart-series[data-ready="1"]');
        const days = await p.evaluate(() => window.Chart.getChart(document.querySelector('#chart-series')).data.labels.length);
        check(days === 31, `the day series has every day of March (${days})`);
      }, 'zh'],
      ['bulletin', '#/bulletin?month=2025-03', (p) => p.waitForSelector('#bulletin[data-ready="1"]'), 'en'],
    ]],
  ];
  // every key registered in one language is in the other (all modules are loaded by now)
  {
    const ctx = await contextFor(browser, 'ma.jun');
    const page = await open(ctx, '#/board');
    const missing = await page.evaluate(async () => {
      const d = (await import('/i18n.js')).strings();
      return [...Object.keys(d.zh).filter((k) => !(k in d.en)).map((k) => 'en lacks ' + k),
        ...Object.keys(d.en).filter((k) => !(k in d.zh)).map((k) => 'zh lacks ' + k)];
    });
    for (const m of missing) log('  ' + m);
    check(missing.length === 0, 'every label is registered in zh and en');
    await ctx.close();
  }
  // a read that fails says so above the sections, not as an empty desk
  {
    const ctx = await contextFor(browser, 'zhang.wei');
    await ctx.route('**/api', async (route) => {
      const body = route.request().postDataJSON();
      if (body && body.op === 'list') {
        await route.fulfill({ status: 200, contentType: 'application/json',
          body: JSON.stringify({ id: body.id, ok: false, error: { code: 'unavailable', message: 'test' } }) });
      } else await route.continue();
    });
    const page = await open(ctx, '#/street');
    await page.waitForSelector('.board-msg.msg-error[data-code="unavailable"]');
    const text = await page.textContent('.board-msg');
    check(text.includes('服务暂不可用'), `a failed read shows its message: ${text}`);
    check(!(await page.textContent('main')).includes('暂无待办'), 'and no section claims to be empty');
    await ctx.close();
  }
  for (const [login, screens] of roles) {
    const ctx = await contextFor(browser, login);
    for (const [name, hash, ready, doc] of screens) await screen(ctx, login, name, hash, ready, doc);
    await ctx.close();
  }
});
