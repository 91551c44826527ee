// sections: what the role screens (street, department, collector) share.
// A board is a list of sections; each ticket sits in the first section
// whose match(ticket) holds, drawn as a card with the role's actions.
// Live: a pushed event re-reads its ticket (get, no events) and moves,
// redraws or drops its card; a resync reloads everything.  Also the small
// form parts the actions use (department picker, rating, a folding form).
import { call } from '../api.js';
import * as events from '../events.js';
import { h, replace } from '../dom.js';
import { nameOf, register, stateName, t, time } from '../i18n.js';
import { lists, name } from '../refdata.js';

register({
  zh: {
    'sec.empty': '暂无待办', 'sec.due': '时限', 'sec.created': '上报', 'sec.urgent': '紧急', 'sec.overdue': '已超时',
    'sec.send': '提交', 'sec.sent': '已提交', 'sec.pick': '请选择', 'sec.loading': '加载中…',
  },
  en: {
    'sec.empty': 'nothing waiting', 'sec.due': 'deadline', 'sec.created': 'reported', 'sec.urgent': 'urgent', 'sec.overdue': 'overdue',
    'sec.send': 'send', 'sec.sent': 'sent', 'sec.pick': 'choose', 'sec.loading': 'loading…',
  },
});

// A select of the active departments; value '' until one is chosen.
export function deptSelect(attrs, selected, exclude) {
  return h('select', attrs,
    h('option', { value: '' }, t('sec.pick')),
    lists.departments.filter((d) => d.active !== false && d.id !== exclude)
      .map((d) => h('option', { value: String(d.id), selected: d.id === selected }, nameOf(d))));
}

export function ratingSelect(attrs) {
  return h('select', attrs, [5, 4, 3, 2, 1].map((n) => h('option', { value: String(n) }, '★'.repeat(n) + ' ' + n)));
}

// A folding form: <details class=act-NAME><summary>label</summary><form>…
// submit(form) runs the action; errors show in the form, success closes it.
export function fold(cls, label, controls, submit) {
  const msg = h('p', { class: 'msg', role: 'alert' });
  const form = h('form', { class: 'act-form', on: { submit: async (e) => {
    e.preventDefault();
    const btn = form.querySelector('button[type="submit"]');
    btn.disabled = true;
    msg.className = 'msg'; msg.replaceChildren();
    try {
      await submit(form);
      det.open = false;
    } catch (err) {
      msg.className = 'msg msg-error'; msg.dataset.code = err.code || ''; msg.textContent = err.message;
    } finally { btn.disabled = false; }
  } } }, controls, h('button', { type: 'submit' }, t('sec.send')), msg);
  const det = h('details', { class: ['act', cls] }, h('summary', {}, label), form);
  return det;
}

export function field(label, control) {
  return h('label', { class: 'fld' }, h('span', {}, label), control);
}

// The card's common part: number, state, category, place, text, times.
export function summary(tk, extra) {
  return [
    h('p', { class: 'card-head' },
      h('a', { href: '#/ticket/' + tk.id }, '#' + tk.id), ' ',
      h('span', { class: 'badge state-' + tk.state, dataset: { state: tk.state } }, stateName(tk.state)),
      tk.urgent ? h('span', { class: 'badge urgent' }, t('sec.urgent')) : null,
      tk.overdue ? h('span', { class: 'badge overdue' }, t('sec.overdue')) : null,
      h('span', { class: 'muted' }, name('category', tk.category_id) + ' · ' + name('grid', tk.grid_id))),
    h('p', { class: 'user-text desc' }, tk.description || ''),
    tk.address ? h('p', { class: 'user-text muted' }, tk.address) : null,
    h('p', { class: 'muted times' }, t('sec.created') + ' ' + time(tk.created_at),
      tk.due_at ? ' · ' + t('sec.due') + ' ' + time(tk.due_at) : '', extra || null),
  ];
}

