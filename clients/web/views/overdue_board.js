// The overdue board (#/board): the `overdue` op, most overdue first, with
// counts per department and per street (a click filters by one), and urge
// from a row with the version shown.  Live: an event for a row on the board,
// or a deadline passing anywhere (`overdue`), reloads the loaded pages (once
// for a burst); a resync does too.  performance.mark('board-first-rows') is
// set when the first rows are drawn, 'board-data' when their answer came:
// bench/console.mjs reads them.
import { call } from '../api.js';
import * as events from '../events.js';
import { h, replace } from '../dom.js';
import { register, stateName, t, time } from '../i18n.js';
import { name } from '../refdata.js';

register({
  zh: {
    'board.nav': '超时', 'board.late': '超时', 'board.due': '时限', 'board.dept': '部门',
    'board.street': '街道', 'board.state': '状态', 'board.desc': '描述', 'board.urge': '督办', 'board.note': '督办说明',
    'board.urged': '已督办 #{id}', 'board.more': '加载更多', 'board.none': '没有超时工单', 'board.all': '全部',
    'board.by_dept': '按部门', 'board.by_street': '按街道', 'board.shown': '显示 {n} / 已加载 {m} 件',
    'board.minutes': '{m} 分钟', 'board.hours': '{h} 小时', 'board.days': '{d} 天 {h} 小时', 'board.none_dept': '（未派单）', 'board.id': '编号',
  },
  en: {
    'board.nav': 'Overdue', 'board.late': 'late by', 'board.due': 'deadline', 'board.dept': 'department',
    'board.street': 'street', 'board.state': 'state', 'board.desc': 'description', 'board.urge': 'urge', 'board.note': 'note for the urge',
    'board.urged': 'urged #{id}', 'board.more': 'load more', 'board.none': 'no overdue ticket', 'board.all': 'all',
    'board.by_dept': 'by department', 'board.by_street': 'by street', 'board.shown': '{n} shown of {m} loaded',
    'board.minutes': '{m} min', 'board.hours': '{h} h', 'board.days': '{d} d {h} h', 'board.none_dept': '(not dispatched)', 'board.id': 'no.',
  },
});

// the first page is registry.js's `first` for the board: app.js asks for it
// at page start, and this first call takes its answer (api.js)
const PAGE = 100;

export function lateBy(due) {
  const s = Math.max(0, (Date.now() - new Date(due).getTime()) / 1000);
  const hrs = Math.floor(s / 3600);
  // under an hour late: the minutes ("0 h" read as not late at all)
  if (hrs < 1) return t('board.minutes', { m: Math.floor(s / 60) });
  return hrs >= 24 ? t('board.days', { d: Math.floor(hrs / 24), h: hrs % 24 }) : t('board.hours', { h: hrs });
}

