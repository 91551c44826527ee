// refdata: the names behind the ids in tickets and events (categories,
// departments, places), read once per page load through the API.  The
// grids' boundaries are not part of it (a page's start waits for this, and
// only a map draws polygons): boundaries() reads them on first use.
import { call } from './api.js';
import { nameOf } from './i18n.js';

let loaded = null;
let withBoundaries = null;
const maps = { category: new Map(), department: new Map(), grid: new Map(), street: new Map(), district: new Map(), community: new Map() };
export const lists = { categories: [], departments: [], grids: [], streets: [], districts: [], communities: [] };

export function load() {
  if (!loaded) {
    loaded = Promise.all([call('categories'), call('departments'), call('places', { boundaries: false })]).then(([c, d, p]) => {
      lists.categories = c.categories || [];
      lists.departments = d.departments || [];
      lists.grids = p.grids || [];
      lists.streets = p.streets || [];
      lists.districts = p.districts || [];
      lists.communities = p.communities || [];
      for (const x of lists.categories) maps.category.set(x.id, x);
      for (const x of lists.departments) maps.department.set(x.id, x);
      for (const x of lists.grids) maps.grid.set(x.id, x);
      for (const x of lists.streets) maps.street.set(x.id, x);
      for (const x of lists.districts) maps.district.set(x.id, x);
      for (const x of p.communities || []) maps.community.set(x.id, x);
    }).catch((e) => { loaded = null; throw e; });
  }
  return loaded;
}

// Sets each grid's boundary ([[lon, lat]…] or null) in lists.grids, once;
// resolves to lists.grids.
export function boundaries() {
  if (!withBoundaries) {
    withBoundaries = Promise.all([load(), call('places')]).then(([, p]) => {
      for (const g of p.grids || []) {
        const mine = maps.grid.get(g.id);
        if (mine) mine.boundary = g.boundary;
      }
      return lists.grids;
    }).catch((e) => { withBoundaries = null; throw e; });
  }
  return withBoundaries;
}

// The name of kind's id in the current language ('' for null, '#id' unknown).
export function name(kind, id) {
  if (id === null || id === undefined) return '';
  const o = maps[kind] && maps[kind].get(Number(id));
  return o ? nameOf(o) : '#' + id;
}
