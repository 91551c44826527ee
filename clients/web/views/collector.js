// collector (#/collector): report a problem (category, grid from the
// account's grids, description, address, photos) and my reports, newest
// first, live; a resolved one is confirmed with a rating (1–5) and a
// comment, or reopened with a reason.  The grid is picked from the list or
// on the map (gridPicker: only the account's grids are drawn, so only they
// can be picked); each follows the other.  The street office reports with
// the same form (reportForm) for the grids of its street.
import { call, callAll } from '../api.js';
import { h, replace } from '../dom.js';
import { nameOf, register, t } from '../i18n.js';
import { gridPicker } from '../gridmap.js';
import { boundaries, lists } from '../refdata.js';
import { photoPicker } from '../upload.js';
import { board, field, fold, ratingSelect, summary } from './sections.js';
import { addTicketActions } from './ticket.js';

register({
  zh: {
    'coll.report': '上报问题', 'coll.category': '类别', 'coll.grid': '网格',
    'coll.description': '问题描述', 'coll.address': '地址', 'coll.submit': '上报', 'coll.reported': '已上报：工单 #{id}',
    'coll.mine': '我的上报', 'coll.feedback': '待我确认', 'coll.confirm': '确认办结', 'coll.rating': '评分', 'coll.comment': '评语',
    'coll.reopen': '重新办理', 'coll.reason': '原因', 'coll.need': '请填写类别、网格和问题描述',
    'coll.none': '您还没有上报过问题', 'coll.nofeedback': '没有待您确认的工单', 'coll.map': '在地图上点选网格', 'coll.nogrids': '此账号没有可上报的网格，请联系管理员',
  },
  en: {
    'coll.report': 'Report a problem', 'coll.category': 'category', 'coll.grid': 'grid',
    'coll.description': 'description', 'coll.address': 'address', 'coll.submit': 'report', 'coll.reported': 'reported: ticket #{id}',
    'coll.mine': 'My reports', 'coll.feedback': 'Waiting for my confirmation', 'coll.confirm': 'confirm', 'coll.rating': 'rating', 'coll.comment': 'comment',
    'coll.reopen': 'reopen', 'coll.reason': 'reason', 'coll.need': 'give the category, the grid and a description',
    'coll.none': 'you have reported nothing yet', 'coll.nofeedback': 'nothing waits for your confirmation', 'coll.map': 'or pick the grid on the map', 'coll.nogrids': 'this account has no grid to report in: ask the administrator',
  },
});

// The reporter's actions on a resolved ticket (cards and ticket page).
export function reporterActions(tk, act) {
  if (tk.state !== 'resolved') return [];
  const rating = ratingSelect({ class: 'rating' });
  const comment = h('input', { class: 'comment', maxlength: '4000' });
  const reason = h('input', { class: 'reason', maxlength: '4000', required: true });
  return [
    fold('act-confirm', t('coll.confirm'), [field(t('coll.rating'), rating), field(t('coll.comment'), comment)],
      () => act('confirm', { rating: Number(rating.value), ...(comment.value.trim() ? { comment: comment.value.trim() } : {}) })),
    fold('act-reopen', t('coll.reopen'), field(t('coll.reason'), reason), () => act('reopen', { reason: reason.value.trim() })),
  ];
}

// The map next to the grid select: drawn once the grids' boundaries (asked
// only when a map opens: refdata.boundaries) and Leaflet are loaded; a pick
// sets the select, a change of the select highlights the grid.  Returns
// {el, remove()}; without a grid that has a boundary, no map.
function mapPicker(grids, select) {
  const el = h('div', { id: 'report-map', class: 'mapbox mapbox-small', 'aria-label': t('coll.map') });
  const wrap = h('div', { class: 'fld hidden' }, h('span', {}, t('coll.map')), el);
  let m = null;
  let gone = false;
  boundaries()
    .then(() => {
      if (gone || !grids.some((g) => Array.isArray(g.boundary) && g.boundary.length >= 3)) return null;
      wrap.className = 'fld'; // shown before Leaflet measures it
      return gridPicker(el, { grids, onPick: (g) => { select.value = String(g.id); select.dispatchEvent(new Event('change')); } });
    })
    .then((p) => {
      if (!p) return;
      if (gone) { p.remove(); return; }
      m = p;
      if (select.value) m.select(Number(select.value));
      el.dataset.ready = '1';
    })
    .catch(() => { wrap.className = 'hidden'; }); // the list still works
  select.addEventListener('change', () => { if (m && select.value) m.select(Number(select.value)); });
  return { el: wrap, remove() { gone = true; if (m) m.remove(); } };
}

