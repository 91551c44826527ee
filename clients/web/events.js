// events: one EventSource on /api/events for the whole page.  It shows its
// state in the header (connected / reconnecting / offline), hands pushed
// events to subscribers (by ticket, or every event), and tells them to
// reload their data on `resync`.  The browser resumes by itself with
// Last-Event-ID; when the stream is closed for good (EventSource gives up
// on an HTTP error, e.g. 503 while the daemon starts), a new one is made
// with ?since= the last id seen, so nothing is missed either way.
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

export function start() {
  if (es) return;
  clearTimeout(retryTimer);
  const url = lastId === null ? '/api/events' : '/api/events?since=' + encodeURIComponent(lastId);
  es = new EventSource(url);
  es.addEventListener('subscribed', () => setState('connected'));
  es.addEventListener('message', (e) => {
    if (e.lastEventId) lastId = e.lastEventId;
    let msg;
    try { msg = JSON.parse(e.data); } catch (err) { return; }
    if (msg && msg.event) deliver(msg.event);
  });
  es.addEventListener('resync', (e) => {
    if (e.lastEventId) lastId = e.lastEventId;
    for (const fn of [...resyncs]) fn();
  });
  es.addEventListener('error', () => {
    // the server's own `event: error` and the browser's connection errors
    // both land here; what matters is what EventSource does next
    if (!es) return;
    if (es.readyState === EventSource.CLOSED) {
      es.close();
      es = null;
      setState('offline');
      retryTimer = setTimeout(start, 3000);
    } else {
      setState('reconnecting');
    }
  });
}

// Tests and the page's unload.
export function stop() {
  clearTimeout(retryTimer);
  if (es) es.close();
  es = null;
  setState('offline');
}
