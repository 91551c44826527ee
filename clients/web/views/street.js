// street (#/street): the street office's loop.  Its overdue items first
// (op overdue), then the inbox of new reports with the routed department
// proposed (op route, per card) and a one-click dispatch to it or another
// department; returns waiting for re-dispatch (reported again: the
// return's reason and the department it named, proposed); tickets waiting
// for feedback (confirm with a rating, or reopen).  Live (sections.js).
// A report taken by the office (a phone call, a visit) goes in through the
// collector's form (reportForm), folded away until opened.
import { call, callAll } from '../api.js';
import { h, replace } from '../dom.js';
import { nameOf, register, t, time } from '../i18n.js';
import { name } from '../refdata.js';
import { reportForm } from './collector.js';
import { board, deptSelect, field, fold, ratingSelect, summary } from './sections.js';
import { addTicketActions } from './ticket.js';

register({
  zh: {
    'street.nav': '工作台',
    'street.overdue': '本街道超时事项', 'street.inbox': '待派单', 'street.returns': '退回待重派', 'street.feedback': '待反馈确认',
    'street.proposed': '建议派往：{d}', 'street.noroute': '无派单规则，请选择部门', 'street.dispatch_to': '派往 {d}',
    'street.override': '改派其他部门', 'street.dept': '部门', 'street.returned': '{d} 退回：', 'street.named': '退单部门认为应由 {d} 办理',
    'street.confirm': '确认办结', 'street.rating': '评分', 'street.comment': '评语', 'street.reopen': '重新办理', 'street.reason': '原因',
    'street.report': '代为上报问题', 'street.urge': '督办', 'street.note': '说明', 'street.ext': '延期申请至 {u}：', 'street.grant': '同意延期', 'street.deny': '驳回延期',
    'street.cancel': '撤销', 'street.dup': '重复工单号（可选）',
  },
  en: {
    'street.nav': 'Desk',
    'street.overdue': 'Overdue in this street', 'street.inbox': 'To dispatch', 'street.returns': 'Returned, to dispatch again', 'street.feedback': 'Waiting for feedback',
    'street.proposed': 'proposed: {d}', 'street.noroute': 'no routing rule: choose a department', 'street.dispatch_to': 'dispatch to {d}',
    'street.override': 'dispatch elsewhere', 'street.dept': 'department', 'street.returned': 'returned by {d}: ', 'street.named': 'the returner names {d} as responsible',
    'street.confirm': 'confirm', 'street.rating': 'rating', 'street.comment': 'comment', 'street.reopen': 'reopen', 'street.reason': 'reason',
    'street.report': 'Report a problem for someone', 'street.urge': 'urge', 'street.note': 'note', 'street.ext': 'extension asked until {u}: ', 'street.grant': 'grant', 'street.deny': 'deny',
    'street.cancel': 'cancel', 'street.dup': 'duplicate of ticket no. (optional)',
  },
});

const OPEN = ['reported', 'dispatched', 'accepted', 'resolved'];
const isOverdue = (tk) => OPEN.includes(tk.state) && (tk.overdue || (tk.due_at && new Date(tk.due_at) < new Date()));
// reported is entered by a report (version 1) or a return: later versions came back
const isReturned = (tk) => tk.state === 'reported' && tk.version > 1;
const byDue = (a, b) => new Date(a.due_at || 0) - new Date(b.due_at || 0) || a.id - b.id;

// The last return event of a ticket (its reason and named department).
async function lastReturn(id) {
  let after = 0;
  let found = null;
  for (let i = 0; i < 50; i++) {
    const r = await call('get', { ticket: id, after });
    for (const ev of r.events || []) if (ev.action === 'return') found = ev;
    if (r.next === null || r.next === undefined) break;
    after = r.next;
  }
  return found;
}

// The dispatch part of a reported ticket's card.
function dispatchPart(tk, act) {
  const line = h('p', { class: 'proposal muted' }, '…');
  const quick = h('button', { type: 'button', class: 'primary dispatch-proposed', disabled: true });
  const reason = h('p', { class: 'return-reason' });
  let proposed = null;
  const go = async (dept) => {
    quick.disabled = true;
    try { await act('dispatch', dept ? { department: dept } : {}); } catch (e) {
      line.className = 'proposal msg msg-error'; line.dataset.code = e.code; line.textContent = e.message; quick.disabled = false;
    }
  };
  quick.addEventListener('click', () => go(proposed));
  const sel = deptSelect({ class: 'dept-override', 'aria-label': t('street.dept') }, null, null);
  const override = fold('act-override', t('street.override'), field(t('street.dept'), sel), async () => {
    if (!sel.value) throw new Error(t('sec.pick'));
    await act('dispatch', { department: Number(sel.value) });
  });
  (async () => {
    if (isReturned(tk)) {
      const ev = await lastReturn(tk.id);
      if (ev) {
        const d = ev.data || {};
        replace(reason, t('street.returned', { d: name('department', ev.department_id) }),
          h('span', { class: 'user-text' }, d.reason || ''));
        if (d.department_id) proposed = Number(d.department_id);
        reason.dataset.named = String(d.department_id || '');
        replace(line, t('street.named', { d: name('department', d.department_id) }));
      }
    }
    if (proposed === null) {
      const r = await call('route', { ticket: tk.id });
      if (r.department) proposed = r.department.id;
      line.textContent = r.department ? t('street.proposed', { d: nameOf(r.department) }) : t('street.noroute');
    }
    if (proposed !== null) {
      line.dataset.proposed = String(proposed);
      quick.textContent = t('street.dispatch_to', { d: name('department', proposed) });
      quick.disabled = false;
    } else quick.className = 'hidden';
  })().catch((e) => { line.className = 'proposal msg msg-error'; line.textContent = e.message; });
  return [reason, line, h('div', { class: 'card-actions' }, quick, override)];
}

