// worktime: working time in the page, from the `calendar` op's reply, so
// that a deadline counts down in working time (docs/decisions.md,
// "Deadlines") without asking the server every second.  workingBetween is
// sql/functions/10_sla.sql's sla_working_between in the same closed form:
// local time is UTC+8 fixed, Monday–Friday work unless the calendar says
// holiday, a weekend day works when it says workday, one window a day,
// whole plain weeks skipped; the total truncated to whole seconds.
// (tests/browser/worktime.mjs checks the two agree.)  Pure: no I/O here.
const DAY = 86400000;
const ZONE = 8 * 3600000;

// The calendar op's result as what workingBetween reads.
export function fromReply(r) {
  const wh = r.work_hours;
  const days = (r.days || []).map((d) => ({ day: dayNumber(d.day), working: d.kind === 'workday' }))
    .sort((a, b) => a.day - b.day);
  return { ws: wh.starts_s * 1000, we: wh.ends_s * 1000, days, from: dayNumber(r.from), to: dayNumber(r.to) };
}

// 'YYYY-MM-DD' -> days since 1970-01-01
function dayNumber(s) {
  return Math.floor(Date.UTC(+s.slice(0, 4), +s.slice(5, 7) - 1, +s.slice(8, 10)) / DAY);
}

function ms(x) {
  return x instanceof Date ? x.getTime() : typeof x === 'number' ? x : new Date(x).getTime();
}

// Whether the calendar holds every day [a, b] touches (else fetch more).
export function covers(cal, a, b) {
  return Math.floor((ms(a) + ZONE) / DAY) >= cal.from && Math.floor((ms(b) + ZONE) / DAY) < cal.to;
}

// ISO weekday 1 (Monday) .. 7; day 0 was a Thursday.
const isodow = (day) => ((day % 7) + 7 + 3) % 7 + 1;

// The working seconds in [a, b) (0 if b <= a); a, b: Date, ms or ISO text.
export function workingBetween(cal, a0, b0) {
  const a = ms(a0);
  const b = ms(b0);
  if (!(b > a)) return 0;
  const la = a + ZONE;
  const lb = b + ZONE;
  const da = Math.floor(la / DAY);
  const db = Math.floor(lb / DAY);
  const sa = la - da * DAY;
  const sb = lb - db * DAY;
  const last = sb === 0 ? db - 1 : db;
  const week = 5 * (cal.we - cal.ws);
  const xs = cal.days.filter((x) => x.day >= da && x.day <= last);
  let i = 0;
  let day = da;
  let total = 0;
  for (;;) {
    if (day > da) {
      // days after a's and before b's are whole: skip plain weeks
      const k = Math.floor((Math.min(i < xs.length ? xs[i].day : db, db) - day) / 7);
      if (k > 0) {
        day += 7 * k;
        total += k * week;
        if (day > last) break;
      }
    }
    let working;
    if (i < xs.length && xs[i].day === day) working = xs[i++].working;
    else working = isodow(day) < 6;
    if (working) {
      const lo = Math.max(day === da ? sa : 0, cal.ws);
      const hi = Math.min(day === db ? sb : DAY, cal.we);
      if (hi > lo) total += hi - lo;
    }
    if (day >= last) break;
    day++;
  }
  return Math.floor(total / 1000);
}

// What is left of a deadline at `now`, in seconds: working time, or
// elapsed time for an urgent ticket (urgent deadlines are on the clock).
// Negative: overdue by that much.
export function left(cal, due, now, urgent) {
  const d = ms(due);
  const n = ms(now);
  if (urgent) return Math.trunc((d - n) / 1000);
  return d >= n ? workingBetween(cal, n, d) : -workingBetween(cal, d, n);
}
