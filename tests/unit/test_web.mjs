// The web console's static checks (clients/web/), run by node:
//   size     the console's JS + CSS stay under 200 KiB uncompressed (issue 15)
//   sinks    no HTML sink anywhere (innerHTML, outerHTML, insertAdjacentHTML,
//            document.write, eval, new Function, string timers) and no inline
//            script, style or handler attribute in the pages: text goes in as
//            text (dom.js), the CSP forbids the rest
//   errors   every error code of docs/protocol.md has a zh and an en message
//   preload  index.html's <link rel="modulepreload"> names exactly the modules
//            app.js imports, directly or not (static imports of the console's
//            own files): one missing would be fetched an import level late,
//            one too many fetched for nothing
// Usage: node test_web.mjs MODE WEB_DIR PROTOCOL_MD
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
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
  const { errorStrings } = await import(pathToFileURL(join(web, 'errors.js')).href);
  for (const c of codes) {
    for (const l of ['zh', 'en']) {
      if (!errorStrings[l]['error.' + c]) fail(`no ${l} message for ${c}`);
    }
  }
  console.log(`error codes of protocol.md: ${codes.join(', ')}`);
} else if (mode === 'preload') {
  // the static imports of the console's own modules, from app.js down
  const graph = new Set();
  const todo = ['app.js'];
  while (todo.length) {
    const f = todo.shift();
    if (graph.has(f)) continue;
    graph.add(f);
    const text = readFileSync(join(web, f), 'utf8');
    for (const m of text.matchAll(/^\s*(?:import|export)\s+(?:[^'"]*?\sfrom\s+)?['"](\.{1,2}\/[^'"]+)['"]/gm)) {
      todo.push(normalize(join(dirname(f), m[1])));
    }
  }
  const html = readFileSync(join(web, 'index.html'), 'utf8');
  const entry = [...html.matchAll(/<script type="module" src="([^"]+)">/g)].map((m) => m[1]);
  if (entry.length !== 1 || entry[0] !== 'app.js') fail(`index.html's module script is ${entry.join(', ') || 'missing'}, not app.js`);
  const listed = [...html.matchAll(/<link rel="modulepreload" href="([^"]+)">/g)].map((m) => m[1]);
  const want = [...graph].filter((f) => f !== 'app.js');
  for (const f of want) if (!listed.includes(f)) fail(`index.html does not preload ${f} (imported from app.js on)`);
  for (const f of listed) if (!want.includes(f)) fail(`index.html preloads ${f}, which app.js does not import`);
  if (new Set(listed).size !== listed.length) fail('index.html preloads a module twice');
  console.log(`${want.length} modules under app.js, ${listed.length} preloaded`);
} else {
  fail('unknown mode ' + mode);
}
console.log(failed ? `0 passed, ${failed} failed` : '1 passed, 0 failed');
process.exit(failed ? 1 : 0);