// The street's actions on a ticket in state tk.state (cards and ticket page).
export function streetActions(tk, act) {
  const out = [];
  if (tk.state === 'reported') out.push(...dispatchPart(tk, act));
  if (tk.state === 'resolved') {
    const rating = ratingSelect({ class: 'rating' });
    const comment = h('input', { class: 'comment', maxlength: '4000' });
    out.push(fold('act-confirm', t('street.confirm'), [field(t('street.rating'), rating), field(t('street.comment'), comment)],
      () => act('confirm', { rating: Number(rating.value), ...(comment.value.trim() ? { comment: comment.value.trim() } : {}) })));
    const reason = h('input', { class: 'reason', maxlength: '4000', required: true });
    out.push(fold('act-reopen', t('street.reopen'), field(t('street.reason'), reason), () => act('reopen', { reason: reason.value.trim() })));
  }
  if (tk.state === 'dispatched' || tk.state === 'accepted') {
    const note = h('input', { class: 'note', maxlength: '4000' });
    out.push(fold('act-urge', t('street.urge'), field(t('street.note'), note),
      () => act('urge', note.value.trim() ? { note: note.value.trim() } : {})));
  }
  if (tk.state === 'accepted' && tk.ext_until) {
    out.push(h('p', { class: 'ext' }, t('street.ext', { u: time(tk.ext_until) }), h('span', { class: 'user-text' }, tk.ext_reason || '')));
    for (const op of ['extend_grant', 'extend_deny']) {
      const note = h('input', { class: 'note', maxlength: '4000' });
      out.push(fold('act-' + op, t(op === 'extend_grant' ? 'street.grant' : 'street.deny'), field(t('street.note'), note),
        () => act(op, note.value.trim() ? { note: note.value.trim() } : {})));
    }
  }
  return out;
}

// On the ticket page: the same, and a report cancelled (e.g. as a duplicate).
addTicketActions('street', (tk, ctx, act) => {
  const out = streetActions(tk, act);
  if (tk.state === 'reported') {
    const reason = h('input', { class: 'reason', maxlength: '4000' });
    const dup = h('input', { class: 'dup', type: 'number', min: '1' });
    out.push(fold('act-cancel', t('street.cancel'), [field(t('street.reason'), reason), field(t('street.dup'), dup)],
      () => act('cancel', { ...(reason.value.trim() ? { reason: reason.value.trim() } : {}), ...(dup.value ? { duplicate_of: Number(dup.value) } : {}) })));
  }
  return out;
});

export default {
  id: 'street',
  route: '/street',
  render(root, params, ctx) {
    // built on first opening: the map needs a visible box to fit its grids
    let form = null;
    const rep = h('details', { id: 'street-report', class: 'act report-fold' }, h('summary', {}, t('street.report')));
    rep.addEventListener('toggle', () => { if (rep.open && !form) { form = reportForm(ctx); rep.append(form.el); } });
    root.append(h('h1', {}, t('street.title')), rep);
    const b = board(root, {
      sections: [
        { id: 'street-overdue', title: 'street.overdue', match: isOverdue, order: byDue },
        { id: 'street-returns', title: 'street.returns', match: isReturned, order: byDue },
        { id: 'street-inbox', title: 'street.inbox', match: (tk) => tk.state === 'reported', order: byDue },
        { id: 'street-feedback', title: 'street.feedback', match: (tk) => tk.state === 'resolved', order: byDue },
      ],
      async load() {
        const [od, rep, res] = await Promise.all([
          callAll('overdue', { limit: 200 }, 'tickets', 5),
          callAll('list', { state: 'reported', limit: 200 }, 'tickets', 10),
          callAll('list', { state: 'resolved', limit: 200 }, 'tickets', 10),
        ]);
        return [...od, ...rep, ...res];
      },
      card: (tk, act) => [summary(tk), h('div', { class: 'card-body' }, streetActions(tk, act))],
    });
    return () => { b.cleanup(); if (form) form.remove(); };
  },
};
