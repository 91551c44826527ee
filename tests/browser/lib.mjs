// What the browser tests share: Chromium (Debian's, headless) through
// playwright-core, one context per account with its client certificate,
// streetctl as a subprocess, the harness's commands (harness.c), waiting
// without timed assertions, screenshots.
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { chromium } from 'playwright-core';

export const URL_BASE = process.env.STREETD_URL;
const TLS = process.env.STREETD_TLS_DIR || process.env.STREETD_TEST_TLS_DIR;
const SHOTS = process.env.STREETD_SHOTS || tmpdir();
let socketPort = process.env.STREETD_SOCKET_PORT;
const ctlHome = mkdtempSync(join(tmpdir(), 'streetd-browser-'));

// "Appears" waits this long: generous, never a measure (the latency is
// printed; the 1 s figure is the bench's).
export const WAIT = 10000;

export function log(...a) {
  console.log(new Date().toISOString(), ...a);
}

export async function launch() {
  return chromium.launch({
    executablePath: process.env.STREETD_CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
}

// A context that presents LOGIN's certificate to the console's origin.
// ignoreHTTPSErrors: the server's certificate is the test CA's, which
// Chromium does not know; the tests are about the console, not about
// trusting that CA (streetctl and curl check it in the other suites).
export async function contextFor(browser, login, extra = {}) {
  const ctx = await browser.newContext({
    ignoreHTTPSErrors: true,
    locale: 'zh-CN',
    timezoneId: 'Europe/London', // not Shanghai: the page must convert
    clientCertificates: [{ origin: URL_BASE, certPath: `${TLS}/${login}.crt`, keyPath: `${TLS}/${login}.key` }],
    ...extra,
  });
  ctx.setDefaultTimeout(WAIT);
  return ctx;
}

// A page of the console, loaded and past whoami; console errors logged.
export async function open(ctx, hash = '#/') {
  const page = await ctx.newPage();
  page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') log('page console:', m.type(), m.text()); });
  page.on('pageerror', (e) => { log('page error:', e.message); pageErrors.push(e.message); });
  await page.goto(URL_BASE + '/' + hash);
  await page.waitForSelector('#me');
  return page;
}
export const pageErrors = [];

// A screenshot is an artefact, not a check: on a loaded machine Chromium can
// take longer than WAIT to paint a full page, so it gets its own minute, and
// one that still fails is logged (loudly) without failing the test.
export async function shot(page, name) {
  const path = join(SHOTS, name + '.png');
  try {
    await page.screenshot({ path, fullPage: true, timeout: 60000 });
    log('screenshot', path);
  } catch (e) {
    log('SCREENSHOT NOT TAKEN', path, String(e && e.message || e).split('\n')[0]);
  }
}

// streetctl as LOGIN; returns the parsed --json output (throws on failure).
export function streetctl(login, ...args) {
  const r = spawnSync(process.env.STREETD_STREETCTL, ['--json', '--server', '127.0.0.1', '--port', String(socketPort),
    '--ca', `${TLS}/ca.crt`, '--cert', `${TLS}/${login}.crt`, '--tls-key', `${TLS}/${login}.key`, ...args],
  { encoding: 'utf8', env: { ...process.env, HOME: ctlHome, XDG_STATE_HOME: ctlHome } });
  if (r.status !== 0) throw new Error(`streetctl ${args.join(' ')}: status ${r.status}: ${r.stderr}`);
  return r.stdout.trim() ? JSON.parse(r.stdout) : null;
}

// streetctl as LOGIN without --json: its exit status and output as they are.
export function streetctlRaw(login, ...args) {
  return spawnSync(process.env.STREETD_STREETCTL, ['--server', '127.0.0.1', '--port', String(socketPort),
    '--ca', `${TLS}/ca.crt`, '--cert', `${TLS}/${login}.crt`, '--tls-key', `${TLS}/${login}.key`, ...args],
  { env: { ...process.env, HOME: ctlHome, XDG_STATE_HOME: ctlHome } });
}

// The harness's commands: one line out, one line back.
const input = createInterface({ input: process.stdin });
const answers = [];
const waiting = [];
input.on('line', (l) => { if (waiting.length) waiting.shift()(l); else answers.push(l); });
export function harness(cmd) {
  process.stdout.write('@@' + cmd + '\n');
  return new Promise((resolve) => {
    const take = (l) => {
      if (!l.startsWith('ok')) throw new Error(`harness ${cmd}: ${l}`);
      const rest = l.slice(3);
      if (cmd === 'start') socketPort = rest;
      resolve(rest);
    };
    if (answers.length) take(answers.shift()); else waiting.push(take);
  });
}

export function check(cond, msg) {
  if (!cond) throw new Error('check failed: ' + msg);
  log('ok', msg);
}

// Runs main(browser), closes everything, exits 0 or 1.
export async function run(main) {
  let browser;
  let rc = 0;
  try {
    browser = await launch();
    await main(browser);
    if (pageErrors.length) throw new Error('uncaught errors in the page: ' + pageErrors.join('; '));
    log('passed');
  } catch (e) {
    log('FAILED:', e && e.stack || e);
    rc = 1;
  } finally {
    if (browser) await browser.close().catch(() => {});
    input.close();
  }
  process.exit(rc);
}
