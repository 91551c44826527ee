// export_csv: the `export` op's pages as the CSV `streetctl export --format
// csv` writes (clients/cmd_export.c, csv.c): UTF-8 with a BOM, RFC 4180
// (CRLF; a field with , " CR or LF quoted, " doubled; null empty), one
// column per head key (a unit's name beside its code, from the page's
// `names`), each step kind's last instance, then the tail keys.  Read by
// column name, as the protocol asks.
import { call } from '../api.js';

const KINDS = ['dispatch', 'accept', 'resolve', 'feedback'];
const HEAD = [['id'], ['state'], ['urgent'], ['category'], ['category_name', 'category'], ['district'], ['street'],
  ['street_name', 'street'], ['grid'], ['reported_at'], ['department'], ['department_name', 'department']];
const STEP = ['started_at', 'deadline', 'ended_at', 'actor', 'department', 'overdue'];
const TAIL = ['closed_at', 'close_kind', 'rating', 'returns', 'reopens', 'urges', 'overdue'];

export const header = [...HEAD.map((x) => x[0]), ...KINDS.flatMap((k) => STEP.map((s) => k + '_' + s)), ...TAIL];

function field(v) {
  if (v === null || v === undefined) return '';
  const s = String(v);
  return /[",\r\n]/.test(s) ? '"' + s.replaceAll('"', '""') + '"' : s;
}

export function csvRow(cells) {
  return cells.map(field).join(',') + '\r\n';
}

function records(page) {
  const col = (n) => page.columns.indexOf(n);
  const scol = (n) => page.step_columns.indexOf(n);
  const kind = scol('kind');
  const names = page.names || {};
  return page.rows.map((row) => {
    const last = {};
    for (const s of row[col('steps')] || []) last[s[kind]] = s;
    return [
      ...HEAD.map(([k, of]) => (of ? ((names[of] || {})[row[col(of)]] ?? null) : row[col(k)])),
      ...KINDS.flatMap((k) => STEP.map((s) => (last[k] ? last[k][scol(s)] : null))),
      ...TAIL.map((k) => row[col(k)]),
    ];
  });
}

// Every page of the period; onPage(rowsSoFar) reports progress.
export async function exportCsv(from, to, onPage) {
  const parts = ['\ufeff', csvRow(header)];
  let after;
  let n = 0;
  for (;;) {
    const page = await call('export', after === undefined ? { from, to, limit: 1000 } : { from, to, limit: 1000, after });
    for (const r of records(page)) parts.push(csvRow(r));
    n += page.rows.length;
    if (onPage) onPage(n);
    if (page.next === null || page.next === undefined) break;
    after = page.next;
  }
  return new Blob(parts, { type: 'text/csv;charset=utf-8' });
}
