// The web console's static checks (clients/web/), run by node:
//   size     the console's JS + CSS stay under 200 KiB uncompressed (issue 15)
//   sinks    no HTML sink anywhere (innerHTML, outerHTML, insertAdjacentHTML,
//            document.write, eval, new Function, string timers) and no inline
//            script, style or handler attribute in the pages: text goes in as
//            text (dom.js), the CSP forbids the rest
//   errors   every error code of docs/protocol.md has a zh and an en message
//   views    views/registry.js's table and the view files agree: every entry's
//            module exists and exports the id and route the entry claims,
//            every view a file exports is in the table, every role's ticket
//            actions module adds that role's actions, every title has both
//            languages; the shell (app.js) imports every module of its
//            graph directly (one round of requests) and no view, and
//            index.html preloads exactly those modules
// Usage: node test_web.mjs MODE WEB_DIR PROTOCOL_MD
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const [mode, web, protocol] = process.argv.slice(2);
const LIMIT = 200 * 1024;

function files(dir) {
  const out = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...files(p));
    else if (e.isFile()) out.push(p);
  }
  return out;
}

// The static imports of a module file: resolved paths.
function importsOf(file) {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/^import\s+(?:[^'"]*?\s+from\s+)?['"]([^'"]+)['"]/gm)].map((m) => resolve(dirname(file), m[1]));
}

async function checkViews() {
  const dir = join(web, 'views');
  const reg = await import(pathToFileURL(join(dir, 'registry.js')).href);
  const known = new Set();
  for (const e of reg.VIEWS) {
    const where = `registry entry ${e.id} (${e.module})`;
    known.add(e.module + ' ' + e.id);
    let m;
    try {
      m = await import(pathToFileURL(join(dir, e.module)).href);
    } catch (err) {
      fail(`${where}: cannot import: ${err.message}`);
      continue;
    }
    const v = [].concat(m.default).find((x) => x && x.id === e.id);
    if (!v) { fail(`${where}: the module exports no view ${e.id}`); continue; }
    if (v.route !== e.route) fail(`${where}: route ${e.route} in the table, ${v.route} in the module`);
    if (typeof v.render !== 'function') fail(`${where}: no render()`);
    for (const k of ['roles', 'nav', 'navHref', 'title', 'prefetch', 'first', 'main']) {
      if (k in v) fail(`${where}: the module says ${k} too (the table is the one place)`);
    }
    for (const l of ['zh', 'en']) {
      if (!reg.titles[l][e.title]) fail(`${where}: no ${l} title for ${e.title}`);
    }
  }
  if (new Set(reg.VIEWS.map((e) => e.route)).size !== reg.VIEWS.length) fail('two entries with the same route');
  for (const role of ['street', 'department', 'collector', 'supervisor']) {
    if (!reg.mainFor(role)) fail(`no main screen for ${role}`);
  }
  // every view a file exports is in the table (a view file not in it: no route reaches it)
  let files = 0;
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.js')).sort()) {
    const m = await import(pathToFileURL(join(dir, f)).href);
    for (const v of [].concat(m.default || [])) {
      if (!v || typeof v.render !== 'function') continue;
      files++;
      if (!known.has(f + ' ' + v.id)) fail(`views/${f}: view ${v.id} (${v.route}) is not in registry.js's table`);
    }
  }
  // the ticket page's actions: each role's module adds that role's, and none other does
  const adds = new Map();
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.js'))) {
    for (const m of readFileSync(join(dir, f), 'utf8').matchAll(/addTicketActions\('(\w+)'/g)) adds.set(m[1], f);
  }
  for (const [role, f] of Object.entries(reg.ACTIONS)) {
    if (adds.get(role) !== f) fail(`ACTIONS: ${role}'s actions are in ${f}, added in ${adds.get(role) || 'no module'}`);
  }
  for (const [role, f] of adds) {
    if (reg.ACTIONS[role] !== f) fail(`views/${f} adds ${role}'s ticket actions, but ACTIONS names ${reg.ACTIONS[role]}`);
  }
  // the shell's graph: one level below app.js, no view in it
  const app = join(web, 'app.js');
  const direct = new Set(importsOf(app));
  const seen = new Set();
  const todo = [...direct];
  while (todo.length) {
    const f = todo.pop();
    if (seen.has(f)) continue;
    seen.add(f);
    for (const g of importsOf(f)) {
      if (!direct.has(g)) fail(`app.js does not import ${relative(web, g)} (imported by ${relative(web, f)}): one more round of requests`);
      todo.push(g);
    }
  }
  // index.html names the same modules for preloading: they go out with app.js
  const html = readFileSync(join(web, 'index.html'), 'utf8');
  const hinted = new Set([...html.matchAll(/<link rel="modulepreload" href="([^"]+)">/g)].map((m) => resolve(web, m[1])));
  for (const f of direct) {
    if (!hinted.has(f)) fail(`index.html has no modulepreload for ${relative(web, f)} (app.js imports it)`);
  }
  for (const f of hinted) {
    if (!direct.has(f)) fail(`index.html preloads ${relative(web, f)}, which app.js does not import`);
  }
  const lazy = new Set([...reg.VIEWS.map((e) => e.module), ...Object.values(reg.ACTIONS)].map((x) => resolve(dir, x)));
  for (const f of seen) {
    if (lazy.has(f)) fail(`app.js's imports pull ${relative(web, f)}: views load when shown`);
  }
  console.log(`${reg.VIEWS.length} routes, ${files} views in the files; the shell: ${seen.size} modules`);
}

let failed = 0;
function fail(msg) {
  console.log('FAIL ' + msg);
  failed++;
}

if (mode === 'size') {
  let total = 0;
  for (const f of files(web)) {
    if (/\.(m?js|css)$/.test(f)) total += statSync(f).size;
  }
  console.log(`console JS + CSS: ${total} bytes (limit ${LIMIT})`);
  if (total >= LIMIT) fail(`JS + CSS is ${total} bytes, over ${LIMIT}`);
} else if (mode === 'sinks') {
  const js = [/\.innerHTML\b/, /\.outerHTML\b/, /insertAdjacentHTML/, /document\.write/, /\beval\s*\(/,
    /new\s+Function\s*\(/, /set(Timeout|Interval)\s*\(\s*['"`]/, /createContextualFragment/, /DOMParser/,
    /srcdoc/, /\.style\.cssText/, /setAttribute\(\s*['"](style|on\w+)['"]/];
  const html = [/<script(?![^>]*\bsrc=)[^>]*>/i, /\sstyle\s*=/i, /\son\w+\s*=/i, /<style/i, /javascript:/i];
  let n = 0;
  for (const f of files(web)) {
    const text = readFileSync(f, 'utf8');
    const rel = relative(web, f);
    const rules = /\.m?js$/.test(f) ? js : /\.html$/.test(f) ? html : [];
    if (rules.length) n++;
    text.split('\n').forEach((line, i) => {
      for (const r of rules) {
        // dom.js names the attributes it refuses: that is the guard, not a use
        if (rel === 'dom.js' && /srcdoc|style/.test(r.source)) continue;
        if (r.test(line)) fail(`${rel}:${i + 1}: ${r} in: ${line.trim()}`);
      }
    });
  }
  console.log(`checked ${n} files for HTML sinks and inline code`);
} else if (mode === 'errors') {
  const md = readFileSync(protocol, 'utf8');
  const section = md.split('## Error codes')[1].split('\n## ')[0];
  const codes = [...section.matchAll(/^\| `(\w+)` \|/gm)].map((m) => m[1]);
  if (codes.length < 10) fail(`only ${codes.length} codes found in ${protocol}`);
  const { errorStrings } = await import(pathToFileURL(join(web, 'api.js')).href);
  for (const c of codes) {
    for (const l of ['zh', 'en']) {
      if (!errorStrings[l]['error.' + c]) fail(`no ${l} message for ${c}`);
    }
  }
  console.log(`error codes of protocol.md: ${codes.join(', ')}`);
} else if (mode === 'views') {
  await checkViews();
} else {
  fail('unknown mode ' + mode);
}
console.log(failed ? `0 passed, ${failed} failed` : '1 passed, 0 failed');
process.exit(failed ? 1 : 0);
