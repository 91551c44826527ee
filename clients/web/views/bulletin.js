// The monthly bulletin (#/bulletin?month=YYYY-MM): the `bulletin` op (通报)
// as tables: the departments' and the streets' headline figures, both
// rankings, and the steps that passed their deadline in the month.
import { call } from '../api.js';
import { h, replace } from '../dom.js';
import { nameOf, register, t } from '../i18n.js';
import { time } from '../format.js';
import { rankingTable } from './assessment.js';
import { periodOf, picker } from './period.js';

register({
  zh: {
    'bul.title': '月度通报', 'bul.depts': '部门', 'bul.streets': '街道', 'bul.dept_rank': '部门排名', 'bul.street_rank': '街道排名',
    'bul.overdue': '超时事项（{shown} / {count}）', 'bul.unit': '单位', 'bul.ticket': '工单', 'bul.kind': '环节', 'bul.deadline': '时限',
    'bul.ended': '完成', 'bul.late': '超时（小时）', 'bul.open': '未完成',
  },
  en: {
    'bul.title': 'Monthly bulletin', 'bul.depts': 'Departments', 'bul.streets': 'Streets', 'bul.dept_rank': 'Departments ranked', 'bul.street_rank': 'Streets ranked',
    'bul.overdue': 'Overdue steps ({shown} of {count})', 'bul.unit': 'unit', 'bul.ticket': 'ticket', 'bul.kind': 'step', 'bul.deadline': 'deadline',
    'bul.ended': 'ended', 'bul.late': 'late (hours)', 'bul.open': 'still open',
  },
});

function cell(v) {
  if (v === null || v === undefined) return '—';
  if (typeof v === 'number' && !Number.isInteger(v)) return v.toFixed(3);
  return String(v);
}

// The stats rows' figures, one column per key the rows have.
function figures(rows, id) {
  const keys = [];
  for (const r of rows) for (const k of Object.keys(r)) if (!['unit', 'from', 'to'].includes(k) && !keys.includes(k)) keys.push(k);
  return h('table', { id, class: 'tickets figures' },
    h('thead', {}, h('tr', {}, h('th', {}, t('bul.unit')), keys.map((k) => h('th', { dataset: { key: k } }, k)))),
    h('tbody', {}, rows.map((r) => h('tr', { dataset: { unit: r.unit.code } }, h('td', {}, nameOf(r.unit)),
      keys.map((k) => h('td', { class: 'num', dataset: { key: k } }, cell(r[k])))))));
}

export default {
  id: 'bulletin',
  route: '/bulletin',
  title: 'bul.title',
  roles: ['supervisor'],
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
          h('thead', {}, h('tr', {}, [t('bul.ticket'), t('bul.kind'), t('bul.streets'), t('bul.depts'), t('bul.deadline'), t('bul.ended'), t('bul.late')].map((x) => h('th', {}, x)))),
          h('tbody', {}, o.tickets.map((x) => h('tr', {},
            h('td', {}, h('a', { href: '#/ticket/' + x.ticket }, '#' + x.ticket)), h('td', {}, x.kind),
            h('td', {}, x.street_name || x.street || ''), h('td', {}, x.department_name || x.department || ''),
            h('td', {}, time(x.deadline)), h('td', {}, x.ended_at ? time(x.ended_at) : t('bul.open')),
            h('td', { class: 'num' }, (x.late_s / 3600).toFixed(1)))))));
      body.dataset.ready = '1';
    }).catch((e) => { msg.className = 'msg msg-error'; msg.textContent = e.message; msg.dataset.code = e.code || ''; });
    return () => { gone = true; };
  },
};
