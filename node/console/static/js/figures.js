// 数据: 三率 now, the monthly 通报 ranking, trends by month and by grid,
// as charts; each with an export of the same figures.
import { api, auth, qs, onChanges, download } from './api.js';
import { h, toast } from './dom.js';
import { t } from './i18n.js';

const pct = x => Math.round((x || 0) * 1000) / 10;
function months(n) {
  const out = []; const d = new Date(Date.now() + 8 * 3600000);
  for (let i = n - 1; i >= 0; i--) { const m = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - i, 1)); out.push(m.getUTCFullYear() + String(m.getUTCMonth() + 1).padStart(2, '0')); }
  return out;
}
function exportButton(path, name) {
  return h('button', { type: 'button', onclick: async () => { try { await download(path, name); } catch (e) { toast(e.message, true); } } }, t('导出'));
}

export async function figuresPage(main) {
  const scope = auth.me.token.scope.length <= 12 ? auth.me.token.scope : '';
  const kpis = h('div', { class: 'card', id: 'kpis' });
  const trend = h('div', { class: 'chart', id: 'trend' }), bulletin = h('div', { class: 'chart', id: 'bulletin-chart' });
  const byGrid = h('div', { class: 'chart', id: 'grid-chart' });
  main.append(kpis,
    h('div', { class: 'row' },
      h('div', { class: 'card grow' }, h('h3', {}, t('月度趋势'), ' ', exportButton('/api/v1/stats/export' + qs({ jurisdiction: scope, format: 'xlsx' }), 'figures.xlsx')), trend),
      h('div', { class: 'card grow' }, h('h3', {}, t('月度通报'), ' ', exportButton('/api/v1/bulletin/export' + qs({ jurisdiction: scope, period: months(1)[0], format: 'xlsx' }), 'bulletin.xlsx')), bulletin)),
    h('div', { class: 'card' }, h('h3', {}, t('按网格'), ' ', exportButton('/api/v1/bulletin/export' + qs({ jurisdiction: scope, period: months(1)[0], by: 'grid', format: 'xlsx' }), 'grids.xlsx')), byGrid));
  const charts = [echarts.init(trend), echarts.init(bulletin), echarts.init(byGrid)];
  const drawKpis = async () => {
    const s = await api('/api/v1/stats' + qs({ jurisdiction: scope, source: 'local' }));
    kpis.replaceChildren(h('h3', {}, t('三率')),
      ...[[t('上报'), s.reported, 'reported'], [t('响应率'), pct(s.response_rate) + '%', 'response'], [t('解决率'), pct(s.resolution_rate) + '%', 'resolution'],
        [t('满意率'), pct(s.satisfaction_rate) + '%', 'satisfaction'], [t('已结案'), (s.by_status || {}).closed || 0, 'closed'], [t('超期'), s.overdue, 'overdue']]
        .map(([k, v, id]) => h('span', { class: 'kpi', dataset: { kpi: id } }, h('b', {}, String(v)), k)));
  };
  const drawTrend = async () => {
    const ms = months(6);
    const rows = await Promise.all(ms.map(p => api('/api/v1/stats' + qs({ jurisdiction: scope, period: p })).catch(() => ({}))));
    charts[0].setOption({ tooltip: { trigger: 'axis' }, legend: {}, xAxis: { type: 'category', data: ms }, yAxis: [{ type: 'value' }, { type: 'value', max: 100 }],
      series: [{ name: t('上报'), type: 'bar', data: rows.map(r => r.reported || 0) },
        { name: t('解决率'), type: 'line', yAxisIndex: 1, data: rows.map(r => pct(r.resolution_rate)) },
        { name: t('满意率'), type: 'line', yAxisIndex: 1, data: rows.map(r => pct(r.satisfaction_rate)) }] });
  };
  const drawBulletin = async () => {
    try {
      const b = await api('/api/v1/bulletin' + qs({ jurisdiction: scope, period: months(1)[0] }));
      const rows = (b.rows || []).slice(0, 20);
      bulletin.style.height = Math.max(300, rows.length * 24 + 60) + 'px'; // a row per unit, legible
      charts[1].resize();
      charts[1].setOption({ tooltip: {}, grid: { left: 140 }, xAxis: { type: 'value', max: 100 }, yAxis: { type: 'category', axisLabel: { interval: 0 }, data: rows.map(r => r.name || r.unit).reverse() },
        series: [{ name: t('按期办结率'), type: 'bar', data: rows.map(r => pct(r.on_time_rate)).reverse() }] });
    } catch (e) { bulletin.textContent = e.message; }
  };
  // By grid: this month's busiest grids, reported and closed.
  const drawGrids = async () => {
    try {
      const b = await api('/api/v1/bulletin' + qs({ jurisdiction: scope, period: months(1)[0], by: 'grid' }));
      const rows = (b.rows || []).slice().sort((x, y) => y.reported - x.reported).slice(0, 30);
      charts[2].setOption({ tooltip: { trigger: 'axis' }, legend: {}, grid: { bottom: 90 },
        xAxis: { type: 'category', axisLabel: { interval: 0, rotate: 45 }, data: rows.map(r => r.name || r.unit) }, yAxis: { type: 'value' },
        series: [{ name: t('上报'), type: 'bar', data: rows.map(r => r.reported) }, { name: t('已结案'), type: 'bar', data: rows.map(r => r.closed) }] });
    } catch (e) { byGrid.textContent = e.message; }
  };
  await Promise.all([drawKpis(), drawTrend(), drawBulletin(), drawGrids()]);
  let pending = null;
  const off = onChanges(chs => { if (chs.some(c => c.kind === 'event') && !pending) pending = setTimeout(() => { pending = null; drawKpis(); }, 300); });
  const resize = () => charts.forEach(c => c.resize());
  window.addEventListener('resize', resize);
  return () => { off(); window.removeEventListener('resize', resize); charts.forEach(c => c.dispose()); };
}
