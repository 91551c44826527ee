// Photos that are refused in the browser: a text file (not even offered as
// an image), a "PNG" that is text (the server checks the content), and a
// file over the size limit (refused at photo_begin) each get a clear
// message naming the file, and nothing is attached: the report that
// follows has only the one good photo.
import { check, contextFor, log, open, run, shot, streetctl } from './lib.mjs';
import { optionByCode, png } from './looplib.mjs';

await run(async (browser) => {
  const ctx = await contextFor(browser, 'wang.fang');
  const page = await open(ctx, '#/collector');
  const list = '#report-photos-list';
  await page.setInputFiles('#report-photos-input', [
    { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('not a picture') },
    { name: 'fake.png', mimeType: 'image/png', buffer: Buffer.concat([png(8, 8, 3).subarray(0, 16), Buffer.from('just text after a PNG magic number')]) },
    { name: 'huge.png', mimeType: 'image/png', buffer: Buffer.alloc(5 * 1024 * 1024 + 1, 7) },
    { name: 'good.png', mimeType: 'image/png', buffer: png(16, 16, 4) },
  ]);
  await page.waitForFunction((l) => document.querySelectorAll(`${l} li[data-state="busy"]`).length === 0
    && document.querySelectorAll(`${l} li`).length === 4, list);
  const errs = await page.$$eval(`${list} li[data-state="error"]`, (ls) => ls.map((l) => l.textContent));
  log('messages:', errs);
  check(errs.length === 3, 'three refused');
  check(errs.some((m) => m.includes('notes.txt') && m.includes('不是 JPEG 或 PNG 图片')), 'the text file: not an image');
  check(errs.some((m) => m.includes('fake.png') && m.includes('不是 JPEG 或 PNG 图片')), 'the fake PNG: not an image (the server said so)');
  check(errs.some((m) => m.includes('huge.png') && m.includes('过大')), 'the big one: too large');
  check(await page.locator(`${list} li[data-state="done"]`).count() === 1, 'the good one uploaded');
  await shot(page, 'upload-refused');

  await page.selectOption('#report-category', await optionByCode(page, '#report-category', 'pollution.noise'));
  await page.selectOption('#report-grid', await optionByCode(page, '#report-grid', 'jg-yanan-02'));
  await page.fill('#report-description', 'upload test');
  await page.click('#report-form button[type="submit"]');
  await page.waitForSelector('#report-msg[data-ticket]');
  const id = await page.getAttribute('#report-msg', 'data-ticket');
  const got = streetctl('wang.fang', 'show', id);
  const photos = got.photos || got.result.photos;
  check(photos.length === 1 && photos[0].mime === 'image/png', 'only the good photo is attached');
  await ctx.close();
});
