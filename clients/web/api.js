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

export async function call(op, fields) {
  const body = JSON.stringify({ ...(fields || {}), id: nextId++, op });
  let res;
  try {
    res = await fetch('/api', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body,
      credentials: 'same-origin',
      cache: 'no-store',
    });
  } catch (e) {
    throw new ApiError('network', String(e && e.message || e));
  }
  let reply = null;
  try {
    reply = await res.json();
  } catch (e) {
    throw new ApiError(res.status >= 500 ? 'unavailable' : 'internal', 'HTTP ' + res.status);
  }
  if (reply && reply.ok) return reply.result;
  const err = (reply && reply.error) || {};
  throw new ApiError(err.code || 'internal', err.message || 'HTTP ' + res.status);
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
