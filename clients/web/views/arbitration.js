// The arbitration queue (#/arbitration): the `returns` op (returns no
// ruling has been given on, oldest first) with each return's reason, the
// department that returned it and the one it named; a ruling per
// docs/protocol.md's `arbitrate`: upheld, to the named department or
// another; rejected, back to the returner.  A return the street office has
// acted on since (not pending) is ruled on to record whether it counts only,
// so no department is offered.  Live: a return or a ruling anywhere, or an
// event of a ticket in the queue, reloads it.
import { call, callAll } from '../api.js';
import * as events from '../events.js';
import { h, replace } from '../dom.js';
import { nameOf, register, t, time } from '../i18n.js';
import { lists, name } from '../refdata.js';

register({
  zh: {
    'arb.nav': '仲裁', 'arb.none': '没有待仲裁的退单', 'arb.ticket': '工单', 'arb.by': '退单部门',
    'arb.named': '认为应由', 'arb.reason': '退单理由', 'arb.at': '退单时间', 'arb.pending': '等待裁定',
    'arb.moved': '街道已重新处理：裁定仅记录退单是否成立', 'arb.uphold': '支持退单，派往', 'arb.reject': '驳回，退回原部门',
    'arb.uphold_only': '支持退单', 'arb.note': '裁定说明', 'arb.done': '已裁定 #{id}', 'arb.count': '待仲裁 {n} 件',
  },
  en: {
    'arb.nav': 'Arbitration', 'arb.none': 'no return waits for a ruling', 'arb.ticket': 'ticket', 'arb.by': 'returned by',
    'arb.named': 'names as responsible', 'arb.reason': 'reason', 'arb.at': 'returned at', 'arb.pending': 'waiting for the ruling',
    'arb.moved': 'the street office acted since: the ruling only records whether the return counts', 'arb.uphold': 'uphold, send to', 'arb.reject': 'reject, back to the returner',
    'arb.uphold_only': 'uphold', 'arb.note': 'note on the ruling', 'arb.done': 'ruled on #{id}', 'arb.count': '{n} waiting',
  },
});

export default {
  id: 'arbitration',
  route: '/arbitration',
  render(root) {
    const msg = h('p', { id: 'arb-msg', class: 'msg', role: 'status' });
    const list = h('div', { id: 'arb-rows', class: 'cards' });
    const count = h('p', { id: 'arb-count', class: 'muted' });
    root.append(h('h1', {}, t('arb.title')), msg, count, list);
    let rows = [];
    let gone = false;
    let timer = null;

    async function rule(r, upheld, dept, note) {
      const f = { ticket: r.ticket.id, return_seq: r.seq, upheld, version: r.ticket.version };
      if (dept) f.department = dept;
      if (note) f.note = note;
      try {
        await call('arbitrate', f);
        msg.className = 'msg msg-ok'; msg.textContent = t('arb.done', { id: r.ticket.id }); delete msg.dataset.code;
        soon();
      } catch (e) {
        msg.className = 'msg msg-error'; msg.textContent = e.message; msg.dataset.code = e.code;
      }
    }

    function card(r) {
      const note = h('input', { class: 'arb-note', maxlength: '4000', placeholder: t('arb.note'), 'aria-label': t('arb.note') });
      let ruling;
      if (r.pending) {
        const dept = h('select', { class: 'arb-dept', 'aria-label': t('arb.uphold') },
          lists.departments.filter((d) => d.active && d.id !== r.returned_by).map((d) =>
            h('option', { value: String(d.id), selected: d.id === r.named }, nameOf(d))));
        ruling = [h('button', { type: 'button', class: 'uphold', on: { click: () => rule(r, true, Number(dept.value), note.value.trim()) } }, t('arb.uphold')), dept,
          h('button', { type: 'button', class: 'reject', on: { click: () => rule(r, false, null, note.value.trim()) } }, t('arb.reject'))];
      } else {
        ruling = [h('button', { type: 'button', class: 'uphold', on: { click: () => rule(r, true, null, note.value.trim()) } }, t('arb.uphold_only')),
          h('button', { type: 'button', class: 'reject', on: { click: () => rule(r, false, null, note.value.trim()) } }, t('arb.reject'))];
      }
      return h('article', { class: 'card', dataset: { seq: r.seq, ticket: r.ticket.id, version: r.ticket.version, pending: r.pending ? 1 : 0 } },
        h('p', {}, h('a', { href: '#/ticket/' + r.ticket.id }, t('arb.ticket') + ' #' + r.ticket.id), ' ',
          h('span', { class: 'user-text' }, r.ticket.description || ''), ' ',
          h('span', { class: 'muted' }, name('street', r.ticket.street_id))),
        h('dl', { class: 'fields' },
          h('dt', {}, t('arb.by')), h('dd', { class: 'arb-by' }, name('department', r.returned_by), r.actor ? ' · ' + nameOf(r.actor) : ''),
          h('dt', {}, t('arb.named')), h('dd', { class: 'arb-named' }, r.named ? name('department', r.named) : '—'),
          h('dt', {}, t('arb.reason')), h('dd', { class: 'user-text arb-reason' }, r.reason || ''),
          h('dt', {}, t('arb.at')), h('dd', {}, time(r.at))),
        h('p', { class: 'muted' }, r.pending ? t('arb.pending') : t('arb.moved')),
        h('p', { class: 'inline ruling' }, ruling, note));
    }

    async function load() {
      try {
        const got = await callAll('returns', { limit: 100 }, 'returns', 20);
        if (gone) return;
        rows = got;
        replace(list, rows.map(card));
        count.textContent = rows.length ? t('arb.count', { n: rows.length }) : t('arb.none');
      } catch (e) {
        msg.className = 'msg msg-error'; msg.textContent = e.message; msg.dataset.code = e.code;
      }
    }

    function soon() {
      clearTimeout(timer);
      timer = setTimeout(load, 300);
    }

    const off = [
      events.onEvent((ev) => {
        if (ev.action === 'return' || ev.action === 'arbitrate' || rows.some((r) => r.ticket.id === Number(ev.ticket_id))) soon();
      }),
      events.onResync(soon),
    ];
    load();
    return () => { gone = true; clearTimeout(timer); for (const f of off) f(); };
  },
};
