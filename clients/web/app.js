// app: the shell.  whoami says who the certificate is; the header shows
// the screens of that role (views/registry.js), the connection state of
// the event stream, and the language toggle; the router renders the view.
// Every module the shell needs is imported here directly, the ones they
// import too: the browser asks them all in one round
// (tests/unit/test_web.mjs `views` checks it); the views come later, each
// when first shown.
import { call, dropEarly, early } from './api.js';
import { h, replace } from './dom.js';
import * as events from './events.js';
import { lang, nameOf, register, roleName, setLang, t } from './i18n.js';
import * as refdata from './refdata.js';
import * as router from './router.js';
import { load, navFor, titles, viewsFor, VIEWS } from './views/registry.js';

register(titles);

register({
  zh: {
    'app.title': '街道派单', 'app.loading': '加载中…', 'app.lang': 'English',
    'conn.connecting': '连接中', 'conn.connected': '已连接', 'conn.reconnecting': '重新连接中',
    'conn.offline': '离线', 'app.failed': '无法加载控制台：{msg}',
  },
  en: {
    'app.title': 'Street dispatch', 'app.loading': 'loading…', 'app.lang': '中文',
    'conn.connecting': 'connecting', 'conn.connected': 'connected', 'conn.reconnecting': 'reconnecting',
    'conn.offline': 'offline', 'app.failed': 'cannot load the console: {msg}',
  },
});

const ctx = { me: null };
const conn = h('span', { id: 'conn-state', class: 'conn', role: 'status' });
events.onState((s) => {
  conn.dataset.state = s;
  conn.className = 'conn conn-' + s;
  conn.textContent = t('conn.' + s);
});

function header() {
  conn.textContent = t('conn.' + events.connectionState());
  const me = ctx.me;
  return h('header', { class: 'top' },
    h('a', { class: 'brand', href: '#/' }, t('app.title')),
    h('nav', { class: 'nav' }, navFor(me.role).map((v) =>
      h('a', { href: '#' + v.route, dataset: { nav: v.id } }, t(v.title)))),
    h('span', { class: 'spacer' }),
    conn,
    h('span', { id: 'me', class: 'me', dataset: { login: me.login, role: me.role } },
      nameOf(me), ' · ', roleName(me.role)),
    h('button', { id: 'lang', class: 'link', type: 'button', on: { click: () => { setLang(lang() === 'zh' ? 'en' : 'zh'); draw(); } } },
      t('app.lang')));
}

let firstRender = null;

function draw() {
  const mainEl = h('main', { id: 'main' });
  replace(document.body, header(), mainEl);
  document.title = t('app.title');
  const r = router.render(mainEl, ctx);
  markNav();
  if (!firstRender) firstRender = r.catch(() => {});
}

// The header's link to the screen shown is marked (aria-current; app.css
// draws it), so the clerk sees where they are.
function markNav() {
  const found = router.parse(location.hash, VIEWS);
  for (const a of document.querySelectorAll('header .nav a')) {
    if (found && a.dataset.nav === found.view.id) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
}

async function boot() {
  setLang(lang());
  replace(document.body, h('p', { class: 'loading' }, t('app.loading')));
  // whoami, the reference data, the first request of the screen the
  // address names and that screen's module go out at once: none needs
  // another's answer, and a first paint waits for the slowest of them
  // instead of their sum
  const found = router.parse(location.hash, VIEWS);
  if (found && found.view.first) early(found.view.first.op, found.view.first.fields);
  if (found) load(found.view).catch(() => {}); // the router reports a failure
  try {
    const [r] = await Promise.all([call('whoami'), refdata.load()]);
    ctx.me = r.account;
  } catch (e) {
    replace(document.body, h('p', { class: 'fatal', id: 'fatal' }, t('app.failed', { msg: e.message })));
    return;
  }
  for (const v of viewsFor(ctx.me.role)) router.addView(v);
  events.start();
  window.addEventListener('hashchange', () => { router.render(); markNav(); });
  draw();
  // the first screen has taken its answer; if another came up (another
  // role, or the address changed meanwhile), it is not kept to be shown
  // stale later
  await firstRender;
  dropEarly();
}

boot();
