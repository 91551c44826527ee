// gridmap: the grids as polygons on a Leaflet map without tiles (nothing is
// fetched beyond streetd): each grid's boundary from `places`
// ([[lon, lat]…], refdata.boundaries()), its name as a tooltip (a text
// node: never HTML).
//
//   gridMap(container, {grids, counts, onPick}) -> {select(id), setCounts(m), remove()}
//     counts: Map grid id -> {open, overdue} (grid_load), for the colours
//   gridPicker(container, {grids, onPick}) -> the same: a click selects a grid
//     and calls onPick(grid) (the collector's report form)
// Grids without a boundary are left out (the caller offers its list too).
import { nameOf } from './i18n.js';
import { leaflet } from './libs.js';

const BASE = { weight: 1, color: '#1d2733', fillColor: '#8fa3b8', fillOpacity: 0.25 };

function colour(c) {
  if (!c || !c.open) return BASE;
  if (c.overdue) return { ...BASE, fillColor: '#b3261e', fillOpacity: Math.min(0.35 + c.overdue / 20, 0.8) };
  return { ...BASE, fillColor: '#b26a00', fillOpacity: Math.min(0.3 + c.open / 40, 0.7) };
}

function tip(g, c) {
  const el = document.createElement('span');
  el.textContent = nameOf(g) + (c && c.open ? ` · ${c.open} / ${c.overdue}` : '');
  return el;
}

export async function gridMap(container, { grids, counts = new Map(), onPick } = {}) {
  const L = await leaflet();
  container.classList.add('gridmap');
  const map = L.map(container, { attributionControl: false, zoomSnap: 0.25, scrollWheelZoom: false });
  const layers = new Map();
  let selected = null;
  let bounds = null;
  for (const g of grids || []) {
    if (!Array.isArray(g.boundary) || g.boundary.length < 3) continue;
    const poly = L.polygon(g.boundary.map(([lon, lat]) => [lat, lon]), colour(counts.get(g.id)));
    poly.bindTooltip(tip(g, counts.get(g.id)), { sticky: true });
    poly.on('click', () => { select(g.id); if (onPick) onPick(g); });
    layers.set(g.id, { g, poly });
    bounds = bounds ? bounds.extend(poly.getBounds()) : poly.getBounds();
  }
  // the view first: Leaflet draws a layer only once the map has one
  if (bounds) map.fitBounds(bounds, { padding: [8, 8] });
  else map.setView([0, 0], 1);
  for (const [id, { poly }] of layers) {
    poly.addTo(map);
    const el = poly.getElement();
    el.dataset.grid = id;
    el.classList.add('grid-poly');
  }

  function select(id) {
    if (selected !== null && layers.has(selected)) {
      const s = layers.get(selected);
      s.poly.setStyle({ weight: 1, color: BASE.color });
      s.poly.getElement().classList.remove('grid-selected');
    }
    selected = id;
    const s = layers.get(id);
    if (s) { s.poly.setStyle({ weight: 3, color: '#1f5fa8' }); s.poly.getElement().classList.add('grid-selected'); }
  }

  function setCounts(m) {
    counts = m;
    for (const [id, { g, poly }] of layers) {
      const c = counts.get(id);
      poly.setStyle(colour(c));
      poly.setTooltipContent(tip(g, c));
      const el = poly.getElement();
      el.dataset.open = c ? c.open : 0;
      el.dataset.overdue = c ? c.overdue : 0;
    }
    if (selected !== null) select(selected);
  }

  setCounts(counts);
  return { map, select, setCounts, remove: () => map.remove() };
}

export function gridPicker(container, { grids, onPick } = {}) {
  return gridMap(container, { grids, onPick });
}
