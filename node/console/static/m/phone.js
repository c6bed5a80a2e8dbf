// 网格员端: my grid, report with a photo and the phone's location, my
// queue, visits due and the 日排查 checklist. Every report goes through the
// outbox first, so one made without a connection waits and is sent when
// the connection returns, under the Idempotency-Key it was made with.
import { api, auth, setToken, clearToken, qs, ApiError } from '/js/api.js';
import { h, clear, field, showErrors, toast, when } from '/js/dom.js';
import { outbox, newKey } from '/m/outbox.js';

const tabs = [['grid', '我的网格'], ['report', '上报'], ['queue', '待办'], ['visits', '待走访'], ['check', '日排查']];
const main = document.getElementById('main');
const net = document.getElementById('net');

// The phone keeps its token across app restarts (a worker on patrol
// cannot sign in at every launch); signing out removes it.
if (!auth.token && localStorage.getItem('fq.m.token')) setToken(localStorage.getItem('fq.m.token'));

function showNet() {
  outbox.all().then(items => {
    net.textContent = (navigator.onLine ? '在线' : '离线') + (items.length ? ` · 离线待同步 ${items.length}` : '');
    net.className = navigator.onLine ? '' : 'off';
    net.dataset.pending = items.length;
  });
}

let syncing = null;
// sync sends what waits in the outbox, oldest first; one sync at a time
// here, and the keys make any overlap (another tab, a retry) harmless.
export function sync() {
  if (syncing) return syncing;
  syncing = (async () => {
    let sent = 0;
    for (const it of await outbox.all()) {
      try {
        const report = { ...it.report };
        if (it.photo) {
          const a = await api('/api/v1/attachments', { method: 'POST', body: it.photo, headers: { 'Content-Type': it.photo.type || 'image/jpeg', 'Idempotency-Key': it.key + '.photo' } });
          report.attachments = [a.ref];
        }
        const ev = await api('/api/v1/events', { method: 'POST', body: report, headers: { 'Idempotency-Key': it.key } });
        await outbox.remove(it.local);
        sent++;
        document.body.dataset.lastSynced = ev.id;
      } catch (err) {
        if (err instanceof ApiError && err.status >= 400 && err.status < 500 && err.status !== 401 && err.status !== 429) {
          // The server refused the report itself: keep it with the reason
          // so the worker can see it, and go on with the others.
          it.error = err.message;
          await outbox.remove(it.local); await outbox.add(it);
          continue;
        }
        break; // offline or the server is away: try again later
      }
    }
    if (sent) toast(`已同步 ${sent}`);
    showNet();
  })().finally(() => { syncing = null; });
  return syncing;
}
window.addEventListener('online', () => { showNet(); sync(); });
window.addEventListener('offline', showNet);

function nav(on) {
  const el = document.getElementById('tabs');
  clear(el, auth.me ? tabs.map(([k, name]) => h('a', { href: '#' + k, class: on === k ? 'on' : '', id: 'tab-' + k }, name)) : []);
}

async function render() {
  if (!auth.me && auth.token) { try { auth.me = await api('/api/v1/session'); } catch (e) { if (e instanceof ApiError) clearToken(); } }
  const tab = location.hash.slice(1) || 'report';
  nav(tab);
  clear(main);
  showNet();
  if (!auth.me) return signin();
  const pages = { grid: gridTab, report: reportTab, queue: queueTab, visits: visitsTab, check: checkTab };
  try { await (pages[tab] || reportTab)(); } catch (e) { main.append(h('p', { class: 'muted' }, e.message)); }
}

function signin() {
  const tok = h('input', { type: 'password', id: 'token', autocomplete: 'off' });
  const form = h('form', { id: 'signin' }, field('令牌', tok, 'authorization'), h('button', { class: 'primary', type: 'submit' }, '登录'));
  form.addEventListener('submit', async e => {
    e.preventDefault();
    setToken(tok.value.trim());
    try { auth.me = await api('/api/v1/session'); localStorage.setItem('fq.m.token', auth.token); render(); sync(); }
    catch (err) { clearToken(); showErrors(form, err); }
  });
  main.append(form);
}

function myGrid() { return auth.me.token.scope.length > 12 ? auth.me.token.scope : ''; }

async function gridTab() {
  const code = myGrid();
  if (!code) { main.append(h('p', {}, `${auth.me.scope_name || auth.me.token.scope}`)); return; }
  const g = await api('/api/v1/grids/' + code);
  const p = g.properties || g;
  main.append(h('div', { class: 'card', id: 'my-grid' }, h('h3', {}, p.name), h('p', { class: 'muted' }, p.code),
    h('p', {}, '网格员：', (p.workers || []).map(w => w.worker).join('、') || '无')));
  try { const s = await api('/api/v1/stats' + qs({ grid: code })); main.append(h('p', {}, `上报 ${s.reported} · 解决率 ${Math.round(s.resolution_rate * 100)}%`)); } catch (e) { /* figures are optional here */ }
  main.append(h('button', { type: 'button', onclick: () => { clearToken(); localStorage.removeItem('fq.m.token'); render(); } }, '退出'));
}

function here() {
  return new Promise(resolve => {
    if (!navigator.geolocation) return resolve(null);
    navigator.geolocation.getCurrentPosition(p => resolve({ lng: p.coords.longitude, lat: p.coords.latitude }), () => resolve(null), { timeout: 8000, maximumAge: 60000 });
  });
}

