// Assessment (#/assessment?month=YYYY-MM): the `ranking` of departments and
// of streets as bar charts (composite score) with their red and black lists,
// the period's `stats` as a daily series chart (reported, closed, overdue
// marks, summed over the supervisor's districts), and the export download:
// every `export` page as the CSV streetctl writes (export_csv.js), handed to
// the browser through an <a download> on a Blob URL.  Charts: Debian's
// Chart.js (libs.js), animation off.
import { callAll, call } from '../api.js';
import { h, replace } from '../dom.js';
import { nameOf, register, t } from '../i18n.js';
import { chartJs } from '../libs.js';
import { exportCsv } from './export_csv.js';
import { periodOf, picker } from './period.js';

register({
  zh: {
    'assess.nav': '考核', 'assess.dept': '部门排名', 'assess.street': '街道排名', 'assess.series': '每日走势',
    'assess.red': '红榜', 'assess.black': '黑榜', 'assess.composite': '综合得分', 'assess.rank': '名次', 'assess.volume': '件数',
    'assess.unranked': '件数不足，不排名', 'assess.unit': '单位', 'assess.export': '导出 CSV', 'assess.exporting': '导出中… {n} 行', 'assess.exported': '已导出 {n} 行',
    'assess.bulletin': '月度通报', 'assess.reported': '上报', 'assess.closed': '办结', 'assess.overdue_marks': '超时', 'assess.empty': '（无）',
  },
  en: {
    'assess.nav': 'Assessment', 'assess.dept': 'Departments ranked', 'assess.street': 'Streets ranked', 'assess.series': 'Day by day',
    'assess.red': 'red list', 'assess.black': 'black list', 'assess.composite': 'composite', 'assess.rank': 'rank', 'assess.volume': 'volume',
    'assess.unranked': 'too few tickets to rank', 'assess.unit': 'unit', 'assess.export': 'export CSV', 'assess.exporting': 'exporting… {n} rows', 'assess.exported': '{n} rows exported',
    'assess.bulletin': 'Monthly bulletin', 'assess.reported': 'reported', 'assess.closed': 'closed', 'assess.overdue_marks': 'overdue', 'assess.empty': '(none)',
  },
});

const charts = [];

function num(v, digits = 1) {
  return v === null || v === undefined ? '—' : Number(v).toFixed(digits);
}

export function rankingTable(r, id) {
  return h('table', { id, class: 'tickets ranking' },
    h('thead', {}, h('tr', {}, [t('assess.rank'), t('assess.unit'), t('assess.composite'), t('assess.volume')].map((x) => h('th', {}, x)))),
    h('tbody', {}, r.rows.map((row) => h('tr', { dataset: { unit: row.unit.code }, class: row.red ? 'red' : row.black ? 'black' : '' },
      h('td', { title: row.rank === null ? t('assess.unranked') : null }, row.rank === null ? '—' : String(row.rank)), h('td', {}, nameOf(row.unit)),
      h('td', { class: 'num' }, num(row.composite)), h('td', { class: 'num' }, String(row.volume))))));
}

function lists(r, id) {
  const li = (x) => h('li', { dataset: { unit: x.unit.code } }, nameOf(x.unit), ' ', h('span', { class: 'muted' }, num(x.composite)));
  return h('div', { id, class: 'redblack' },
    h('div', { class: 'red' }, h('strong', {}, t('assess.red')), r.red.length ? h('ol', {}, r.red.map(li)) : h('p', { class: 'muted' }, t('assess.empty'))),
    h('div', { class: 'black' }, h('strong', {}, t('assess.black')), r.black.length ? h('ol', {}, r.black.map(li)) : h('p', { class: 'muted' }, t('assess.empty'))));
}

function barChart(Chart, canvas, r) {
  const ranked = r.rows.filter((x) => x.composite !== null);
  charts.push(new Chart(canvas, {
    type: 'bar',
    data: {
      labels: ranked.map((x) => nameOf(x.unit)),
      datasets: [{ label: t('assess.composite'), data: ranked.map((x) => x.composite),
        backgroundColor: ranked.map((x) => (x.red ? '#1b7f3b' : x.black ? '#b3261e' : '#1f5fa8')) }],
    },
    options: { animation: false, maintainAspectRatio: false, indexAxis: 'y', plugins: { legend: { display: false } }, scales: { x: { min: 0 } } },
  }));
}

