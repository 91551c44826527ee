// api: the wire protocol's ops through POST /api (docs/http.md), one request
// object per POST.  call(op, fields) resolves to the reply's result, or
// rejects with an ApiError carrying the code and a localized message.
import { t } from './i18n.js';
import './errors.js';

let nextId = 1;

export class ApiError extends Error {
  constructor(code, detail) {
    const key = 'error.' + code;
    const msg = t(key, { detail: detail || '' });
    super(msg === key ? t('error.unknown', { detail: detail || code }) : msg);
    this.code = code;
    this.detail = detail || '';
  }
}

// The request on the wire: resolves to {status, reply} (reply: the parsed
// JSON, or null), rejects when nothing came back.
function send(op, fields) {
  const body = JSON.stringify({ ...(fields || {}), id: nextId++, op });
  return fetch('/api', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body,
    credentials: 'same-origin',
    cache: 'no-store',
  }).then((res) => res.json().then((reply) => ({ status: res.status, reply }), () => ({ status: res.status, reply: null })));
}

// Requests sent ahead: app.js at page start sends the first request of the
// screen the address names (registry.js `first`) while the screen's module
// is still on its way; the first call() with the same op and fields takes
// its answer.  dropEarly() forgets one not taken (the address changed, or
// the role has no such screen), so that no screen shows it stale later.
const ahead = new Map();
const aheadKey = (op, fields) => op + ' ' + JSON.stringify(fields || {});

export function early(op, fields) {
  const k = aheadKey(op, fields);
  if (!ahead.has(k)) {
    const p = send(op, fields);
    p.catch(() => {}); // reported by the call that takes it
    ahead.set(k, p);
  }
}

export function dropEarly() {
  ahead.clear();
}

export async function call(op, fields) {
  const k = aheadKey(op, fields);
  let sent = ahead.get(k);
  if (sent) ahead.delete(k);
  else sent = send(op, fields);
  let r;
  try {
    r = await sent;
  } catch (e) {
    throw new ApiError('network', String(e && e.message || e));
  }
  if (r.reply && r.reply.ok) return r.reply.result;
  if (!r.reply) throw new ApiError(r.status >= 500 ? 'unavailable' : 'internal', 'HTTP ' + r.status);
  const err = r.reply.error || {};
  throw new ApiError(err.code || 'internal', err.message || 'HTTP ' + r.status);
}

// Every page of a paged op: follows `next` through `after` until null.
export async function callAll(op, fields, key, maxPages = 50) {
  let after;
  const all = [];
  for (let i = 0; i < maxPages; i++) {
    const r = await call(op, after === undefined ? fields : { ...fields, after });
    all.push(...(r[key] || []));
    if (r.next === null || r.next === undefined) break;
    after = r.next;
  }
  return all;
}