async function reportTab() {
  let cats = JSON.parse(localStorage.getItem('fq.m.cats') || '[]');
  try { cats = (await api('/api/v1/categories')).categories; localStorage.setItem('fq.m.cats', JSON.stringify(cats)); } catch (e) { /* offline: the last list */ }
  const cat = h('select', { id: 'category' }, cats.map(c => h('option', { value: c.code }, c.name)));
  const desc = h('textarea', { id: 'description', rows: 4 });
  const photo = h('input', { type: 'file', accept: 'image/*', capture: 'environment', id: 'photo' });
  const where = h('p', { class: 'muted', id: 'where' }, '定位中…');
  let loc = null, shot = null;
  here().then(p => { loc = p; where.textContent = p ? `位置 ${p.lng.toFixed(5)}, ${p.lat.toFixed(5)}` : '无法定位：将按我的网格上报'; });
  photo.addEventListener('change', async () => {
    const f = photo.files[0];
    // The place and time the photo was taken travel with the report.
    shot = f ? { taken_at: new Date(f.lastModified || Date.now()).toISOString(), ...(await here() || {}) } : null;
  });
  const form = h('form', { id: 'report' }, field('类别', cat, 'category'), field('描述', desc, 'description'), field('拍照', photo, 'attachments'), where,
    h('button', { class: 'primary', type: 'submit' }, '提交'));
  form.addEventListener('submit', async e => {
    e.preventDefault();
    if (!desc.value.trim()) { showErrors(form, { field: 'description', message: '请描述事件' }); return; }
    const report = { category: cat.value, description: desc.value.trim(), source: 'grid_worker' };
    if (loc) report.location = loc; else if (myGrid()) report.grid = myGrid(); else report.jurisdiction = auth.me.token.scope;
    if (shot) report.ext = { photo: shot };
    await outbox.add({ key: newKey(), report, photo: photo.files[0] || null, made: new Date().toISOString() });
    desc.value = ''; photo.value = '';
    toast(navigator.onLine ? '提交中…' : '已保存，联网后自动上报');
    showNet();
    if (navigator.onLine) await sync();
    render();
  });
  main.append(form);
  const waiting = await outbox.all();
  if (waiting.length) main.append(h('div', { class: 'pending', id: 'outbox' }, h('b', {}, `离线待同步 ${waiting.length}`),
    waiting.map(w => h('div', {}, w.report.description.slice(0, 40), w.error ? h('span', { class: 'overdue' }, ' ' + w.error) : '')),
    h('button', { type: 'button', id: 'sync', onclick: () => sync().then(render) }, '立即同步')));
}

async function queueTab() {
  const page = await api('/api/v1/events' + qs({ mine: 'true', sort: 'oldest', limit: 100 }));
  main.append(h('div', { id: 'my-queue' }, (page.events || []).map(ev => h('div', { class: 'card' }, h('b', {}, ev.description.slice(0, 60)),
    h('p', { class: 'muted' }, ev.id, ' · ', when(ev.deadline), ev.overdue ? h('span', { class: 'overdue' }, ' 已超期') : ''))),
    (page.events || []).length ? '' : h('p', { class: 'muted' }, '没有待办')));
}

async function visitsTab() {
  const page = await api('/api/v1/people' + qs({ visits_due_before: new Date(Date.now() + 7 * 86400000).toISOString(), limit: 100 }));
  main.append(h('div', { id: 'visits' }, (page.people || []).map(p => h('div', { class: 'item' }, h('span', {}, p.name_masked),
    h('span', { class: p.special && new Date(p.special.next_due) < Date.now() ? 'overdue' : 'muted' }, when(p.special && p.special.next_due)))),
    (page.people || []).length ? '' : h('p', { class: 'muted' }, '近期没有待走访')));
}

// 日排查: the 綦江 plugin's checklist, offered where the plugin runs (its
// routes are in the API document), with the items it is configured with.
async function checkTab() {
  const doc = await fetch('/api/v1/openapi.json').then(r => r.json());
  if (!doc.paths['/api/v1/plugins/qijiang/checklists/{grid}'] || !doc.paths['/api/v1/plugins/qijiang/items'] || !myGrid()) {
    main.append(h('p', { class: 'muted' }, '本辖区未启用日排查')); return;
  }
  const { items } = await api('/api/v1/plugins/qijiang/items');
  const boxes = items.map(it => ({ it, ok: h('input', { type: 'checkbox', checked: true }), note: h('input', { placeholder: '情况' }) }));
  const form = h('form', { id: 'checklist' }, boxes.map(b => h('label', { class: 'item' }, b.ok, h('span', {}, b.it), b.note)), h('button', { class: 'primary', type: 'submit' }, '提交日排查'));
  form.addEventListener('submit', async e => {
    e.preventDefault();
    const date = new Date(Date.now() + 8 * 3600000).toISOString().slice(0, 10);
    try {
      await api(`/api/v1/plugins/qijiang/checklists/${myGrid()}`, { method: 'POST', body: { date, items: boxes.map(b => ({ item: b.it, ok: b.ok.checked, note: b.note.value.trim() || undefined })), risks: [] } });
      toast('日排查已提交');
    } catch (err) { showErrors(form, err); }
  });
  main.append(form);
}

if ('serviceWorker' in navigator) navigator.serviceWorker.register('/m/sw.js', { scope: '/m/' }).catch(() => {});
window.addEventListener('hashchange', render);
render().then(() => { if (navigator.onLine) sync(); });
