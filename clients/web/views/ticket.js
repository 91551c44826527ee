// ticket (#/ticket/ID): the ticket's fields, its current deadline, and its
// timeline: every event with actor, time (Asia/Shanghai), note and photos,
// paged with get's `next`.  Live: an event pushed for this ticket reads the
// events after the last one shown (get with `after`), appends them and
// updates the fields, without a reload.  A comment sends the version the
// user saw: a stale page gets the conflict message.
//
// Role modules add their actions with addTicketActions(role, fn): fn(ticket,
// ctx, act) returns elements (buttons, small forms) shown under the fields;
// act(op, fields) runs an op with the shown version and reports errors here.
// The page loads the module of the viewer's role that adds them
// (registry.js ACTIONS) and draws them once it is in.
import { call } from '../api.js';
import * as events from '../events.js';
import { h, replace } from '../dom.js';
import { actionName, nameOf, register, roleName, stateName, t, time } from '../i18n.js';
import { name } from '../refdata.js';
import { loadActions } from './registry.js';

register({
  zh: {
    'ticket.state': '状态', 'ticket.category': '类别', 'ticket.urgent': '紧急',
    'ticket.grid': '网格', 'ticket.street': '街道', 'ticket.department': '承办部门', 'ticket.description': '问题描述',
    'ticket.address': '地址', 'ticket.created': '上报时间', 'ticket.due': '当前时限', 'ticket.overdue': '已超时',
    'ticket.ext': '延期申请', 'ticket.rating': '评价', 'ticket.version': '版本', 'ticket.timeline': '处理经过',
    'ticket.more': '加载更多', 'ticket.comment': '添加备注', 'ticket.send': '提交', 'ticket.sent': '已提交',
    'ticket.reload': '刷新', 'ticket.photo': '照片', 'ticket.loading': '加载中…',
    'ticket.closed_kind': '办结方式', 'ticket.counts': '退单 {r} · 重办 {o} · 督办 {u}',
    'data.note': '说明', 'data.reason': '原因', 'data.comment': '评语', 'data.text': '内容', 'data.rating': '评分',
    'data.due_at': '时限', 'data.until': '延期至', 'data.department': '部门', 'data.upheld': '支持退单', 'data.sep': '：',
    'close.confirmed': '确认办结', 'close.no_feedback': '逾期未反馈，自动办结', 'close.cancelled': '撤销',
  },
  en: {
    'ticket.state': 'state', 'ticket.category': 'category', 'ticket.urgent': 'urgent',
    'ticket.grid': 'grid', 'ticket.street': 'street', 'ticket.department': 'department', 'ticket.description': 'description',
    'ticket.address': 'address', 'ticket.created': 'reported', 'ticket.due': 'current deadline', 'ticket.overdue': 'overdue',
    'ticket.ext': 'extension requested', 'ticket.rating': 'rating', 'ticket.version': 'version', 'ticket.timeline': 'timeline',
    'ticket.more': 'load more', 'ticket.comment': 'add a comment', 'ticket.send': 'send', 'ticket.sent': 'sent',
    'ticket.reload': 'reload', 'ticket.photo': 'photo', 'ticket.loading': 'loading…',
    'ticket.closed_kind': 'closed as', 'ticket.counts': 'returns {r} · reopens {o} · urges {u}',
    'data.note': 'note', 'data.reason': 'reason', 'data.comment': 'comment', 'data.text': 'text', 'data.rating': 'rating',
    'data.due_at': 'deadline', 'data.until': 'until', 'data.department': 'department', 'data.upheld': 'return upheld', 'data.sep': ': ',
    'close.confirmed': 'confirmed', 'close.no_feedback': 'closed without feedback', 'close.cancelled': 'cancelled',
  },
});

const actionProviders = new Map(); // role -> fn
export function addTicketActions(role, fn) {
  actionProviders.set(role, fn);
}

// A photo through photo_get's chunks, as a Blob URL (revoked on leaving).
async function photoUrl(photo, urls) {
  const parts = [];
  let offset = 0;
  while (offset < photo.size) {
    const r = await call('photo_get', { photo: photo.id, offset, length: 32768 });
    const bin = atob(r.data);
    const bytes = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    if (bytes.length === 0) break;
    parts.push(bytes);
    offset += bytes.length;
  }
  const url = URL.createObjectURL(new Blob(parts, { type: photo.mime }));
  urls.push(url);
  return url;
}

