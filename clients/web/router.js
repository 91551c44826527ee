// router: hash routes (#/, #/ticket/42, #/list?state=reported).  The
// routes are views/registry.js's entries ({id, route, ...}), added per
// role; the view itself (render(root, params, ctx)) is the entry's module,
// imported when its route is first shown (registry.load).  route is a
// pattern: '/ticket/:id' matches '#/ticket/42' with params.id.  render may
// return a cleanup function, called when the page leaves the view
// (unsubscribe from events and the like).
import { h } from './dom.js';
import { register, t } from './i18n.js';
import { load } from './views/registry.js';

const routes = [];
let cleanup = null;
let renderCtx = null;
let shown = 0; // the latest render: an earlier one still loading its view gives way

register({
  zh: { 'router.failed': '无法加载此页面（请检查连接后重试）：{msg}' },
  en: { 'router.failed': 'cannot load this screen (check the connection and try again): {msg}' },
});

function compile(view) {
  const names = [];
  const re = new RegExp('^' + view.route.replace(/:(\w+)/g, (m, n) => { names.push(n); return '([^/]+)'; }) + '$');
  return { view, re, names };
}

export function addView(view) {
  routes.push(compile(view));
}

export function views() {
  return routes.map((r) => r.view);
}

// The first of among (the added entries by default) whose route matches
// hash, with its params: {view: the entry, params}, or null.
export function parse(hash, among) {
  const raw = (hash || '').replace(/^#/, '') || '/';
  const q = raw.indexOf('?');
  const path = q < 0 ? raw : raw.slice(0, q);
  const query = new URLSearchParams(q < 0 ? '' : raw.slice(q + 1));
  for (const r of among ? among.map(compile) : routes) {
    const m = r.re.exec(path);
    if (!m) continue;
    const params = { query };
    r.names.forEach((n, i) => { params[n] = decodeURIComponent(m[i + 1]); });
    return { view: r.view, params };
  }
  return null;
}

export function go(hash) {
  if (location.hash === hash) render();
  else location.hash = hash;
}

// Renders the current hash into root with ctx ({me, ...}).
export async function render(root, ctx) {
  if (root) renderCtx = { root, ctx };
  if (!renderCtx) return;
  const mine = ++shown;
  if (cleanup) { try { cleanup(); } catch (e) { /* a view's cleanup must not stop the next */ } cleanup = null; }
  const found = parse(location.hash) || parse('#/');
  const { root: el, ctx: c } = renderCtx;
  el.replaceChildren();
  if (!found) return;
  let view;
  try {
    view = await load(found.view);
  } catch (e) {
    // the module did not come (the daemon restarting): say so, where the view would be
    if (mine === shown) el.replaceChildren(h('p', { class: 'msg msg-error', id: 'view-failed' }, t('router.failed', { msg: String(e && e.message || e) })));
    return;
  }
  if (mine !== shown) return;
  const r = await view.render(el, found.params, c);
  if (typeof r === 'function') {
    if (mine === shown) cleanup = r;
    else r();
  }
}

export function start(root, ctx) {
  window.addEventListener('hashchange', () => render());
  return render(root, ctx);
}
