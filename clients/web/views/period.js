// period: the assessment's period picker, a month (default: the previous
// one, in Asia/Shanghai), as `from`/`to` days [from, to) for the ops, kept
// in the route's ?month= so a page can be linked and reloaded.
import { h } from '../dom.js';
import { lang, register, t } from '../i18n.js';
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

// The months the picker offers: the last three years to this month, newest
// first, and the one shown if it is older.
export function monthsUpTo(shown, now = new Date()) {
  const p = Object.fromEntries(new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit' })
    .formatToParts(now).map((x) => [x.type, x.value]));
  let y = Number(p.year);
  let m = Number(p.month);
  const out = [];
  for (let i = 0; i < 36; i++) {
    out.push(`${y}-${String(m).padStart(2, '0')}`);
    if (--m === 0) { m = 12; y--; }
  }
  if (shown && !out.includes(shown)) out.push(shown);
  return out;
}

// "2025年3月" or "March 2025": a month in the page's language, whatever the
// browser's (an <input type=month> draws itself in the browser's).
export function monthName(month) {
  const [y, m] = month.split('-').map(Number);
  return new Intl.DateTimeFormat(lang() === 'zh' ? 'zh-CN' : 'en', { year: 'numeric', month: 'long', timeZone: 'UTC' })
    .format(new Date(Date.UTC(y, m - 1, 1)));
}

// The picker: a list of months that goes to base?month=….
export function picker(base, period, id) {
  const select = h('select', { id, 'aria-label': t('period.month') },
    monthsUpTo(period.month).map((mo) => h('option', { value: mo, selected: mo === period.month }, monthName(mo))));
  return h('form', { class: 'inline period', on: { submit: (e) => { e.preventDefault(); go('#' + base + '?month=' + select.value); } } },
    h('label', {}, t('period.month'), ' ', select), h('button', { type: 'submit' }, t('period.show')));
}
