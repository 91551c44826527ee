// The monthly bulletin (#/bulletin?month=YYYY-MM): the `bulletin` op (通报)
// as tables: the departments' and the streets' headline figures, both
// rankings, and the steps that passed their deadline in the month.
import { call } from '../api.js';
import { h, replace } from '../dom.js';
import { nameOf, register, t, time } from '../i18n.js';
import { lists } from '../refdata.js';
import { rankingTable } from './assessment.js';
import { periodOf, picker } from './period.js';

register({
  zh: {
    'bul.depts': '部门', 'bul.streets': '街道', 'bul.dept_rank': '部门排名', 'bul.street_rank': '街道排名',
    'bul.overdue': '超时事项（{shown} / {count}）', 'bul.unit': '单位', 'bul.ticket': '工单', 'bul.kind': '环节', 'bul.deadline': '时限',
    'bul.ended': '完成', 'bul.late': '超时（小时）', 'bul.open': '未完成', 'bul.street': '街道', 'bul.dept': '部门',
    'bul.step.dispatch': '派单', 'bul.step.accept': '接单', 'bul.step.resolve': '处置', 'bul.step.feedback': '反馈',
    'fig.reported': '上报', 'fig.dispatched': '派单', 'fig.accepted': '接单', 'fig.resolved': '处置', 'fig.closed': '办结',
    'fig.confirmed': '确认办结', 'fig.no_feedback': '未评价办结', 'fig.cancelled': '撤销', 'fig.returned': '退单', 'fig.reopened': '重办',
    'fig.urged': '督办', 'fig.overdue_marks': '超时', 'fig.open_at_end': '期末在办', 'fig.overdue_at_end': '期末超时',
    'fig.dispatch_ontime_rate': '及时派单率', 'fig.response_rate': '响应率', 'fig.resolve_ontime_rate': '按期办结率',
    'fig.close_rate': '办结率', 'fig.close_ontime_rate': '按期结案率', 'fig.satisfaction_rate': '满意率',
    'fig.dissatisfaction_rate': '不满意率', 'fig.return_rate': '退单率', 'fig.reopen_rate': '重办率',
  },
  en: {
    'bul.depts': 'Departments', 'bul.streets': 'Streets', 'bul.dept_rank': 'Departments ranked', 'bul.street_rank': 'Streets ranked',
    'bul.overdue': 'Overdue steps ({shown} of {count})', 'bul.unit': 'unit', 'bul.ticket': 'ticket', 'bul.kind': 'step', 'bul.deadline': 'deadline',
    'bul.ended': 'ended', 'bul.late': 'late (hours)', 'bul.open': 'still open', 'bul.street': 'street', 'bul.dept': 'department',
    'bul.step.dispatch': 'dispatch', 'bul.step.accept': 'accept', 'bul.step.resolve': 'resolve', 'bul.step.feedback': 'feedback',
    'fig.reported': 'reported', 'fig.dispatched': 'dispatched', 'fig.accepted': 'accepted', 'fig.resolved': 'resolved', 'fig.closed': 'closed',
    'fig.confirmed': 'confirmed', 'fig.no_feedback': 'closed without feedback', 'fig.cancelled': 'cancelled', 'fig.returned': 'returned', 'fig.reopened': 'reopened',
    'fig.urged': 'urged', 'fig.overdue_marks': 'overdue', 'fig.open_at_end': 'open at the end', 'fig.overdue_at_end': 'overdue at the end',
    'fig.dispatch_ontime_rate': 'dispatched on time', 'fig.response_rate': 'accepted on time', 'fig.resolve_ontime_rate': 'resolved on time',
    'fig.close_rate': 'close rate', 'fig.close_ontime_rate': 'closed on time', 'fig.satisfaction_rate': 'satisfied',
    'fig.dissatisfaction_rate': 'dissatisfied', 'fig.return_rate': 'return rate', 'fig.reopen_rate': 'reopen rate',
  },
});

