// The grid map (#/map, the supervisor's): every grid of places coloured by
// its open and overdue tickets (grid_load), a click lists the grid's
// overdue tickets.  Live: a deadline passing or a ticket opened or closed
// anywhere reloads the counts (once for a burst).
import { call } from '../api.js';
import * as events from '../events.js';
import { h } from '../dom.js';
import { nameOf, register, t } from '../i18n.js';
import { gridMap } from '../gridmap.js';
import { boundaries } from '../refdata.js';

register({
  zh: { 'map.nav': '地图', 'map.legend': '颜色：橙色有在办工单，红色有超时工单。点击网格查看其名称和工单', 'map.picked': '网格：{name}（在办 {open}，超时 {overdue}）', 'map.list': '查看工单' },
  en: { 'map.nav': 'Map', 'map.legend': 'orange: open tickets; red: overdue tickets. Click a grid for its name and tickets', 'map.picked': 'grid: {name} ({open} open, {overdue} overdue)', 'map.list': 'show its tickets' },
});

export default {
  id: 'map',
  route: '/map',
  render(root) {
    const box = h('div', { id: 'gridmap', class: 'mapbox' });
    const picked = h('p', { id: 'map-picked', class: 'msg msg-info' });
    root.append(h('h1', {}, t('map.title')), h('p', { class: 'muted' }, t('map.legend')), box, picked);
    let gone = false;
    let m = null;
    let counts = new Map();
    let timer = null;

    function onPick(g) {
      const c = counts.get(g.id) || { open: 0, overdue: 0 };
      picked.dataset.grid = g.id;
      picked.replaceChildren(t('map.picked', { name: nameOf(g), open: c.open, overdue: c.overdue }), ' ',
        h('a', { href: '#/list?grid=' + g.id + (c.overdue ? '&overdue=1' : '') }, t('map.list')));
    }

    async function loadCounts() {
      const r = await call('grid_load');
      counts = new Map(r.grids.map((x) => [x.grid, x]));
      if (m && !gone) m.setCounts(counts);
      box.dataset.loaded = '1';
    }

    (async () => {
      try {
        const [grids] = await Promise.all([boundaries(), loadCounts()]);
        if (gone) return;
        m = await gridMap(box, { grids, counts, onPick });
        if (gone) { m.remove(); return; }
        box.dataset.ready = '1';
      } catch (e) { picked.className = 'msg msg-error'; picked.textContent = e.message; }
    })();
    const soon = () => { clearTimeout(timer); timer = setTimeout(() => loadCounts().catch(() => {}), 500); };
    const off = [
      events.onEvent((ev) => { if (ev.action === 'overdue' || ev.action === 'report' || ev.from_state !== ev.to_state) soon(); }),
      events.onResync(soon),
    ];
    return () => { gone = true; clearTimeout(timer); for (const f of off) f(); if (m) m.remove(); };
  },
};