function dataLines(ev) {
  const d = ev.data || {};
  const out = [];
  for (const k of ['text', 'note', 'reason', 'comment']) {
    if (typeof d[k] === 'string' && d[k] !== '') out.push(h('p', { class: 'ev-' + k }, t('data.' + k) + t('data.sep'), h('span', { class: 'user-text' }, d[k])));
  }
  if (d.rating !== undefined && d.rating !== null) out.push(h('p', {}, t('data.rating') + t('data.sep') + d.rating));
  if (d.until) out.push(h('p', {}, t('data.until') + t('data.sep') + time(d.until)));
  if (d.department_id) out.push(h('p', {}, t('data.department') + t('data.sep') + name('department', d.department_id)));
  if (d.upheld !== undefined) out.push(h('p', {}, t('data.upheld') + t('data.sep') + t(d.upheld ? 'yes' : 'no')));
  if (d.due_at) out.push(h('p', { class: 'muted' }, t('data.due_at') + t('data.sep') + time(d.due_at)));
  return out;
}

export default {
  id: 'ticket',
  route: '/ticket/:id',
  render(root, params, ctx) {
    const id = Number(params.id);
    const st = { ticket: null, seen: new Set(), lastSeq: 0, next: null, photos: new Map(), urls: [], busy: Promise.resolve(), gone: false };
    const head = h('section', { id: 'ticket-head', class: 'ticket-head' });
    const msg = h('p', { id: 'ticket-msg', class: 'msg', role: 'alert' });
    const timeline = h('ol', { id: 'timeline', class: 'timeline' });
    const more = h('button', { id: 'timeline-more', type: 'button', class: 'hidden', on: { click: () => queue(loadMore) } }, t('ticket.more'));
    const actions = h('section', { id: 'ticket-actions', class: 'actions' });
    const text = h('textarea', { id: 'comment-text', rows: '2', maxlength: '4000', 'aria-label': t('ticket.comment') });
    const form = h('form', { id: 'comment-form', class: 'comment', on: { submit: (e) => { e.preventDefault(); comment(); } } },
      h('label', { for: 'comment-text' }, t('ticket.comment')), text, h('button', { type: 'submit' }, t('ticket.send')));
    root.append(h('h1', {}, t('ticket.title', { id })), msg, head, actions,
      h('h2', {}, t('ticket.timeline')), timeline, more, form);

    function show(kind, message, withReload) {
      msg.className = 'msg msg-' + kind;
      replace(msg, message, withReload ? [' ', h('button', { type: 'button', class: 'link', on: { click: () => queue(reloadAll) } }, t('ticket.reload'))] : []);
    }

    function field(label, value, fid) {
      return [h('dt', {}, label), h('dd', { id: fid ? 'ticket-' + fid : null }, value)];
    }

    function drawHead() {
      const tk = st.ticket;
      replace(head,
        h('p', { class: 'badges' },
          h('span', { id: 'ticket-state', class: 'badge state-' + tk.state, dataset: { state: tk.state, version: tk.version } }, stateName(tk.state)),
          tk.urgent ? h('span', { class: 'badge urgent' }, t('ticket.urgent')) : null,
          tk.overdue ? h('span', { class: 'badge overdue' }, t('ticket.overdue')) : null),
        h('dl', { class: 'fields' },
          field(t('ticket.description'), h('span', { class: 'user-text' }, tk.description || ''), 'description'),
          field(t('ticket.address'), h('span', { class: 'user-text' }, tk.address || ''), 'address'),
          field(t('ticket.category'), name('category', tk.category_id), 'category'),
          field(t('ticket.grid'), name('grid', tk.grid_id) + ' · ' + name('street', tk.street_id), 'grid'),
          field(t('ticket.department'), name('department', tk.department_id), 'department'),
          field(t('ticket.created'), time(tk.created_at), 'created'),
          field(t('ticket.due'), tk.due_at ? time(tk.due_at) : '—', 'due'),
          tk.ext_until ? field(t('ticket.ext'), [time(tk.ext_until), ' ', h('span', { class: 'user-text' }, tk.ext_reason || '')], 'ext') : null,
          tk.rating ? field(t('ticket.rating'), [String(tk.rating), ' ', h('span', { class: 'user-text' }, tk.feedback || '')], 'rating') : null,
          tk.close_kind ? field(t('ticket.closed_kind'), t('close.' + tk.close_kind), 'close-kind') : null,
          field(t('ticket.version'), String(tk.version), 'version'),
          h('dd', { class: 'muted' }, t('ticket.counts', { r: tk.return_count, o: tk.reopen_count, u: tk.urge_count }))));
      drawActions();
    }

    function drawActions() {
      const fn = actionsIn && actionProviders.get(ctx.me.role);
      replace(actions, fn ? fn(st.ticket, ctx, (op, fields) => run(op, fields)) : []);
    }

    let actionsIn = false;
    loadActions(ctx.me.role).then(() => {
      actionsIn = true;
      if (st.ticket && !st.gone) drawActions();
    }).catch((e) => { if (!st.gone) show('error', e.message); });

    function photoEl(p) {
      const img = h('img', { class: 'photo', alt: t('ticket.photo') + ' #' + p.id, dataset: { photo: p.id } });
      photoUrl(p, st.urls).then((u) => { if (!st.gone) img.src = u; }).catch(() => { img.alt = t('ticket.photo') + ' #' + p.id + ' ✕'; });
      return img;
    }

    function eventEl(ev) {
      const who = ev.actor ? [nameOf(ev.actor), ' (', roleName(ev.actor.role), ')'] : [t('daemon')];
      const pics = (st.photos.get(ev.seq) || []).map(photoEl);
      return h('li', { class: 'event action-' + ev.action, dataset: { seq: ev.seq, action: ev.action } },
        h('p', { class: 'ev-head' },
          h('time', { datetime: ev.at }, time(ev.at)), ' ',
          h('strong', {}, actionName(ev.action)), ' ',
          h('span', { class: 'actor' }, who),
          ev.to_state && ev.to_state !== ev.from_state ? h('span', { class: 'muted' }, ' → ' + stateName(ev.to_state)) : null),
        dataLines(ev),
        pics.length ? h('p', { class: 'photos' }, pics) : null);
    }

    function take(r) {
      st.ticket = r.ticket;
      for (const p of r.photos || []) {
        const seq = p.event_seq;
        if (!st.photos.has(seq)) st.photos.set(seq, []);
        if (!st.photos.get(seq).some((x) => x.id === p.id)) st.photos.get(seq).push(p);
      }
      for (const ev of r.events || []) {
        if (st.seen.has(ev.seq)) continue;
        st.seen.add(ev.seq);
        st.lastSeq = Math.max(st.lastSeq, ev.seq);
        timeline.append(eventEl(ev));
      }
      st.next = r.next;
      more.className = st.next === null || st.next === undefined ? 'hidden' : '';
      drawHead();
    }

    // one read at a time, in order: pushes arrive while a page is loading
    function queue(fn) {
      st.busy = st.busy.then(() => (st.gone ? null : fn())).catch((e) => show('error', e.message));
      return st.busy;
    }

    async function reloadAll() {
      st.seen.clear(); st.lastSeq = 0; st.photos.clear();
      timeline.replaceChildren();
      msg.replaceChildren(); msg.className = 'msg';
      take(await call('get', { ticket: id }));
    }

    async function loadMore() {
      if (st.next === null || st.next === undefined) return;
      take(await call('get', { ticket: id, after: st.next }));
    }

    // a pushed event: read on to the end, so that it shows — through the
    // older pages not read yet, if any (get's `next` is the last seq shown,
    // so reading after lastSeq is reading on either way)
    async function catchUp() {
      for (let i = 0; i < 100; i++) {
        const r = await call('get', { ticket: id, after: st.lastSeq });
        take(r);
        if (r.next === null || r.next === undefined) break;
      }
    }

    async function run(op, fields) {
      try {
        const r = await call(op, { ticket: id, version: st.ticket.version, ...fields });
        show('ok', t('ticket.sent'));
        queue(catchUp);
        return r;
      } catch (e) {
        show('error', e.message, e.code === 'conflict' || e.code === 'bad_state');
        msg.dataset.code = e.code;
        throw e;
      }
    }

    async function comment() {
      const v = text.value.trim();
      if (!v) return;
      try {
        await run('comment', { text: v });
        text.value = '';
      } catch (e) { /* shown */ }
    }

    const off = [
      events.onTicket(id, (ev) => { if (!st.seen.has(ev.seq)) queue(catchUp); }),
      events.onResync(() => queue(reloadAll)),
      // back from offline or a reconnect: anything missed comes by replay;
      // a resync (too far behind) reloads
    ];
    head.append(h('p', { class: 'loading' }, t('ticket.loading')));
    queue(reloadAll);
    return () => {
      st.gone = true;
      for (const f of off) f();
      for (const u of st.urls) URL.revokeObjectURL(u);
    };
  },
};