// The report form (collector and street office).  Returns {el, remove()}.
export function reportForm(ctx) {
  const leaf = lists.categories.filter((c) => !lists.categories.some((x) => x.parent_id === c.id));
  const mine = new Set(ctx.me.grids || []);
  // a grid names its community, the community its street
  const ofStreet = new Set(lists.communities.filter((c) => c.street_id === ctx.me.street_id).map((c) => c.id));
  const grids = lists.grids.filter((g) => mine.has(g.id) || (ctx.me.role === 'street' && ofStreet.has(g.community_id)));
  const cat = h('select', { id: 'report-category', required: true }, h('option', { value: '' }, t('sec.pick')),
    leaf.map((c) => h('option', { value: String(c.id), dataset: { code: c.code } }, nameOf(c))));
  const grid = h('select', { id: 'report-grid', required: true }, grids.length > 1 ? h('option', { value: '' }, t('sec.pick')) : null,
    grids.map((g) => h('option', { value: String(g.id), dataset: { code: g.code } }, nameOf(g))));
  const map = mapPicker(grids, grid);
  const desc = h('textarea', { id: 'report-description', rows: '3', maxlength: '4000', required: true });
  const addr = h('input', { id: 'report-address', maxlength: '400' });
  const picker = photoPicker('report-photos');
  const msg = h('p', { id: 'report-msg', class: 'msg', role: 'alert' });
  const submit = h('button', { type: 'submit', class: 'primary' }, t('coll.submit'));
  const form = h('form', { id: 'report-form', class: 'report', on: { submit: async (e) => {
    e.preventDefault();
    msg.className = 'msg'; msg.replaceChildren();
    if (!cat.value || !grid.value || !desc.value.trim()) { msg.className = 'msg msg-error'; msg.textContent = t('coll.need'); return; }
    submit.disabled = true;
    try {
      const photos = await picker.ids();
      const r = await call('report', { category: Number(cat.value), grid: Number(grid.value), description: desc.value.trim(),
        ...(addr.value.trim() ? { address: addr.value.trim() } : {}), ...(photos.length ? { photos } : {}),
        key: 'web-' + Date.now() + '-' + Math.random().toString(36).slice(2) });
      msg.className = 'msg msg-ok'; msg.dataset.ticket = r.ticket.id;
      replace(msg, h('a', { href: '#/ticket/' + r.ticket.id }, t('coll.reported', { id: r.ticket.id })));
      desc.value = ''; addr.value = ''; picker.clear();
    } catch (err) {
      msg.className = 'msg msg-error'; msg.dataset.code = err.code || ''; msg.textContent = err.message;
    } finally { submit.disabled = false; }
  } } },
  field(t('coll.category'), cat), field(t('coll.grid'), grid), map.el, field(t('coll.description'), desc),
  field(t('coll.address'), addr), picker.el, submit, msg);
  if (!grids.length) { msg.className = 'msg msg-error'; msg.textContent = t('coll.nogrids'); submit.disabled = true; }
  return { el: form, remove: map.remove };
}

// On the ticket page: the same, on the collector's own reports.
addTicketActions('collector', (tk, ctx, act) => (tk.reporter_id === ctx.me.id ? reporterActions(tk, act) : []));

export default {
  id: 'collector',
  route: '/collector',
  render(root, params, ctx) {
    const form = reportForm(ctx);
    root.append(h('h1', {}, t('coll.report')), form.el);
    const b = board(root, {
      sections: [
        { id: 'coll-feedback', title: 'coll.feedback', match: (tk) => tk.state === 'resolved', empty: 'coll.nofeedback' },
        { id: 'coll-mine', title: 'coll.mine', match: () => true, empty: 'coll.none' },
      ],
      load: () => callAll('list', { limit: 100 }, 'tickets', 2),
      card: (tk, act) => [summary(tk), h('div', { class: 'card-body' }, reporterActions(tk, act))],
    });
    return () => { b.cleanup(); form.remove(); };
  },
};