export default {
  id: 'board',
  route: '/board',
  render(root) {
    const msg = h('p', { id: 'board-msg', class: 'msg', role: 'status' });
    const groups = h('section', { id: 'board-groups', class: 'groups' });
    const tbody = h('tbody', { id: 'board-rows' });
    const more = h('button', { id: 'board-more', type: 'button', class: 'hidden', on: { click: () => load(false) } }, t('board.more'));
    const count = h('p', { id: 'board-count', class: 'muted' });
    root.append(h('h1', {}, t('board.title')), msg, groups,
      h('table', { class: 'tickets board' },
        h('thead', {}, h('tr', {}, [t('board.id'), t('board.late'), t('board.due'), t('board.state'), t('board.street'),
          t('board.dept'), t('board.desc'), ''].map((x) => h('th', {}, x)))), tbody),
      count, more);

    let tickets = [];
    let next = null;
    let gone = false;
    let marked = false;
    const filter = { dept: null, street: null };
    let timer = null;

    function show(kind, text) { msg.className = 'msg msg-' + kind; msg.textContent = text; }

    async function urge(tk, note) {
      try {
        await call('urge', { ticket: tk.id, version: tk.version, ...(note ? { note } : {}) });
        show('ok', t('board.urged', { id: tk.id }));
      } catch (e) {
        msg.className = 'msg msg-error'; msg.textContent = e.message; msg.dataset.code = e.code;
      }
    }

    function row(tk) {
      const note = h('input', { class: 'urge-note', maxlength: '4000', placeholder: t('board.note'), 'aria-label': t('board.note') });
      return h('tr', { dataset: { ticket: tk.id, version: tk.version, department: tk.department_id ?? 0, street: tk.street_id } },
        h('td', {}, h('a', { href: '#/ticket/' + tk.id }, '#' + tk.id)),
        h('td', { class: 'overdue late' }, lateBy(tk.due_at)),
        h('td', {}, time(tk.due_at)),
        h('td', {}, h('span', { class: 'badge state-' + tk.state }, stateName(tk.state))),
        h('td', {}, name('street', tk.street_id)),
        h('td', {}, tk.department_id ? name('department', tk.department_id) : t('board.none_dept')),
        h('td', { class: 'user-text desc' }, tk.description || ''),
        h('td', { class: 'inline' }, note, h('button', { type: 'button', class: 'urge', on: { click: () => urge(tk, note.value.trim()) } }, t('board.urge'))));
    }

    function groupList(label, key, kind, id) {
      const counts = new Map();
      for (const tk of tickets) counts.set(tk[key] ?? 0, (counts.get(tk[key] ?? 0) || 0) + 1);
      const items = [...counts].sort((a, b) => b[1] - a[1]);
      const btn = (v, text, n) => h('button', { type: 'button', class: ['chip', filter[kind] === v ? 'on' : ''], dataset: { [kind]: v ?? '' },
        on: { click: () => { filter[kind] = v; draw(); } } }, text, ' ', h('span', { class: 'n' }, String(n)));
      return h('div', { id, class: 'group' }, h('strong', {}, label), ' ',
        btn(null, t('board.all'), tickets.length),
        items.map(([v, n]) => btn(v, v ? name(kind === 'dept' ? 'department' : 'street', v) : t('board.none_dept'), n)));
    }

    function draw() {
      replace(groups, groupList(t('board.by_dept'), 'department_id', 'dept', 'board-by-dept'),
        groupList(t('board.by_street'), 'street_id', 'street', 'board-by-street'));
      const shown = tickets.filter((tk) => (filter.dept === null || (tk.department_id ?? 0) === filter.dept)
        && (filter.street === null || tk.street_id === filter.street));
      replace(tbody, shown.map(row));
      count.textContent = tickets.length ? t('board.shown', { n: shown.length, m: tickets.length }) : t('board.none');
      more.className = next === null ? 'hidden' : '';
      if (!marked) {
        marked = true;
        // after the browser has laid the rows out: the bench's "first meaningful paint"
        requestAnimationFrame(() => performance.mark('board-first-rows'));
      }
    }

    // fresh: the first page again, as many rows as were loaded (at most 200)
    async function load(fresh) {
      try {
        const f = { limit: fresh ? Math.min(Math.max(PAGE, tickets.length), 200) : PAGE };
        if (!fresh && next !== null) f.after = next;
        const r = await call('overdue', f);
        // the bench's split: waiting for the data, then drawing it
        if (!marked) performance.mark('board-data');
        if (gone) return;
        tickets = fresh ? r.tickets : tickets.concat(r.tickets);
        next = r.next ?? null;
        draw();
      } catch (e) {
        show('error', e.message);
      }
    }

    function soon() {
      clearTimeout(timer);
      timer = setTimeout(() => load(true), 300);
    }

    const off = [
      events.onEvent((ev) => {
        if (ev.action === 'overdue' || tickets.some((tk) => tk.id === Number(ev.ticket_id))) soon();
      }),
      events.onResync(soon),
    ];
    load(true);
    return () => { gone = true; clearTimeout(timer); for (const f of off) f(); };
  },
};
