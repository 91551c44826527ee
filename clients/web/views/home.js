// home: `#/` sends each role to its main screen (location.replace: Back
// does not bounce through it); admin and any other role get the generic
// start page there: open a ticket by number, or search.  The start page
// stays reachable for everyone at `#/home`.
import { h } from '../dom.js';
import { register, t } from '../i18n.js';
import { go } from '../router.js';
import { mainFor } from './registry.js';

register({
  zh: { 'home.open': '打开工单', 'home.number': '工单号', 'home.go': '打开', 'home.search': '查询工单' },
  en: { 'home.open': 'Open a ticket', 'home.number': 'ticket number', 'home.go': 'open', 'home.search': 'Search tickets' },
});

function startPage(root) {
  const num = h('input', { id: 'home-ticket', type: 'number', min: '1', 'aria-label': t('home.number'), placeholder: t('home.number') });
  root.append(
    h('h1', {}, t('home.title')),
    h('form', { class: 'inline', on: { submit: (e) => { e.preventDefault(); if (num.value) go('#/ticket/' + Number(num.value)); } } },
      h('label', {}, t('home.open'), ' ', num), ' ', h('button', { type: 'submit' }, t('home.go'))),
    h('p', {}, h('a', { href: '#/list' }, t('home.search'))));
}

export default [
  {
    id: 'home',
    route: '/',
    render(root, params, ctx) {
      const main = ctx && ctx.me && mainFor(ctx.me.role);
      if (main && location.hash !== '#' + main) { location.replace('#' + main); return; }
      startPage(root);
    },
  },
  { id: 'start', route: '/home', render: startPage },
];
