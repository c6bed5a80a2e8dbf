// 工作台: the caller's queue or the jurisdiction's, filtered from the URL,
// kept live by the change feed, with bulk actions. Only the rows in view
// are in the DOM, so a queue of thousands scrolls smoothly.
import { api, auth, qs, onChanges, download } from './api.js';
import { h, clear, toast, when } from './dom.js';
import { t, statusName, statuses } from './i18n.js';
import { go } from './app.js';

const ROW = 36, MAXLOAD = 5000;
const keys = ['mine', 'status', 'category', 'grid', 'urgency', 'overdue', 'supervised', 'from', 'to', 'q'];

export function left(ev, now) {
  const due = new Date(ev.status === 'reported' ? ev.accept_by : ev.deadline);
  if (['closed', 'rejected', 'merged'].includes(ev.status) || isNaN(due)) return { text: '', late: false };
  const ms = due - now, late = ms < 0 || ev.overdue;
  const a = Math.abs(ms), d = Math.floor(a / 86400000), hh = Math.floor(a % 86400000 / 3600000), mm = Math.floor(a % 3600000 / 60000);
  const span = d ? `${d}${t('天')}${hh}${t('小时')}` : hh ? `${hh}${t('小时')}${mm}${t('分钟')}` : `${mm}${t('分钟')}`;
  return { text: late ? `${t('已超期')} ${span}` : span, late };
}

