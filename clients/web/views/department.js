// department (#/department): the department's loop.  To accept (dispatched
// to it): accept, or return with a reason and the department it believes
// responsible; in progress (accepted): resolve with a note and photos, ask
// for an extension.  Both sections count their deadline down in working
// time (worktime.js over the calendar op; urgent tickets on the clock).
// Live (sections.js).
import { call, callAll } from '../api.js';
import { h } from '../dom.js';
import { register, t } from '../i18n.js';
import { photoPicker } from '../upload.js';
import * as wt from '../worktime.js';
import { board, deptSelect, field, fold, span, summary } from './sections.js';
import { addTicketActions } from './ticket.js';

register({
  zh: {
    'dept.accept_sec': '待接单', 'dept.progress': '处置中',
    'dept.accept': '接单', 'dept.return': '退单', 'dept.reason': '退单原因', 'dept.responsible': '应由哪个部门办理',
    'dept.resolve': '处置完成', 'dept.note': '处置说明', 'dept.ext': '申请延期', 'dept.until': '延期至', 'dept.ext_reason': '延期理由',
    'dept.left': '剩余 {s}（工作时间）', 'dept.left_urgent': '剩余 {s}', 'dept.late': '已超时 {s}（工作时间）', 'dept.late_urgent': '已超时 {s}',
    'dept.ext_pending': '延期申请待批：', 'dept.bad_until': '请填写延期时间',
  },
  en: {
    'dept.accept_sec': 'To accept', 'dept.progress': 'In progress',
    'dept.accept': 'accept', 'dept.return': 'return', 'dept.reason': 'reason for returning', 'dept.responsible': 'department responsible',
    'dept.resolve': 'resolve', 'dept.note': 'what was done', 'dept.ext': 'ask for an extension', 'dept.until': 'until', 'dept.ext_reason': 'reason',
    'dept.left': '{s} left (working time)', 'dept.left_urgent': '{s} left', 'dept.late': 'overdue by {s} (working time)', 'dept.late_urgent': 'overdue by {s}',
    'dept.ext_pending': 'extension asked: ', 'dept.bad_until': 'give the new deadline',
  },
});

const DAY = 86400000;
const day = (ms) => new Date(ms + 8 * 3600000).toISOString().slice(0, 10); // Asia/Shanghai

// The calendar, fetched once and again when a deadline lies outside it
// (at most 1800 days either way of today: past that, days count as plain).
let cal = null;
let calPending = null;
async function calendarFor(dues) {
  const now = Date.now();
  const t = dues.map((d) => new Date(d).getTime()).filter((x) => !Number.isNaN(x));
  const lo = Math.max(Math.min(now - 30 * DAY, ...t), now - 1800 * DAY);
  const hi = Math.min(Math.max(now + 30 * DAY, ...t) + 2 * DAY, now + 1800 * DAY);
  if (cal && wt.covers(cal, lo, hi)) return cal;
  if (!calPending) {
    calPending = call('calendar', { from: day(lo), to: day(hi + DAY) }).then((r) => { cal = wt.fromReply(r); return cal; })
      .finally(() => { calPending = null; });
  }
  return calPending;
}

// A deadline counting down: data-due, data-urgent; tick() redraws.
function countdown(tk) {
  return h('span', { class: 'countdown', dataset: { due: tk.due_at, urgent: tk.urgent ? '1' : '0' } });
}

function tick(root) {
  const els = [...root.querySelectorAll('.countdown')];
  if (!els.length) return;
  calendarFor(els.map((e) => e.dataset.due)).then((c) => {
    const now = Date.now();
    for (const el of els) {
      const urgent = el.dataset.urgent === '1';
      const s = wt.left(c, el.dataset.due, now, urgent);
      el.dataset.left = String(s);
      el.className = 'countdown' + (s < 0 ? ' late' : s < 3600 ? ' soon' : '');
      el.textContent = t((s < 0 ? 'dept.late' : 'dept.left') + (urgent ? '_urgent' : ''), { s: span(s) });
    }
  }).catch(() => {});
}

// The department's actions on tk (cards and ticket page).
export function departmentActions(tk, act, ctx) {
  const out = [];
  if (tk.state === 'dispatched') {
    const accept = h('button', { type: 'button', class: 'primary act-accept' }, t('dept.accept'));
    const msg = h('span', { class: 'msg', role: 'alert' });
    accept.addEventListener('click', async () => {
      accept.disabled = true;
      try { await act('accept', {}); } catch (e) { msg.className = 'msg msg-error'; msg.dataset.code = e.code; msg.textContent = e.message; accept.disabled = false; }
    });
    const reason = h('input', { class: 'reason', maxlength: '4000', required: true });
    const dept = deptSelect({ class: 'dept-responsible', required: true }, null, ctx.me.department_id);
    out.push(accept, msg, fold('act-return', t('dept.return'), [field(t('dept.reason'), reason), field(t('dept.responsible'), dept)],
      () => act('return', { reason: reason.value.trim(), department: Number(dept.value) })));
  }
  if (tk.state === 'accepted') {
    const note = h('textarea', { class: 'note', rows: '2', maxlength: '4000', required: true });
    const picker = photoPicker('resolve-photos-' + tk.id);
    out.push(fold('act-resolve', t('dept.resolve'), [field(t('dept.note'), note), picker.el], async () => {
      const photos = await picker.ids();
      await act('resolve', { note: note.value.trim(), ...(photos.length ? { photos } : {}) });
    }));
    if (tk.ext_until) {
      out.push(h('p', { class: 'ext' }, t('dept.ext_pending'), h('span', { class: 'user-text' }, tk.ext_reason || '')));
    } else {
      const until = h('input', { class: 'until', type: 'datetime-local', required: true });
      const reason = h('input', { class: 'reason', maxlength: '4000', required: true });
      out.push(fold('act-extend', t('dept.ext'), [field(t('dept.until'), until), field(t('dept.ext_reason'), reason)], () => {
        if (!until.value) throw new Error(t('dept.bad_until'));
        // the picker's local time is Asia/Shanghai's (the street offices' clock)
        const u = until.value.length === 16 ? until.value + ':00+08:00' : until.value + '+08:00';
        return act('extend_request', { until: u, reason: reason.value.trim() });
      }));
    }
  }
  return out;
}

addTicketActions('department', (tk, ctx, act) => departmentActions(tk, act, ctx));

export default {
  id: 'department',
  route: '/department',
  render(root, params, ctx) {
    root.append(h('h1', {}, t('dept.title')));
    const b = board(root, {
      sections: [
        { id: 'dept-accept', title: 'dept.accept_sec', match: (tk) => tk.state === 'dispatched' },
        { id: 'dept-progress', title: 'dept.progress', match: (tk) => tk.state === 'accepted',
          order: (a, x) => new Date(a.due_at || 0) - new Date(x.due_at || 0) || a.id - x.id },
      ],
      async load() {
        const [d, a] = await Promise.all([callAll('list', { state: 'dispatched', limit: 200 }, 'tickets', 10),
          callAll('list', { state: 'accepted', limit: 200 }, 'tickets', 10)]);
        return [...d, ...a];
      },
      card: (tk, act) => {
        const els = [summary(tk, tk.due_at ? [' · ', countdown(tk)] : null),
          h('div', { class: 'card-body' }, departmentActions(tk, act, ctx))];
        setTimeout(() => tick(root), 0);
        return els;
      },
    });
    const timer = setInterval(() => tick(root), 1000);
    return () => { clearInterval(timer); b.cleanup(); };
  },
};
