// api: the wire protocol's ops through POST /api (docs/http.md), one request
// object per POST.  call(op, fields) resolves to the reply's result, or
// rejects with an ApiError carrying the code and a localized message.
import { register, t } from './i18n.js';

// A message in both languages for every error code of docs/protocol.md
// ("Error codes"), and for what happens before a reply
// (tests/unit/test_web.mjs checks that every code there is here).
export const errorStrings = {
  zh: {
    'error.bad_request': '请求有误：{detail}',
    'error.unauthenticated': '未认证：证书不对应可用账号，请检查浏览器证书',
    'error.forbidden': '无权执行此操作，或工单不在您的范围内',
    'error.not_found': '未找到：工单不存在或您无权查看',
    'error.bad_state': '工单当前状态不允许此操作，请刷新',
    'error.conflict': '此工单已被他人修改，请刷新',
    'error.too_large': '内容过大',
    'error.rate_limited': '请求过于频繁，请稍后再试',
    'error.unavailable': '服务暂不可用，请稍后重试',
    'error.internal': '服务器内部错误，已记录',
    'error.network': '无法连接服务器',
    'error.unknown': '错误：{detail}',
  },
  en: {
    'error.bad_request': 'bad request: {detail}',
    'error.unauthenticated': 'not authenticated: the certificate maps to no usable account; check the browser\'s certificate',
    'error.forbidden': 'not allowed, or the ticket is outside your scope',
    'error.not_found': 'not found: no such ticket, or not one you may see',
    'error.bad_state': 'the ticket\'s state does not allow this: reload',
    'error.conflict': 'someone changed this ticket: reload',
    'error.too_large': 'too large',
    'error.rate_limited': 'too many requests: try again in a moment',
    'error.unavailable': 'the service is unavailable: try again shortly',
    'error.internal': 'internal server error (logged)',
    'error.network': 'cannot reach the server',
    'error.unknown': 'error: {detail}',
  },
};

register(errorStrings);

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
