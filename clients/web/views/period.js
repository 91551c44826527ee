// period: the assessment's period picker, a month (default: the previous
// one, in Asia/Shanghai), as `from`/`to` days [from, to) for the ops, kept
// in the route's ?month= so a page can be linked and reloaded.
import { h } from '../dom.js';
import { register, t } from '../i18n.js';
import { go } from '../router.js';

register({
  zh: { 'period.month': '月份', 'period.show': '查看' },
  en: { 'period.month': 'month', 'period.show': 'show' },
});

// "2025-03" of the month before today in Shanghai.
export function previousMonth(now = new Date()) {
  const p = Object.fromEntries(new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit' })
    .formatToParts(now).map((x) => [x.type, x.value]));
  let y = Number(p.year);
  let m = Number(p.month) - 1;
  if (m === 0) { m = 12; y--; }
  return `${y}-${String(m).padStart(2, '0')}`;
}

// {month, from, to} of ?month= (or the default).
export function periodOf(query) {
  const q = query && query.get('month');
  const month = q && /^\d{4}-(0[1-9]|1[0-2])$/.test(q) ? q : previousMonth();
  const [y, m] = month.split('-').map(Number);
  const to = m === 12 ? `${y + 1}-01-01` : `${y}-${String(m + 1).padStart(2, '0')}-01`;
  return { month, from: month + '-01', to };
}

// The picker: a month input that goes to base?month=….
export function picker(base, period, id) {
  const input = h('input', { id, type: 'month', value: period.month, 'aria-label': t('period.month') });
  return h('form', { class: 'inline period', on: { submit: (e) => { e.preventDefault(); if (input.value) go('#' + base + '?month=' + input.value); } } },
    h('label', {}, t('period.month'), ' ', input), h('button', { type: 'submit' }, t('period.show')));
}