// Every day of the period on the axis (a day with nothing is a 0, not a
// gap the line would bridge), straight segments: counts, not a trend.
function seriesChart(Chart, canvas, rows, period) {
  const by = new Map();
  for (const r of rows) {
    const d = String(r.from).slice(0, 10);
    const b = by.get(d) || { reported: 0, closed: 0, overdue_marks: 0 };
    for (const k of Object.keys(b)) b[k] += r[k] || 0;
    by.set(d, b);
  }
  const days = [];
  for (let d = new Date(period.from + 'T00:00:00Z'); d < new Date(period.to + 'T00:00:00Z') && days.length < 400; d.setUTCDate(d.getUTCDate() + 1)) {
    days.push(d.toISOString().slice(0, 10));
  }
  const zero = { reported: 0, closed: 0, overdue_marks: 0 };
  const set = (k, colour) => ({ label: t('assess.' + k), data: days.map((d) => (by.get(d) || zero)[k]), borderColor: colour, backgroundColor: colour, tension: 0 });
  charts.push(new Chart(canvas, {
    type: 'line',
    data: { labels: days.map((d) => d.slice(5)), datasets: [set('reported', '#1f5fa8'), set('closed', '#1b7f3b'), set('overdue_marks', '#b3261e')] },
    options: { animation: false, maintainAspectRatio: false, scales: { y: { min: 0, ticks: { precision: 0 } } } },
  }));
}

export default {
  id: 'assessment',
  route: '/assessment',
  render(root, params) {
    const period = periodOf(params.query);
    const msg = h('p', { id: 'assess-msg', class: 'msg', role: 'status' });
    const link = h('a', { id: 'export-link', class: 'hidden', download: `streetd-export-${period.month}.csv` }, '');
    const exportBtn = h('button', { id: 'export', type: 'button', on: { click: doExport } }, t('assess.export'));
    const canvas = (id) => h('div', { class: 'chart' }, h('canvas', { id, role: 'img' }));
    const dept = h('section', { id: 'assess-dept' });
    const street = h('section', { id: 'assess-street' });
    root.append(h('h1', {}, t('assess.title'), ' ', period.month),
      h('p', { class: 'inline' }, picker('/assessment', period, 'assess-month'), exportBtn, link,
        h('a', { id: 'bulletin-link', href: '#/bulletin?month=' + period.month }, t('assess.bulletin'))),
      msg,
      h('h2', {}, t('assess.dept')), canvas('chart-dept'), dept,
      h('h2', {}, t('assess.street')), canvas('chart-street'), street,
      h('h2', {}, t('assess.series')), canvas('chart-series'));
    let gone = false;
    let url = null;

    function fail(e) { msg.className = 'msg msg-error'; msg.textContent = e.message; msg.dataset.code = e.code || ''; }

    async function doExport() {
      exportBtn.disabled = true;
      try {
        let rows = 0;
        const blob = await exportCsv(period.from, period.to, (n) => { rows = n; msg.className = 'msg msg-info'; msg.textContent = t('assess.exporting', { n }); });
        if (gone) return;
        if (url) URL.revokeObjectURL(url);
        url = URL.createObjectURL(blob);
        link.href = url;
        link.click();
        msg.className = 'msg msg-ok';
        msg.textContent = t('assess.exported', { n: rows });
        link.dataset.rows = rows;
      } catch (e) { fail(e); } finally { exportBtn.disabled = false; }
    }

    (async () => {
      try {
        const f = { from: period.from, to: period.to };
        const [Chart, rd, rs, series] = await Promise.all([chartJs(), call('ranking', { ...f, group: 'department' }),
          call('ranking', { ...f, group: 'street' }), callAll('stats', { ...f, group: 'district', series: 'day' }, 'rows', 20)]);
        if (gone) return;
        replace(dept, lists(rd, 'dept-lists'), rankingTable(rd, 'dept-ranking'));
        replace(street, lists(rs, 'street-lists'), rankingTable(rs, 'street-ranking'));
        barChart(Chart, root.querySelector('#chart-dept'), rd);
        barChart(Chart, root.querySelector('#chart-street'), rs);
        seriesChart(Chart, root.querySelector('#chart-series'), series, period);
        root.querySelector('#chart-series').dataset.ready = '1';
      } catch (e) { if (!gone) fail(e); }
    })();
    return () => {
      gone = true;
      while (charts.length) charts.pop().destroy();
      if (url) URL.revokeObjectURL(url);
    };
  },
};
