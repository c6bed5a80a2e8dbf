// 事件详情: the event, its timeline and attachments, and a form for each
// action this token may take now (the event's own actions, from
// core/access). Each form checks what the action needs before it is sent
// and shows the server's problem+json beside the field it names.
import { api, auth, onChanges } from './api.js';
import { h, clear, field, showErrors, toast, when } from './dom.js';
import { t, statusName } from './i18n.js';
import { left } from './queue.js';
import { pluginForms } from './forms.js';

const inputFor = {
  note: () => h('textarea', { rows: 2, cols: 40 }),
  reason: () => h('textarea', { rows: 2, cols: 40 }),
  handler: () => h('input', { size: 28, placeholder: t('dept:城管 / token:… / 行政区划代码') }),
  deadline: () => h('input', { type: 'datetime-local' }),
  passed: () => h('select', {}, h('option', { value: 'true' }, t('核查通过')), h('option', { value: 'false' }, t('核查未通过'))),
  satisfaction: () => h('select', {}, h('option', { value: 'satisfied' }, t('满意')), h('option', { value: 'basically_satisfied' }, t('基本满意')), h('option', { value: 'unsatisfied' }, t('不满意'))),
  into: () => h('input', { size: 28 }),
};
const fieldName = { note: t('备注'), reason: t('原因'), handler: t('处置部门'), deadline: t('时限'), passed: t('核查结果'), satisfaction: t('评价'), into: t('并入事件') };

function actionForm(ev, tr, reload) {
  const needs = tr.needs || [];
  // Every action may carry a note; the ones that need one ask for it.
  const names = needs.includes('note') ? needs : [...needs, 'note'];
  const inputs = Object.fromEntries(names.map(n => [n, inputFor[n] ? inputFor[n]() : h('input', {})]));
  const form = h('form', { class: 'card', dataset: { action: tr.action } }, h('b', {}, t(tr.name)), tr.detail ? h('span', { class: 'muted' }, ' ' + tr.detail) : '',
    names.map(n => field(fieldName[n] || n, inputs[n], n)),
    h('button', { type: 'submit', class: 'primary' }, t(tr.name)));
  form.addEventListener('submit', async e => {
    e.preventDefault();
    const body = { action: tr.action };
    for (const n of names) {
      let v = inputs[n].value.trim();
      if (!v) {
        if (needs.includes(n)) { showErrors(form, { field: n, message: (fieldName[n] || n) + t(' 必填') }); return; }
        continue;
      }
      if (n === 'passed') v = v === 'true';
      if (n === 'deadline') v = new Date(v).toISOString();
      body[n] = v;
    }
    try {
      await api(`/api/v1/events/${encodeURIComponent(ev.id)}/actions`, { method: 'POST', body });
      showErrors(form, null);
      toast(t(tr.name) + ' ✓');
      reload();
    } catch (err) { showErrors(form, err); }
  });
  return form;
}

async function attachments(ev) {
  const box = h('div', { class: 'thumbs' });
  for (const ref of ev.attachments || []) {
    const url = `/api/v1/events/${encodeURIComponent(ev.id)}/attachments/${encodeURIComponent(ref)}`;
    try {
      const resp = await api(url, { raw: true });
      const blob = await resp.blob();
      const obj = URL.createObjectURL(blob);
      box.append(blob.type.startsWith('image/') ? h('a', { href: obj, download: ref }, h('img', { src: obj, alt: ref }))
        : h('a', { href: obj, download: ref + '.pdf' }, ref));
    } catch (err) { box.append(h('span', { class: 'muted' }, ref + ': ' + err.message)); }
  }
  return box;
}

const urgencyName = { normal: t('一般'), urgent: t('紧急'), critical: t('特急') };
let categoryName = null;

