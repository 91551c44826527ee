// format: times in Asia/Shanghai (the street offices' clock, whatever the
// browser's zone), states and actions in the current language.
import { lang, register, t } from './i18n.js';

register({
  zh: {
    'state.reported': '待派单', 'state.dispatched': '待接单', 'state.accepted': '处置中',
    'state.resolved': '待确认', 'state.closed': '已办结', 'state.cancelled': '已撤销',
    'action.report': '上报', 'action.dispatch': '派单', 'action.return': '退单',
    'action.accept': '接单', 'action.resolve': '处置完成', 'action.confirm': '确认办结',
    'action.reopen': '重新办理', 'action.cancel': '撤销', 'action.urge': '督办',
    'action.extend_request': '申请延期', 'action.extend_grant': '同意延期',
    'action.extend_deny': '驳回延期', 'action.comment': '备注', 'action.arbitrate': '仲裁',
    'action.overdue': '超时', 'action.auto_close': '自动办结',
    'role.collector': '网格员', 'role.street': '街道', 'role.department': '职能部门',
    'role.supervisor': '督查', 'role.admin': '管理员', 'role.system': '系统',
    'yes': '是', 'no': '否', 'daemon': '系统',
  },
  en: {
    'state.reported': 'reported', 'state.dispatched': 'dispatched', 'state.accepted': 'accepted',
    'state.resolved': 'resolved', 'state.closed': 'closed', 'state.cancelled': 'cancelled',
    'action.report': 'report', 'action.dispatch': 'dispatch', 'action.return': 'return',
    'action.accept': 'accept', 'action.resolve': 'resolve', 'action.confirm': 'confirm',
    'action.reopen': 'reopen', 'action.cancel': 'cancel', 'action.urge': 'urge',
    'action.extend_request': 'extension requested', 'action.extend_grant': 'extension granted',
    'action.extend_deny': 'extension denied', 'action.comment': 'comment', 'action.arbitrate': 'arbitration',
    'action.overdue': 'overdue', 'action.auto_close': 'closed automatically',
    'role.collector': 'collector', 'role.street': 'street office', 'role.department': 'department',
    'role.supervisor': 'supervisor', 'role.admin': 'admin', 'role.system': 'system',
    'yes': 'yes', 'no': 'no', 'daemon': 'system',
  },
});

const fmts = {};

// "2026-12-07 14:03" in Asia/Shanghai; '' for null.
export function time(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  const l = lang();
  if (!fmts[l]) {
    fmts[l] = new Intl.DateTimeFormat(l === 'zh' ? 'zh-CN' : 'en-GB', {
      timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit',
      hour: '2-digit', minute: '2-digit', hourCycle: 'h23',
    });
  }
  const p = Object.fromEntries(fmts[l].formatToParts(d).map((x) => [x.type, x.value]));
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}`;
}

export function stateName(s) { return t('state.' + s); }
export function actionName(a) { return t('action.' + a); }
export function roleName(r) { return t('role.' + r); }
