// 实有人口 and 特殊人群: masked lists with visit due dates; a person's
// details only for roles that may reveal, after the purpose and legal
// basis are given (each reveal is audited by the server).
import { api, auth, qs, ndjson } from './api.js';
import { h, clear, field, showErrors, toast, when } from './dom.js';
import { t } from './i18n.js';
import { may } from './app.js';

const kinds = { registered: t('户籍人口'), floating: t('流动人口'), foreign: t('境外人员'), left_behind: t('留守人员') };
const bases = { visit: t('走访'), case_handling: t('案事件办理'), handover: t('人员转移交接'), statistics_review: t('统计核查'), other: t('其他') };

export async function peoplePage(main, r) {
  const due = h('input', { type: 'checkbox', id: 'due-only', checked: r.params.get('due') === 'true' });
  const list = h('div', { id: 'people' });
  const detail = h('div', { id: 'person' });
  const bar = h('div', { class: 'filters' }, h('label', {}, due, t('待走访')));
  if (may('report')) bar.append(importBox());
  main.append(bar, h('div', { class: 'row' }, h('div', { class: 'grow' }, list), h('div', { class: 'grow' }, detail)));
  const load = async () => {
    const q = { limit: 500 };
    if (due.checked) q.visits_due_before = new Date(Date.now() + 7 * 86400000).toISOString();
    const page = await api('/api/v1/people' + qs(q));
    const now = Date.now();
    clear(list, h('table', {}, h('tr', {}, h('th', {}, t('姓名')), h('th', {}, t('身份证号')), h('th', {}, t('类型')), h('th', {}, t('网格')), h('th', {}, t('待走访'))),
      (page.people || []).map(p => {
        const next = p.special && p.special.next_due ? new Date(p.special.next_due) : null;
        const late = next && next < now;
        return h('tr', { class: 'person-row', dataset: { id: p.id }, onclick: () => show(p.id) },
          h('td', {}, p.name_masked), h('td', {}, p.id_masked), h('td', {}, (kinds[p.kind] || p.kind) + (p.special ? ' · ' + t('特殊人群') : '')), h('td', {}, p.grid || ''),
          h('td', { class: late ? 'overdue' : '' }, next ? (late ? t('走访超期') + ' ' : '') + when(p.special.next_due) : ''));
      })));
  };
  const show = async id => {
    const p = await api('/api/v1/people/' + encodeURIComponent(id));
    clear(detail, h('div', { class: 'card' }, h('h3', {}, p.name_masked), h('p', {}, p.id_masked, ' · ', kinds[p.kind] || p.kind, ' · ', p.jurisdiction),
      p.special ? h('p', {}, t('特殊人群'), ': ', p.special.category || '', p.special.level ? ' · L' + p.special.level : '', ' · ', t('待走访'), ' ', when(p.special.next_due)) : '',
      may('reveal') ? revealForm(p) : h('p', { class: 'muted' }, t('无权访问')),
      may('reveal') && p.special ? handoverForm(p) : ''));
  };
  due.addEventListener('change', load);
  await load();
  if (r.params.get('id')) await show(r.params.get('id'));
}

// handoverForm hands a special-population subject over to a peer
// jurisdiction (人员衔接); the receiver accepts it on its 联动 page.
function handoverForm(p) {
  const to = h('input', { id: 'handover-to', size: 12, placeholder: '500110' });
  const deadline = h('input', { id: 'handover-deadline', type: 'date' });
  const note = h('input', { id: 'handover-note', size: 30 });
  const form = h('form', { id: 'handover-form' }, h('b', {}, t('人员衔接')), field(t('接收辖区'), to, 'to'), field(t('接收时限'), deadline, 'deadline'),
    field(t('说明'), note, 'note'), h('button', { type: 'submit', class: 'primary' }, t('转出')));
  form.addEventListener('submit', async e => {
    e.preventDefault();
    if (!to.value.trim()) { showErrors(form, { field: 'to', message: t('请填写接收辖区代码') }); return; }
    if (!deadline.value) { showErrors(form, { field: 'deadline', message: t('请填写接收时限') }); return; }
    try {
      // The deadline is the end of the chosen day, China time.
      const h1 = await api('/api/v1/handovers', { method: 'POST', body: { person: p.id, to: to.value.trim(),
        deadline: new Date(deadline.value + 'T23:59:59+08:00').toISOString(), note: note.value.trim() } });
      showErrors(form, null);
      form.dataset.handover = h1.id;
      toast('已转出，待对方接收');
    } catch (err) { showErrors(form, err); }
  });
  return form;
}

// revealForm asks the basis and purpose first; only then is the person
// opened.
function revealForm(p) {
  const basis = h('select', {}, Object.entries(bases).map(([k, v]) => h('option', { value: k }, v)));
  const purpose = h('input', { size: 30, id: 'reveal-purpose' });
  const out = h('div', { id: 'revealed' });
  const form = h('form', { id: 'reveal-form' }, h('b', {}, t('查看详情')), field(t('法律依据'), basis, 'basis'), field(t('用途'), purpose, 'purpose'),
    h('button', { type: 'submit', class: 'primary' }, t('查看详情')), out);
  form.addEventListener('submit', async e => {
    e.preventDefault();
    if (!purpose.value.trim()) { showErrors(form, { field: 'purpose', message: t('用途') + t(' 必填') }); return; }
    try {
      const v = await api('/api/v1/people/' + encodeURIComponent(p.id) + qs({ reveal: 'true', basis: basis.value, purpose: purpose.value.trim() }));
      showErrors(form, null);
      clear(out, h('p', {}, h('b', { id: 'revealed-name' }, v.revealed.name), ' ', v.revealed.id_number));
    } catch (err) { showErrors(form, err); }
  });
  return form;
}

// importBox uploads a 实有人口 table and shows the server's progress.
function importBox() {
  const file = h('input', { type: 'file', accept: '.xlsx,.csv' });
  const bar = h('div', {}); const prog = h('div', { class: 'progress', hidden: true }, bar);
  const msg = h('span', { class: 'muted' });
  file.addEventListener('change', async () => {
    const f = file.files[0]; if (!f) return;
    prog.hidden = false; bar.style.width = '2%';
    try {
      const csv = f.name.toLowerCase().endsWith('.csv');
      const last = await ndjson('/api/v1/people/import' + qs({ format: csv ? 'csv' : 'xlsx' }), f, csv ? 'text/csv' : 'application/octet-stream', line => {
        msg.textContent = `${t('进度')} ${line.done}`;
        bar.style.width = Math.min(98, 2 + line.done / 100) + '%';
      });
      bar.style.width = '100%';
      msg.textContent = `${t('导入')}: ${last.imported}, ✗ ${(last.refused || []).length}`;
    } catch (err) { toast(err.message, true); }
  });
  return h('label', {}, t('导入'), file, prog, msg);
}