// The headline figures in the order of the 通报 (docs/assessment.md);
// a figure the server adds later comes after them, by its key.
const ORDER = ['reported', 'dispatched', 'accepted', 'resolved', 'closed', 'confirmed', 'no_feedback', 'cancelled',
  'returned', 'reopened', 'urged', 'overdue_marks', 'open_at_end', 'overdue_at_end', 'dispatch_ontime_rate',
  'response_rate', 'resolve_ontime_rate', 'close_rate', 'close_ontime_rate', 'satisfaction_rate',
  'dissatisfaction_rate', 'return_rate', 'reopen_rate'];

function cell(k, v) {
  if (v === null || v === undefined) return '—';
  if (/_rate$/.test(k) && typeof v === 'number') return (v * 100).toFixed(1) + '%';
  if (typeof v === 'number' && !Number.isInteger(v)) return v.toFixed(3);
  return String(v);
}

const label = (k) => (ORDER.includes(k) ? t('fig.' + k) : k);

// The stats rows' figures, one column per key the rows have.
function figures(rows, id) {
  const keys = ORDER.filter((k) => rows.some((r) => k in r));
  for (const r of rows) for (const k of Object.keys(r)) if (!['unit', 'from', 'to'].includes(k) && !keys.includes(k)) keys.push(k);
  return h('table', { id, class: 'tickets figures' },
    h('thead', {}, h('tr', {}, h('th', { class: 'unit' }, t('bul.unit')), keys.map((k) => h('th', { dataset: { key: k } }, label(k))))),
    h('tbody', {}, rows.map((r) => h('tr', { dataset: { unit: r.unit.code } }, h('th', { class: 'unit', scope: 'row' }, nameOf(r.unit)),
      keys.map((k) => h('td', { class: 'num', dataset: { key: k } }, cell(k, r[k])))))));
}

// A unit of an overdue item by its code, in the page's language.
function unitName(list, code, fallback) {
  const u = list.find((x) => x.code === code);
  return u ? nameOf(u) : (fallback || code || '');
}

export default {
  id: 'bulletin',
  route: '/bulletin',
  render(root, params) {
    const period = periodOf(params.query);
    const msg = h('p', { id: 'bul-msg', class: 'msg', role: 'status' });
    const body = h('div', { id: 'bulletin' });
    root.append(h('h1', {}, t('bul.title'), ' ', period.month), picker('/bulletin', period, 'bul-month'), msg, body);
    let gone = false;
    call('bulletin', { from: period.from, to: period.to }).then((b) => {
      if (gone) return;
      const o = b.overdue || { count: 0, shown: 0, tickets: [] };
      replace(body,
        h('h2', {}, t('bul.depts')), figures(b.departments, 'bul-depts'),
        h('h2', {}, t('bul.streets')), figures(b.streets, 'bul-streets'),
        h('h2', {}, t('bul.dept_rank')), rankingTable(b.department_ranking, 'bul-dept-ranking'),
        b.street_ranking ? [h('h2', {}, t('bul.street_rank')), rankingTable(b.street_ranking, 'bul-street-ranking')] : null,
        h('h2', {}, t('bul.overdue', { shown: o.shown, count: o.count })),
        h('table', { id: 'bul-overdue', class: 'tickets' },
          h('thead', {}, h('tr', {}, [t('bul.ticket'), t('bul.kind'), t('bul.street'), t('bul.dept'), t('bul.deadline'), t('bul.ended'), t('bul.late')].map((x) => h('th', {}, x)))),
          h('tbody', {}, o.tickets.map((x) => h('tr', {},
            h('td', {}, h('a', { href: '#/ticket/' + x.ticket }, '#' + x.ticket)), h('td', { dataset: { kind: x.kind } }, t('bul.step.' + x.kind)),
            h('td', {}, unitName(lists.streets, x.street, x.street_name)), h('td', {}, x.department ? unitName(lists.departments, x.department, x.department_name) : ''),
            h('td', {}, time(x.deadline)), h('td', {}, x.ended_at ? time(x.ended_at) : t('bul.open')),
            h('td', { class: 'num' }, (x.late_s / 3600).toFixed(1)))))));
      body.dataset.ready = '1';
    }).catch((e) => { msg.className = 'msg msg-error'; msg.textContent = e.message; msg.dataset.code = e.code || ''; });
    return () => { gone = true; };
  },
};
