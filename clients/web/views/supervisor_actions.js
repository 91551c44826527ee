// supervisor_actions: the supervisor's actions on the ticket page
// (views/ticket.js addTicketActions): urge a ticket still open, and rule on
// a pending extension.  The state machine (sql/migrations/002_rules.sql,
// docs/decisions.md) decides anyway: a refused action shows its code's
// message.  The other roles' actions are added by their own screens'
// modules (street.js, department.js, collector.js).
import { h } from '../dom.js';
import { register, t } from '../i18n.js';
import { field, fold } from './sections.js';
import { addTicketActions } from './ticket.js';

register({
  zh: { 'tact.urge': '督办', 'tact.note': '说明', 'tact.grant': '同意延期', 'tact.deny': '驳回延期' },
  en: { 'tact.urge': 'urge', 'tact.note': 'note', 'tact.grant': 'grant the extension', 'tact.deny': 'deny the extension' },
});

function noteAction(op, label, act) {
  const note = h('input', { class: 'note', maxlength: '4000' });
  return fold('act-' + op, label, field(t('tact.note'), note), () => act(op, note.value.trim() ? { note: note.value.trim() } : {}));
}

addTicketActions('supervisor', (tk, ctx, act) => {
  const out = [];
  if (['reported', 'dispatched', 'accepted', 'resolved'].includes(tk.state)) out.push(noteAction('urge', t('tact.urge'), act));
  if (tk.state === 'accepted' && tk.ext_until) {
    out.push(noteAction('extend_grant', t('tact.grant'), act), noteAction('extend_deny', t('tact.deny'), act));
  }
  return out;
});
