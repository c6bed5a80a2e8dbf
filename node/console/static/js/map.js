// 一张图: the jurisdiction's and its grids' own outlines (no tile server),
// events as pins coloured by state and deadline, a heat map, a grid's
// workers, party branch and figures on a click, and reporting by clicking
// the map. Drawn on one canvas so a county's grids take milliseconds.
import { api, auth, qs, onChanges } from './api.js';
import { h, toast, field, showErrors } from './dom.js';
import { t, statusName } from './i18n.js';
import { go } from './app.js';
import { pluginForms, formInputs } from './forms.js';

const colour = { reported: '#ed6c02', accepted: '#1565c0', dispatched: '#6a1b9a', in_progress: '#6a1b9a', resolved: '#00897b', closed: '#2e7d32', escalated: '#ad1457' };

export async function mapPage(main) {
  const t0 = performance.now();
  const reporting = h('input', { type: 'checkbox', id: 'report-mode' });
  const heatOn = h('input', { type: 'checkbox', id: 'heat' });
  const info = h('span', { class: 'muted', id: 'map-info' });
  const bar = h('div', { class: 'filters' }, h('label', {}, reporting, t('上报事件'), h('span', { class: 'muted' }, ' (' + t('在地图上点击选择位置') + ')')),
    h('label', {}, heatOn, t('热力图')), info);
  const box = h('div', { id: 'map' });
  main.append(bar, box);
  const renderer = L.canvas({ padding: 0.2 });
  const map = L.map(box, { preferCanvas: true, renderer, zoomSnap: 0.25, attributionControl: false });
  box.leaflet = map; // for the browser tests and the devtools console
  const scope = auth.me.token.scope.length <= 12 ? auth.me.token.scope : auth.me.token.scope.slice(0, 12);
  const grids = L.layerGroup().addTo(map), outlines = L.layerGroup().addTo(map), pins = L.layerGroup().addTo(map);
  let heat = null, bounds = null;

  // Outlines of the jurisdiction and its children.
  try {
    const j = await api('/api/v1/jurisdictions/' + scope + '?bounds=true');
    for (const [code, mp] of Object.entries(j.bounds || {})) {
      const layer = L.geoJSON({ type: 'MultiPolygon', coordinates: mp }, { renderer, interactive: false,
        style: { color: code === j.code ? '#b3261e' : '#8d6e63', weight: code === j.code ? 3 : 1.5, fill: false, dashArray: code === j.code ? null : '4 3' } });
      outlines.addLayer(layer);
      bounds = bounds ? bounds.extend(layer.getBounds()) : layer.getBounds();
    }
  } catch (e) { /* a grid-scoped token: its grid is the map */ }

  // Grids, every page.
  let next = '', n = 0;
  do {
    const fc = await api('/api/v1/grids' + qs({ jurisdiction: auth.me.token.scope.length > 12 ? '' : scope, limit: 1000, cursor: next }));
    const layer = L.geoJSON(fc, { renderer, style: { color: '#1565c0', weight: 1, fillOpacity: 0.06 },
      onEachFeature: (f, l) => l.on('click', e => { if (!reporting.checked) gridPopup(map, f, e.latlng); }) });
    grids.addLayer(layer);
    n += fc.features.length;
    if (fc.features.length) bounds = bounds ? bounds.extend(layer.getBounds()) : layer.getBounds();
    next = fc.next || '';
  } while (next);
  if (bounds) map.fitBounds(bounds); else map.setView([29.03, 106.65], 10);
  const drawn = Math.round(performance.now() - t0);
  box.dataset.grids = n; box.dataset.drawnMs = drawn;
  info.textContent = `${t('网格')} ${n} · ${drawn} ms`;

  // Events: the open ones and the latest closed, as pins and heat.
  const loadPins = async () => {
    const page = await api('/api/v1/events' + qs({ sort: 'newest', limit: 500 }));
    pins.clearLayers();
    const pts = [];
    for (const ev of page.events || []) {
      if (!ev.location) continue;
      const late = ev.overdue || (ev.status !== 'closed' && new Date(ev.deadline) < Date.now());
      const m = L.circleMarker([ev.location.lat, ev.location.lng], { renderer, radius: late ? 8 : 6, color: late ? '#b3261e' : '#fff', weight: late ? 3 : 1,
        fillColor: colour[ev.status] || '#555', fillOpacity: 0.9 });
      m.bindTooltip(`${ev.id} ${statusName(ev.status)} ${ev.description.slice(0, 30)}`);
      m.on('click', () => go('event/' + ev.id));
      pins.addLayer(m);
      pts.push([ev.location.lat, ev.location.lng, 0.6]);
    }
    box.dataset.pins = pins.getLayers().length;
    if (heat) map.removeLayer(heat);
    heat = L.heatLayer(pts, { radius: 25 });
    if (heatOn.checked) heat.addTo(map);
  };
  heatOn.addEventListener('change', () => { if (heat) heatOn.checked ? heat.addTo(map) : map.removeLayer(heat); });
  await loadPins();

  // Report by clicking the map.
  map.on('click', async e => {
    if (!reporting.checked) return;
    const cats = (await api('/api/v1/categories')).categories || [];
    const cat = h('select', { id: 'report-category' }, cats.map(c => h('option', { value: c.code }, c.name)));
    const desc = h('textarea', { id: 'report-description', rows: 3, cols: 30 });
    const extra = (await pluginForms('report')).map(formInputs);
    const form = h('form', { id: 'report-form' }, field(t('类别'), cat, 'category'), field(t('描述'), desc, 'description'),
      extra.map(x => x.box), h('button', { class: 'primary', type: 'submit' }, t('提交')));
    const pop = L.popup().setLatLng(e.latlng).setContent(form).openOn(map);
    form.addEventListener('submit', async ev => {
      ev.preventDefault();
      try {
        const ext = Object.assign({}, ...extra.map(x => x.values()));
        const made = await api('/api/v1/events', { method: 'POST', body: { category: cat.value, description: desc.value.trim(),
          location: { lng: e.latlng.lng, lat: e.latlng.lat }, source: 'grid_worker', ...(Object.keys(ext).length ? { ext } : {}) } });
        map.closePopup(pop);
        toast(`${t('上报事件')}: ${made.id}`);
        box.dataset.reported = made.id;
        loadPins();
      } catch (err) { showErrors(form, err); }
    });
  });
  let pending = null;
  const off = onChanges(chs => { if (chs.some(c => c.kind === 'event') && !pending) pending = setTimeout(() => { pending = null; loadPins(); }, 500); });
  return () => { off(); if (pending) clearTimeout(pending); map.remove(); };
}

