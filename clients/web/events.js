// events: one EventSource on /api/events for the whole page.  It shows its
// state in the header (connected / reconnecting / offline), hands pushed
// events to subscribers (by ticket, or every event), and tells them to
// reload their data on `resync`.
//
// Resuming: the page keeps the last event id it saw, or the `head` of the
// `subscribed` message when no event came yet, and reconnects itself with
// ?since= that position.  (The browser's own reconnection sends
// Last-Event-ID, but only once an event with an id has arrived: a page
// that saw none would resume live and miss what happened meanwhile.  It
// also gives up for good on an HTTP error, e.g. 503 while streetd starts.)
// So an error closes the EventSource and a new one is made after a short
// backoff: nothing is missed, nothing comes twice (the server replays
// seq > since).
const listeners = new Set();   // fn(event) for every event
const byTicket = new Map();    // ticket id -> Set of fn(event)
const resyncs = new Set();     // fn() on resync
const stateFns = new Set();    // fn(state)
let es = null;
let state = 'connecting';
let lastId = null;
let retryTimer = null;

function setState(s) {
  if (s === state) return;
  state = s;
  for (const fn of stateFns) fn(s);
}

export function connectionState() {
  return state;
}

export function onState(fn) {
  stateFns.add(fn);
  fn(state);
  return () => stateFns.delete(fn);
}

export function onEvent(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

export function onTicket(id, fn) {
  const key = Number(id);
  if (!byTicket.has(key)) byTicket.set(key, new Set());
  byTicket.get(key).add(fn);
  return () => {
    const s = byTicket.get(key);
    if (s) { s.delete(fn); if (s.size === 0) byTicket.delete(key); }
  };
}

export function onResync(fn) {
  resyncs.add(fn);
  return () => resyncs.delete(fn);
}

function deliver(ev) {
  for (const fn of [...listeners]) fn(ev);
  const s = byTicket.get(Number(ev.ticket_id));
  if (s) for (const fn of [...s]) fn(ev);
}

let failures = 0;

export function start() {
  if (es) return;
  clearTimeout(retryTimer);
  const url = lastId === null ? '/api/events' : '/api/events?since=' + encodeURIComponent(lastId);
  const mine = new EventSource(url);
  es = mine;
  mine.addEventListener('subscribed', (e) => {
    failures = 0;
    try {
      const m = JSON.parse(e.data);
      if (lastId === null && m && m.head !== undefined) lastId = String(m.head);
    } catch (err) { /* keep what we had */ }
    setState('connected');
  });
  mine.addEventListener('message', (e) => {
    if (e.lastEventId) lastId = e.lastEventId;
    let msg;
    try { msg = JSON.parse(e.data); } catch (err) { return; }
    if (msg && msg.event) deliver(msg.event);
  });
  mine.addEventListener('resync', (e) => {
    if (e.lastEventId) lastId = e.lastEventId;
    for (const fn of [...resyncs]) fn();
  });
  mine.addEventListener('error', () => {
    // the server's own `event: error`, the stream's end, or a failed
    // connection: in every case start again from lastId
    if (es !== mine) return;
    mine.close();
    es = null;
    failures++;
    setState(failures > 5 ? 'offline' : 'reconnecting');
    retryTimer = setTimeout(start, Math.min(500 * 2 ** Math.min(failures - 1, 4), 5000));
  });
}

// Tests and the page's unload.
export function stop() {
  clearTimeout(retryTimer);
  if (es) es.close();
  es = null;
  setState('offline');
}
