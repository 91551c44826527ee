// The web console's static checks (clients/web/), run by node:
//   size     the console's JS + CSS stay under 200 KiB uncompressed (issue 15)
//   sinks    no HTML sink anywhere (innerHTML, outerHTML, insertAdjacentHTML,
//            document.write, eval, new Function, string timers) and no inline
//            script, style or handler attribute in the pages: text goes in as
//            text (dom.js), the CSP forbids the rest
//   errors   every error code of docs/protocol.md has a zh and an en message
// Usage: node test_web.mjs MODE WEB_DIR PROTOCOL_MD
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
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
} else {
  fail('unknown mode ' + mode);
}
console.log(failed ? `0 passed, ${failed} failed` : '1 passed, 0 failed');
process.exit(failed ? 1 : 0);
