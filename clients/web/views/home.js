// home (#/): where every role starts until its own screen exists: open a
// ticket by number, or search.
import { h } from '../dom.js';
import { register, t } from '../i18n.js';
import { go } from '../router.js';

register({
  zh: { 'home.title': '首页', 'home.open': '打开工单', 'home.number': '工单号', 'home.go': '打开', 'home.search': '查询工单' },
  en: { 'home.title': 'Home', 'home.open': 'Open a ticket', 'home.number': 'ticket number', 'home.go': 'open', 'home.search': 'Search tickets' },
});

export default {
  id: 'home',
  route: '/',
  title: 'home.title',
  render(root, params, ctx) {
    const num = h('input', { id: 'home-ticket', type: 'number', min: '1', 'aria-label': t('home.number'), placeholder: t('home.number') });
    root.append(
      h('h1', {}, t('home.title')),
      h('form', { class: 'inline', on: { submit: (e) => { e.preventDefault(); if (num.value) go('#/ticket/' + Number(num.value)); } } },
        h('label', {}, t('home.open'), ' ', num), ' ', h('button', { type: 'submit' }, t('home.go'))),
      h('p', {}, h('a', { href: '#/list' }, t('home.search'))));
  },
};
