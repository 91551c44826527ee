// list (#/list?state=…&category=…): the `list` op's filters as a form, the
// tickets it returns (newest first, paged with `next`), each row a link to
// the ticket page.  Live: an event for a row in view updates its state,
// department and version; a ticket reported meanwhile shows a "new
// tickets" notice (whether it matches the filters is the server's call).
import { call } from '../api.js';
import * as events from '../events.js';
import { h, replace } from '../dom.js';
import { nameOf, register, stateName, t, time } from '../i18n.js';
import { lists, name } from '../refdata.js';
import { go } from '../router.js';

register({
  zh: {
    'list.nav': '查询', 'list.state': '状态', 'list.category': '类别', 'list.grid': '网格',
    'list.department': '部门', 'list.overdue': '仅超时', 'list.text': '关键词', 'list.from': '上报自', 'list.to': '上报至',
    'list.any': '全部', 'list.search': '查询', 'list.more': '下一页', 'list.none': '没有符合条件的工单',
    'list.id': '编号', 'list.description': '描述', 'list.created': '上报时间', 'list.due': '时限',
    'list.new': '有新上报的工单', 'list.refresh': '刷新', 'list.count': '共显示 {n} 件',
  },
  en: {
    'list.nav': 'Search', 'list.state': 'state', 'list.category': 'category', 'list.grid': 'grid',
    'list.department': 'department', 'list.overdue': 'overdue only', 'list.text': 'text', 'list.from': 'reported from', 'list.to': 'reported before',
    'list.any': 'any', 'list.search': 'search', 'list.more': 'next page', 'list.none': 'no ticket matches',
    'list.id': 'no.', 'list.description': 'description', 'list.created': 'reported', 'list.due': 'deadline',
    'list.new': 'new tickets were reported', 'list.refresh': 'refresh', 'list.count': '{n} shown',
  },
});

const STATES = ['reported', 'dispatched', 'accepted', 'resolved', 'closed', 'cancelled'];
const KEYS = ['state', 'category', 'grid', 'department', 'overdue', 'text', 'from', 'to'];

function select(id, value, options) {
  return h('select', { id: 'list-' + id, name: id },
    h('option', { value: '' }, t('list.any')),
    options.map(([v, label]) => h('option', { value: String(v), selected: String(v) === value }, label)));
}

// A day in the form is a day in Asia/Shanghai.
const dayStart = (d) => d + 'T00:00:00+08:00';

