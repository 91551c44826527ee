// router: hash routes (#/, #/ticket/42, #/list?state=reported).  A view
// module exports {route, title, render(root, params, ctx)} and optionally
// nav (shown in the header) and roles (who gets it: absent = everyone).
// route is a pattern: '/ticket/:id' matches '#/ticket/42' with params.id.
// render may return a cleanup function, called when the page leaves the
// view (unsubscribe from events and the like).
const routes = [];
let cleanup = null;
let renderCtx = null;

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

// The first of among (the added views by default) whose route matches hash,
// with its params, or null.
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
  if (cleanup) { try { cleanup(); } catch (e) { /* a view's cleanup must not stop the next */ } cleanup = null; }
  const found = parse(location.hash) || parse('#/');
  renderCtx.root.replaceChildren();
  if (!found) return;
  const r = await found.view.render(renderCtx.root, found.params, renderCtx.ctx);
  if (typeof r === 'function') cleanup = r;
}

export function start(root, ctx) {
  window.addEventListener('hashchange', () => render());
  return render(root, ctx);
}
