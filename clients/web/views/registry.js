// registry: every view of the console and who gets it, as a table that
// imports nothing, so that the page knows its routes, the header its links
// and app.js the first request of the screen the address names before any
// view's code has arrived.  A view's module is imported when its route is
// first shown (load(), cached by the browser after); a role's first screen
// costs only its own modules (docs/console.md, "How the pages load").
//
// An entry: id and route (the module's default export, or one of the views
// it exports as an array, says the same: tests/unit/test_web.mjs's `views`
// mode checks every entry against its module and every view file against
// the table), module (under views/), title (an i18n key: its strings are
// here, in `titles`, since the header shows them before the module is
// loaded), roles (absent: everyone), nav (a link to the route in the
// header), main (the role's start screen: `#/` goes
// there), first (the screen's first request, sent by app.js at page start
// with whoami; the view's first identical call takes the answer, api.js).
// Routes are tried in order: the role's own screens first in the header,
// the search after them.
export const VIEWS = [
  { id: 'home', route: '/', module: 'home.js', title: 'home.title' },
  { id: 'start', route: '/home', module: 'home.js', title: 'home.title' },
  { id: 'ticket', route: '/ticket/:id', module: 'ticket.js', title: 'ticket.title' },
  { id: 'street', route: '/street', module: 'street.js', title: 'street.title', roles: ['street'], nav: true, main: true },
  { id: 'department', route: '/department', module: 'department.js', title: 'dept.title', roles: ['department'], nav: true, main: true },
  { id: 'collector', route: '/collector', module: 'collector.js', title: 'coll.title', roles: ['collector'], nav: true, main: true },
  { id: 'board', route: '/board', module: 'overdue_board.js', title: 'board.title', roles: ['supervisor'], nav: true, main: true,
    first: { op: 'overdue', fields: { limit: 100 } } },
  { id: 'arbitration', route: '/arbitration', module: 'arbitration.js', title: 'arb.title', roles: ['supervisor'], nav: true },
  { id: 'assessment', route: '/assessment', module: 'assessment.js', title: 'assess.title', roles: ['supervisor'], nav: true },
  { id: 'bulletin', route: '/bulletin', module: 'bulletin.js', title: 'bul.title', roles: ['supervisor'] },
  { id: 'map', route: '/map', module: 'map.js', title: 'map.title', roles: ['supervisor'], nav: true },
  { id: 'list', route: '/list', module: 'list.js', title: 'list.title', nav: true },
];

// The module that adds a role's actions to the ticket page
// (views/ticket.js addTicketActions): loaded with the ticket page.
export const ACTIONS = {
  street: 'street.js',
  department: 'department.js',
  collector: 'collector.js',
  supervisor: 'supervisor_actions.js',
};

export const titles = {
  zh: {
    'home.title': '首页', 'ticket.title': '工单 #{id}', 'street.title': '街道工作台', 'dept.title': '部门工作台',
    'coll.title': '上报与我的工单', 'board.title': '超时督办', 'arb.title': '退单仲裁', 'assess.title': '考核',
    'bul.title': '月度通报', 'map.title': '网格地图', 'list.title': '工单查询',
  },
  en: {
    'home.title': 'Home', 'ticket.title': 'Ticket #{id}', 'street.title': 'Street office', 'dept.title': 'Department',
    'coll.title': 'Report and my tickets', 'board.title': 'Overdue board', 'arb.title': 'Arbitration', 'assess.title': 'Assessment',
    'bul.title': 'Monthly bulletin', 'map.title': 'Grid map', 'list.title': 'Search tickets',
  },
};

export function viewsFor(role) {
  return VIEWS.filter((v) => !v.roles || v.roles.includes(role));
}

export function navFor(role) {
  return viewsFor(role).filter((v) => v.nav);
}

// The route of role's start screen, or undefined (the generic start page).
export function mainFor(role) {
  const v = VIEWS.find((x) => x.main && x.roles.includes(role));
  return v && v.route;
}

const loaded = new Map();

function importOnce(file) {
  if (!loaded.has(file)) {
    // a failed import is asked again next time (the daemon restarting)
    loaded.set(file, import('./' + file).catch((e) => { loaded.delete(file); throw e; }));
  }
  return loaded.get(file);
}

// The view of entry: {id, route, render(root, params, ctx)}.
export async function load(entry) {
  const m = await importOnce(entry.module);
  const view = [].concat(m.default).find((v) => v && v.id === entry.id);
  if (!view) throw new Error('views/' + entry.module + ' has no view ' + entry.id);
  return view;
}

// The ticket page's actions of role (nothing for a role without any).
export function loadActions(role) {
  return ACTIONS[role] ? importOnce(ACTIONS[role]) : Promise.resolve();
}