// board(root, {sections: [{id, title, match(tk), order?(a, b), empty?}], load:
// async () => tickets, card(tk, act) -> elements}).  act(op, fields) runs
// an op on the card's ticket with its version and redraws it from the
// reply.  empty: the i18n key shown while a section is empty (default
// "nothing waiting").  Returns {cleanup, reload, refresh(id)}.
export function board(root, spec) {
  // a failed read says so (the sections would look empty otherwise)
  const msg = h('p', { class: 'msg board-msg', role: 'alert' });
  root.append(msg);
  const secs = spec.sections.map((s) => {
    const ul = h('ul', { id: s.id, class: 'cards' });
    const count = h('span', { class: 'count' });
    // "loading" until the first read, then the section's empty text
    const empty = h('p', { class: 'muted empty' }, t('sec.loading'));
    root.append(h('section', { class: 'board-sec', dataset: { sec: s.id } }, h('h2', {}, t(s.title), ' ', count), ul, empty));
    return { ...s, ul, count, empty, emptyText: t(s.empty || 'sec.empty') };
  });
  const cards = new Map(); // id -> {li, tk, sec}
  let gone = false;
  let busy = Promise.resolve();

  function counts() {
    for (const s of secs) {
      const n = s.ul.children.length;
      s.count.textContent = n ? '(' + n + ')' : '';
      s.empty.className = n ? 'hidden' : 'muted empty';
      s.empty.textContent = s.emptyText;
    }
  }

  function drop(id) {
    const c = cards.get(id);
    if (c) { c.li.remove(); cards.delete(id); }
  }

  function place(tk) {
    const old = cards.get(tk.id);
    if (old && old.tk.version > tk.version) return; // an older read
    drop(tk.id);
    const s = secs.find((x) => x.match(tk));
    if (s) {
      const act = async (op, fields) => {
        const r = await call(op, { ticket: tk.id, version: tk.version, ...fields });
        if (r && r.ticket && !gone) { place(r.ticket); counts(); }
        return r;
      };
      const li = h('li', { class: 'card', dataset: { ticket: tk.id, state: tk.state, version: tk.version } },
        spec.card(tk, act, s.id));
      const order = s.order || ((a, b) => b.id - a.id);
      const after = [...cards.values()].filter((c) => c.sec === s && order(tk, c.tk) < 0)
        .sort((a, b) => order(a.tk, b.tk))[0];
      if (after) s.ul.insertBefore(li, after.li); else s.ul.append(li);
      cards.set(tk.id, { li, tk, sec: s });
    }
  }

  async function reload() {
    const tks = await spec.load();
    if (gone) return;
    for (const c of cards.values()) c.li.remove();
    cards.clear();
    for (const tk of tks) if (!cards.has(tk.id)) place(tk);
    counts();
  }

  async function refresh(id) {
    try {
      const r = await call('get', { ticket: id, after: 9007199254740991 });
      if (!gone) place(r.ticket);
    } catch (e) {
      if (e.code === 'not_found' || e.code === 'forbidden') drop(id); else throw e;
    }
    counts();
  }

  const fail = (e) => { if (!gone) { msg.className = 'msg msg-error board-msg'; msg.dataset.code = e.code || ''; msg.textContent = e.message; } };
  const ok = () => { msg.className = 'msg board-msg'; msg.replaceChildren(); };
  const queue = (fn) => { busy = busy.then(() => (gone ? null : fn())).then(ok, fail); return busy; };
  const off = [
    events.onEvent((ev) => {
      const c = cards.get(Number(ev.ticket_id));
      if (c && ev.version < c.tk.version) return;
      if (spec.wants && !c && !spec.wants(ev)) return;
      queue(() => refresh(Number(ev.ticket_id)));
    }),
    events.onResync(() => queue(reload)),
  ];
  queue(reload);
  return {
    reload: () => queue(reload),
    refresh: (id) => queue(() => refresh(id)),
    cards,
    cleanup() { gone = true; for (const f of off) f(); },
  };
}

// Seconds as "3 h 05 min" (zh: "3小时05分").
export function span(s) {
  const a = Math.abs(s);
  const hh = Math.floor(a / 3600);
  const mm = String(Math.floor((a % 3600) / 60)).padStart(2, '0');
  return t('sec.span', { h: hh, m: mm });
}
register({ zh: { 'sec.span': '{h}小时{m}分' }, en: { 'sec.span': '{h} h {m} min' } });
