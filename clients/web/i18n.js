// i18n: zh-CN by default, English one click away; the choice is kept in
// localStorage.  Each module registers its own strings with
// register({zh: {...}, en: {...}}) so that no one dictionary is shared;
// t(key, vars) fills {name} placeholders from vars.  Times, states, actions
// and roles in the current language are here too (time, stateName, …).
const dict = { zh: {}, en: {} };
const STORE = 'streetd.lang';
let current = null;

export function register(strings) {
  for (const lang of ['zh', 'en']) {
    for (const [k, v] of Object.entries(strings[lang] || {})) {
      if (k in dict[lang] && dict[lang][k] !== v) throw new Error('i18n: ' + k + ' registered twice');
      dict[lang][k] = v;
    }
  }
}

export function lang() {
  if (current) return current;
  let saved = null;
  try { saved = globalThis.localStorage && localStorage.getItem(STORE); } catch (e) { saved = null; }
  current = saved === 'en' ? 'en' : 'zh';
  return current;
}

export function setLang(l) {
  current = l === 'en' ? 'en' : 'zh';
  try { localStorage.setItem(STORE, current); } catch (e) { /* private mode: this page only */ }
  if (globalThis.document) document.documentElement.lang = current === 'zh' ? 'zh-CN' : 'en';
}

export function has(key) {
  return key in dict[lang()] || key in dict.en;
}

export function t(key, vars) {
  const s = dict[lang()][key] ?? dict.en[key] ?? key;
  if (!vars) return s;
  return s.replace(/\{(\w+)\}/g, (m, name) => (name in vars ? String(vars[name]) : m));
}

// The strings of both languages (for the unit test).
export function strings() {
  return dict;
}

// An object's name in the current language (name / name_en).
export function nameOf(o) {
  if (!o) return '';
  return (lang() === 'en' && o.name_en) ? o.name_en : (o.name ?? o.code ?? String(o.id ?? ''));
}

// Times in Asia/Shanghai (the street offices' clock, whatever the
// browser's zone), states, actions and roles in the current language.
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