export async function queuePage(main, r) {
  const p = r.params;
  const cats = (await api('/api/v1/categories')).categories || [];
  const catName = Object.fromEntries(cats.map(c => [c.code, c.name]));
  const inputs = {
    mine: h('select', {}, h('option', { value: '' }, t('辖区全部')), h('option', { value: 'true' }, t('我的待办'))),
    status: h('select', {}, h('option', { value: '' }, t('全部')), statuses.map(s => h('option', { value: s }, statusName(s)))),
    category: h('select', {}, h('option', { value: '' }, t('全部')), cats.map(c => h('option', { value: c.code }, c.name))),
    grid: h('input', { size: 16, placeholder: t('网格') }),
    urgency: h('select', {}, h('option', { value: '' }, t('全部')), ['normal', 'urgent', 'critical'].map(u => h('option', { value: u }, { normal: t('一般'), urgent: t('紧急'), critical: t('特急') }[u]))),
    overdue: h('input', { type: 'checkbox' }),
    supervised: h('input', { type: 'checkbox' }),
    from: h('input', { type: 'date' }),
    to: h('input', { type: 'date' }),
    q: h('input', { type: 'search', size: 14, placeholder: t('搜索') }),
  };
  for (const k of keys) {
    const v = p.get(k) || '';
    if (inputs[k].type === 'checkbox') inputs[k].checked = v === 'true'; else inputs[k].value = v;
  }
  const apply = () => {
    const np = new URLSearchParams();
    for (const k of keys) {
      const el = inputs[k];
      const v = el.type === 'checkbox' ? (el.checked ? 'true' : '') : el.value.trim();
      if (v) np.set(k, v);
    }
    go('queue', np); // the view lives in the URL: bookmark it, share it
  };
  const filters = h('form', { class: 'filters', id: 'filters', onsubmit: e => { e.preventDefault(); apply(); } },
    inputs.mine,
    h('label', {}, t('状态'), inputs.status), h('label', {}, t('类别'), inputs.category), inputs.grid,
    h('label', {}, t('紧急程度'), inputs.urgency),
    h('label', {}, inputs.overdue, t('超期')), h('label', {}, inputs.supervised, t('督办')),
    h('label', {}, t('开始'), inputs.from), h('label', {}, t('结束'), inputs.to), inputs.q,
    h('button', { type: 'submit', class: 'primary' }, t('搜索')));
  for (const el of Object.values(inputs)) if (el.tagName === 'SELECT' || el.type === 'checkbox') el.addEventListener('change', apply);

  const query = () => {
    const o = {};
    for (const k of ['mine', 'status', 'category', 'grid', 'urgency', 'supervised', 'overdue', 'from', 'to', 'q']) if (p.get(k)) o[k] = p.get(k);
    // Newest first, except overdue, which the server lists by place.
    if (!o.q && !o.overdue) o.sort = 'newest';
    return o;
  };
  let events = [];
  const selected = new Set();
  const count = h('span', { class: 'muted', id: 'count' });
  const list = h('div', { class: 'vlist', id: 'queue' });
  const head = h('div', { class: 'vhead' }, h('input', { type: 'checkbox', onchange: e => { for (const ev of events) e.target.checked ? selected.add(ev.id) : selected.delete(ev.id); draw(); } }),
    h('span', {}, t('编号')), h('span', {}, t('状态')), h('span', {}, t('类别')), h('span', {}, t('描述')), h('span', {}, t('剩余时限')), h('span', {}, t('上报时间')));
  const spacer = h('div', {});
  const rows = h('div', {});
  list.append(head, spacer, rows);

  const draw = () => {
    spacer.style.height = (events.length * ROW) + 'px';
    const top = Math.max(0, Math.floor(list.scrollTop / ROW) - 5);
    const n = Math.ceil(list.clientHeight / ROW) + 10;
    const now = Date.now();
    clear(rows);
    for (let i = top; i < Math.min(events.length, top + n); i++) {
      const ev = events[i], l = left(ev, now);
      const box = h('input', { type: 'checkbox', checked: selected.has(ev.id), onclick: e => e.stopPropagation(),
        onchange: e => { e.target.checked ? selected.add(ev.id) : selected.delete(ev.id); bulkCount(); } });
      rows.append(h('div', { class: 'vrow' + (l.late ? ' overdue-row' : ''), style: `top:${32 + i * ROW}px`, dataset: { id: ev.id, status: ev.status },
        onclick: () => go('event/' + ev.id) },
        box, h('span', {}, ev.id), h('span', {}, h('span', { class: 'badge st-' + ev.status }, statusName(ev.status))),
        h('span', {}, catName[ev.category] || ev.category), h('span', { title: ev.description }, (ev.supervised ? t('【督办】') : '') + ev.description),
        h('span', { class: l.late ? 'overdue' : '' }, l.text), h('span', {}, when(ev.reported_at))));
    }
    bulkCount();
  };
  list.addEventListener('scroll', () => requestAnimationFrame(draw));
  const tick = setInterval(draw, 30000); // countdowns move

  const load = async () => {
    let next = '', all = [];
    do {
      const page = await api('/api/v1/events' + qs({ ...query(), limit: 500, cursor: next }));
      all = all.concat(page.events || []);
      next = page.next || '';
    } while (next && all.length < MAXLOAD);
    events = all;
    count.textContent = `${t('共')} ${events.length}`;
    for (const id of [...selected]) if (!events.some(e => e.id === id)) selected.delete(id);
    draw();
  };

  // Bulk actions the role may take (from the session).
  const mayDo = a => auth.me.actions.some(x => x.action === a);
  const bulkActs = ['accept', 'dispatch', 'comment'].filter(mayDo);
  const act = h('select', { id: 'bulk-action' }, bulkActs.map(a => h('option', { value: a }, t(auth.me.actions.find(x => x.action === a).name))));
  const handler = h('input', { id: 'bulk-handler', size: 14, placeholder: t('处置部门') });
  const reason = h('input', { id: 'bulk-reason', size: 24, placeholder: t('原因') });
  const sel = h('span', { class: 'muted' });
  const bulkCount = () => { sel.textContent = `${t('已选')} ${selected.size}`; };
  const bulk = h('form', { class: 'filters', id: 'bulk', onsubmit: async e => {
    e.preventDefault();
    if (!reason.value.trim()) { toast(t('原因') + '?', true); reason.focus(); return; }
    const body = { action: act.value, note: reason.value.trim() };
    if (act.value === 'dispatch') body.handler = handler.value.trim();
    let okN = 0;
    for (const id of [...selected]) {
      try { await api(`/api/v1/events/${encodeURIComponent(id)}/actions`, { method: 'POST', body }); okN++; selected.delete(id); }
      catch (err) { toast(`${id}: ${err.message}`, true); }
    }
    toast(`${auth.me.actions.find(x => x.action === act.value).name} ×${okN}`);
    load();
  } }, h('b', {}, t('批量')), sel, act, handler, reason, h('button', { type: 'submit' }, t('执行')));
  const exp = h('button', { type: 'button', onclick: async () => {
    const bar = h('div', {}); const prog = h('div', { class: 'progress' }, bar); exp.after(prog);
    try { await download('/api/v1/events/export' + qs({ ...query(), format: 'xlsx' }), 'events.xlsx', (got) => { bar.style.width = Math.min(100, got / 2e4) + '%'; }); }
    catch (err) { toast(err.message, true); }
    bar.style.width = '100%'; setTimeout(() => prog.remove(), 1500);
  } }, t('导出'));

  main.append(filters, bulkActs.length ? bulk : '', h('div', { class: 'filters' }, count, exp), list);
  await load();
  // Live: a change to an event reloads the list (at most every 500 ms).
  let pending = null;
  const off = onChanges(chs => {
    if (!chs.some(c => c.kind === 'event')) return;
    if (pending) return;
    pending = setTimeout(() => { pending = null; load(); }, 300);
  });
  return () => { off(); clearInterval(tick); if (pending) clearTimeout(pending); };
}
