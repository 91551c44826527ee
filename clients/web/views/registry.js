// registry: every view of the console and who gets it.  Each module exports
// {id, route, title (an i18n key), render(root, params, ctx)} and optionally
// roles (absent: everyone), nav (true: a link in the header) and
// prefetch(params): called at page start, while whoami is still on its way,
// when the address names the view, to send its first request early (the
// view's first render takes that answer; the role is checked as ever, by the
// server and by render being called at all); it may return a function that
// drops an answer the first render did not take.
//
// The role screens (issue 15, §2) go here, one module per role:
//   views/street.js      the street office's inbox, returns, feedback, overdue
//   views/department.js  to accept, in progress, resolve, extensions
//   views/collector.js   report (category, grid, photos), my reports, confirm
//   views/supervisor.js  overdue board, arbitration, assessment, bulletin
// Import them below and add them to `all`; their routes must not clash
// with '/', '/ticket/:id' and '/list'.
import home from './home.js';
import list from './list.js';
import ticket from './ticket.js';
import street from './street.js';
import department from './department.js';
import collector from './collector.js';
import './ticket_actions.js';
import supervisor from './supervisor.js';

// the role's own screens first in the header, the search after them
const all = [...home, ticket, street, department, collector, ...supervisor, list];

export function viewsFor(role) {
  return all.filter((v) => !v.roles || v.roles.includes(role));
}

// Every view, whatever the role.
export function allViews() {
  return all;
}

export function navFor(role) {
  return viewsFor(role).filter((v) => v.nav);
}