async function gridPopup(map, f, at) {
  const p = f.properties;
  const body = h('div', { class: 'grid-popup' }, h('b', {}, p.name), ' ', h('span', { class: 'muted' }, p.code));
  const pop = L.popup({ maxWidth: 360 }).setLatLng(at).setContent(body).openOn(map);
  body.append(h('div', {}, t('网格员') + ': ' + ((p.workers || []).map(w => `${w.worker}(${{ grid_leader: t('网格长'), full_time: t('专职'), part_time: t('兼职') }[w.role] || w.role})`).join('、') || t('无'))));
  try {
    const orgs = await api('/api/v1/party/orgs' + qs({ jurisdiction: p.jurisdiction, limit: 500 }));
    const mine = (orgs.orgs || []).filter(o => (o.grids || []).includes(p.code));
    body.append(h('div', {}, t('党组织') + ': ' + (mine.map(o => o.name).join('、') || t('无'))));
  } catch (e) { /* no party reading for this role */ }
  try {
    const s = await api('/api/v1/stats' + qs({ grid: p.code }));
    body.append(h('div', {}, `${t('三率')}: 响应 ${(s.response_rate * 100).toFixed(0)}% · 解决 ${(s.resolution_rate * 100).toFixed(0)}% · 满意 ${(s.satisfaction_rate * 100).toFixed(0)}% (${s.reported})`));
  } catch (e) { body.append(h('div', { class: 'muted' }, e.message)); }
  pop.update();
}
