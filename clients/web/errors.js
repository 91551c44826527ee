// errors: a message in both languages for every error code of
// docs/protocol.md ("Error codes"), and for what happens before a reply
// (tests/unit/test_web.mjs checks that every code there is here).
import { register } from './i18n.js';

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