export async function eventPage(main, r) {
  const id = r.arg;
  if (!categoryName) categoryName = Object.fromEntries(((await api('/api/v1/categories')).categories || []).map(c => [c.code, c.name]));
  const actionName = { report: t('上报'), ...Object.fromEntries(auth.me.actions.map(a => [a.action, a.name])) };
  const body = h('div', { id: 'event' });
  main.append(body);
  const forms = [...await pluginForms('report'), ...await pluginForms('event')];
  const reload = async () => {
    let ev;
    try { ev = await api('/api/v1/events/' + encodeURIComponent(id)); }
    catch (err) { clear(body, h('p', { class: 'card', id: 'event-missing' }, err.status === 404 ? t('没有找到') + ': ' + id : err.message)); return; }
    const l = left(ev, Date.now());
    const trs = auth.me.actions.filter(x => ev.actions.includes(x.action));
    clear(body,
      h('div', { class: 'row' },
        h('div', { class: 'card grow' },
          h('h2', {}, ev.id, ' ', h('span', { class: 'badge st-' + ev.status, id: 'event-status', dataset: { status: ev.status } }, statusName(ev.status))),
          ev.holder ? h('p', { class: 'overdue', id: 'holder' }, `${t('由上级办理')}: ${ev.holder}`) : '',
          h('p', {}, ev.description),
          h('table', {}, [
            [t('类别'), categoryName[ev.category] || ev.category], [t('紧急程度'), urgencyName[ev.urgency] || ev.urgency], [t('网格'), ev.grid || ''], [t('上报人'), [ev.reporter, ev.reporter_phone].filter(Boolean).join(' ')],
            [t('上报时间'), when(ev.reported_at)], [t('受理时限'), when(ev.accept_by)], [t('办结时限'), when(ev.deadline)],
            [t('剩余时限'), l.text], [t('处置部门'), ev.handler || ''], [t('督办'), ev.supervised || ''],
            [t('位置'), ev.location ? `${ev.location.lng.toFixed(5)}, ${ev.location.lat.toFixed(5)}` : ''],
          ].filter(([, v]) => v !== '' && v !== undefined).map(([k, v]) => h('tr', {}, h('th', {}, k), h('td', { class: k === t('剩余时限') && l.late ? 'overdue' : '' }, String(v))))),
          ev.returned ? h('p', { class: 'muted' }, `${t('退回')}: ${ev.returned.by} — ${ev.returned.reason}`) : '',
          renderExt(ev, forms),
          h('h3', {}, t('附件')), await attachments(ev)),
        h('div', { class: 'grow' },
          h('h3', {}, t('可办操作')),
          trs.length ? trs.map(tr => actionForm(ev, tr, reload)) : h('p', { class: 'muted', id: 'no-actions' }, t('无可办操作')))),
      h('div', { class: 'card' }, h('h3', {}, t('时间线')),
        h('ol', { class: 'timeline', id: 'timeline' }, (ev.timeline || []).map(e => h('li', {}, h('b', {}, when(e.at)), h('span', { class: 'badge', dataset: { action: e.action } }, t(actionName[e.action] || e.action)),
          ' ', e.from ? statusName(e.from) + ' → ' : '', e.to ? statusName(e.to) : '', ' ', h('span', { class: 'muted' }, e.actor), e.note ? ' — ' + e.note : '')))));
  };
  await reload();
  const off = onChanges(chs => { if (chs.some(c => c.kind === 'event' && (c.id === id || c.id === '*'))) reload(); });
  return off;
}

// renderExt shows an event's plugin fields as their plugin's form titles
// and schema describe them; fields no form names are shown as they are.
function renderExt(ev, forms) {
  const ext = ev.ext || {};
  if (!Object.keys(ext).length) return '';
  const out = h('div', { class: 'card', id: 'ext' });
  const shown = new Set();
  for (const f of forms) {
    // Plugin fields are stored as plugin:field.
    const rows = f.fields.filter(k => (f.plugin + ':' + k) in ext).map(k => {
      const key = f.plugin + ':' + k; shown.add(key);
      const s = (f.schema || {})[k] || {};
      return h('tr', { dataset: { ext: key } }, h('th', {}, s.title || k), h('td', {}, fmtValue(ext[key], s)));
    });
    if (rows.length) out.append(h('h4', {}, f.title), h('table', {}, rows));
  }
  const rest = Object.keys(ext).filter(k => !shown.has(k));
  if (rest.length) out.append(h('table', {}, rest.map(k => h('tr', {}, h('th', {}, k), h('td', {}, fmtValue(ext[k], {}))))));
  return out;
}

function fmtValue(v, s) {
  if (s.enum && s['x-names']) { const i = s.enum.indexOf(v); if (i >= 0) return s['x-names'][i]; }
  if (typeof v === 'boolean') return v ? t('是') : t('否');
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}
