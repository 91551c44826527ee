// ticket_actions: the role actions under a ticket's fields (views/ticket.js
// addTicketActions), those the state machine (sql/migrations/002_rules.sql,
// docs/decisions.md) lets the viewer's role take in the ticket's state.
// The server decides anyway: a refused action shows its code's message.
// Comments are the ticket page's own form (everyone).
import { h } from '../dom.js';
import { register, t } from '../i18n.js';
import { reporterActions } from './collector.js';
import { departmentActions } from './department.js';
import { field, fold } from './sections.js';
import { streetActions } from './street.js';
import { addTicketActions } from './ticket.js';

register({
  zh: { 'tact.cancel': '撤销', 'tact.reason': '原因', 'tact.dup': '重复工单号（可选）', 'tact.urge': '督办', 'tact.note': '说明',
    'tact.grant': '同意延期', 'tact.deny': '驳回延期' },
  en: { 'tact.cancel': 'cancel', 'tact.reason': 'reason', 'tact.dup': 'duplicate of ticket no. (optional)', 'tact.urge': 'urge', 'tact.note': 'note',
    'tact.grant': 'grant the extension', 'tact.deny': 'deny the extension' },
});

function noteAction(op, label, act) {
  const note = h('input', { class: 'note', maxlength: '4000' });
  return fold('act-' + op, label, field(t('tact.note'), note), () => act(op, note.value.trim() ? { note: note.value.trim() } : {}));
}

addTicketActions((tk, ctx, act) => {
  const role = ctx.me.role;
  const out = [];
  if (role === 'street') {
    out.push(...streetActions(tk, act));
    if (tk.state === 'reported') {
      const reason = h('input', { class: 'reason', maxlength: '4000' });
      const dup = h('input', { class: 'dup', type: 'number', min: '1' });
      out.push(fold('act-cancel', t('tact.cancel'), [field(t('tact.reason'), reason), field(t('tact.dup'), dup)],
        () => act('cancel', { ...(reason.value.trim() ? { reason: reason.value.trim() } : {}), ...(dup.value ? { duplicate_of: Number(dup.value) } : {}) })));
    }
  } else if (role === 'department') {
    out.push(...departmentActions(tk, act, ctx));
  } else if (role === 'collector') {
    if (tk.reporter_id === ctx.me.id) out.push(...reporterActions(tk, act));
  } else if (role === 'supervisor') {
    if (['reported', 'dispatched', 'accepted', 'resolved'].includes(tk.state)) out.push(noteAction('urge', t('tact.urge'), act));
    if (tk.state === 'accepted' && tk.ext_until) {
      out.push(noteAction('extend_grant', t('tact.grant'), act), noteAction('extend_deny', t('tact.deny'), act));
    }
  }
  return out;
});