export default {
  id: 'list',
  route: '/list',
  render(root, params) {
    const q = params.query;
    const v = (k) => q.get(k) || '';
    const leafCats = lists.categories.filter((c) => !lists.categories.some((x) => x.parent_id === c.id));
    const form = h('form', { id: 'list-form', class: 'filters', on: { submit: (e) => { e.preventDefault(); submit(); } } },
      h('label', {}, t('list.state'), select('state', v('state'), STATES.map((s) => [s, stateName(s)]))),
      h('label', {}, t('list.category'), select('category', v('category'), leafCats.map((c) => [c.id, nameOf(c)]))),
      h('label', {}, t('list.grid'), select('grid', v('grid'), lists.grids.map((g) => [g.id, nameOf(g)]))),
      h('label', {}, t('list.department'), select('department', v('department'), lists.departments.map((d) => [d.id, nameOf(d)]))),
      h('label', {}, t('list.text'), h('input', { id: 'list-text', name: 'text', maxlength: '100', value: v('text') })),
      h('label', {}, t('list.from'), h('input', { id: 'list-from', name: 'from', type: 'date', value: v('from') })),
      h('label', {}, t('list.to'), h('input', { id: 'list-to', name: 'to', type: 'date', value: v('to') })),
      h('label', { class: 'check' }, h('input', { id: 'list-overdue', name: 'overdue', type: 'checkbox', checked: v('overdue') === '1' }), t('list.overdue')),
      h('button', { type: 'submit' }, t('list.search')));
    const notice = h('p', { id: 'list-notice', class: 'msg', role: 'status' });
    const tbody = h('tbody', { id: 'list-rows' });
    const table = h('table', { class: 'tickets' },
      h('thead', {}, h('tr', {}, [t('list.id'), t('list.state'), t('list.category'), t('list.grid'), t('list.department'),
        t('list.description'), t('list.created'), t('list.due')].map((x) => h('th', {}, x)))), tbody);
    const more = h('button', { id: 'list-more', type: 'button', class: 'hidden', on: { click: () => page() } }, t('list.more'));
    const count = h('p', { id: 'list-count', class: 'muted' });
    root.append(h('h1', {}, t('list.title')), form, notice, table, count, more);

    const rows = new Map();
    let next = null;
    let gone = false;

    function submit() {
      const p = new URLSearchParams();
      for (const k of KEYS) {
        const el = form.elements[k];
        if (!el) continue;
        if (el.type === 'checkbox') { if (el.checked) p.set(k, '1'); } else if (el.value) p.set(k, el.value);
      }
      go('#/list' + (p.toString() ? '?' + p.toString() : ''));
    }

    function fields() {
      const f = { limit: 50 };
      for (const k of ['state']) if (v(k)) f[k] = v(k);
      for (const k of ['category', 'grid', 'department']) if (v(k)) f[k] = Number(v(k));
      if (v('overdue') === '1') f.overdue = true;
      if (v('text')) f.text = v('text');
      if (v('from')) f.from = dayStart(v('from'));
      if (v('to')) f.to = dayStart(v('to'));
      return f;
    }

    function cells(tk) {
      return [
        h('td', {}, h('a', { href: '#/ticket/' + tk.id }, '#' + tk.id)),
        h('td', { class: 'state' }, h('span', { class: 'badge state-' + tk.state, dataset: { state: tk.state } }, stateName(tk.state))),
        h('td', {}, name('category', tk.category_id)),
        h('td', {}, name('grid', tk.grid_id)),
        h('td', { class: 'dept' }, name('department', tk.department_id)),
        h('td', { class: 'user-text desc' }, tk.description || ''),
        h('td', {}, time(tk.created_at)),
        h('td', { class: tk.overdue ? 'overdue' : '' }, time(tk.due_at)),
      ];
    }

    function addRow(tk) {
      const tr = h('tr', { dataset: { ticket: tk.id, version: tk.version } }, cells(tk));
      rows.set(tk.id, { tr, tk });
      tbody.append(tr);
    }

    async function page() {
      try {
        const r = await call('list', next === null ? fields() : { ...fields(), after: next });
        if (gone) return;
        for (const tk of r.tickets || []) if (!rows.has(tk.id)) addRow(tk);
        next = r.next ?? null;
        more.className = next === null ? 'hidden' : '';
        count.textContent = rows.size ? t('list.count', { n: rows.size }) : t('list.none');
      } catch (e) {
        notice.className = 'msg msg-error';
        notice.textContent = e.message;
      }
    }

    function reload() {
      rows.clear(); tbody.replaceChildren(); next = null;
      notice.className = 'msg'; notice.replaceChildren();
      return page();
    }

    const off = [
      events.onEvent((ev) => {
        const row = rows.get(Number(ev.ticket_id));
        if (row) {
          if (ev.version < row.tk.version) return; // seen already
          row.tk = { ...row.tk, state: ev.to_state || row.tk.state, version: ev.version,
            department_id: ev.department_id ?? row.tk.department_id,
            due_at: (ev.data && ev.data.due_at) || row.tk.due_at };
          row.tr.dataset.version = row.tk.version;
          row.tr.classList.add('changed');
          replace(row.tr, cells(row.tk));
        } else if (ev.action === 'report') {
          notice.className = 'msg msg-info';
          replace(notice, t('list.new'), ' ', h('button', { type: 'button', class: 'link', on: { click: reload } }, t('list.refresh')));
        }
      }),
      events.onResync(reload),
    ];
    page();
    return () => { gone = true; for (const f of off) f(); };
  },
};
