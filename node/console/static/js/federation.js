// 联动: members and who leads each group, link lag and outbox depth, and
// cross-region cases (跨区域互涉案事件) with their shared timeline.
import { api, qs, onChanges } from './api.js';
import { h, clear, field, showErrors, toast, when } from './dom.js';
import { t } from './i18n.js';
import { may, go } from './app.js';

export async function federationPage(main, r) {
  let offHandovers = null;
  if (may('cluster_read')) {
    try {
      const m = await api('/api/v1/federation/members');
      main.append(h('div', { class: 'card', id: 'members' }, h('h3', {}, t('成员与领导者')),
        h('table', {}, h('tr', {}, h('th', {}, t('辖区')), h('th', {}, 'leader')),
          Object.entries(m.leaders || {}).sort().map(([code, name]) => h('tr', {}, h('td', {}, code), h('td', {}, name)))),
        h('p', { class: 'muted' }, `${(m.members || []).length} members`)));
      const l = await api('/api/v1/federation/links');
      main.append(h('div', { class: 'card', id: 'links' }, h('h3', {}, t('链路')),
        h('table', {}, h('tr', {}, h('th', {}, 'peer'), h('th', {}, 'relation'), h('th', {}, 'sent/acked'), h('th', {}, t('积压')), h('th', {}, t('时延')), h('th', {}, 'refused')),
          (l.links || []).map(x => h('tr', {}, h('td', {}, x.peer), h('td', {}, x.relation), h('td', {}, `${x.sent}/${x.acked}`), h('td', {}, String(x.depth)),
            h('td', { class: x.depth ? 'overdue' : '' }, x.oldest ? Math.round((Date.now() - new Date(x.oldest)) / 1000) + ' s' : '0'), h('td', {}, String(x.refused)))))));
    } catch (e) { main.append(h('p', { class: 'muted' }, e.message)); }
  }
  if (may('reveal')) {
    // 衔接: special-population subjects handed over between jurisdictions;
    // an incoming one waits here to be accepted before its deadline.
    const box = h('div', { class: 'card', id: 'handovers' });
    main.append(box);
    const loadHandovers = async () => {
      try {
        const hs = (await api('/api/v1/handovers')).handovers || [];
        clear(box, h('h3', {}, t('人员衔接')), hs.length ? h('table', {}, h('tr', {}, h('th', {}, t('方向')), h('th', {}, t('对象')), h('th', {}, t('转出 → 接收')), h('th', {}, t('办结时限')), h('th', {}, t('状态')), h('th', {})),
          hs.map(x => h('tr', { class: 'handover-row', dataset: { id: x.id, status: x.status } },
            h('td', {}, x.direction === 'in' ? t('转入') : t('转出')), h('td', {}, `${x.subject.name_masked} ${x.subject.id_masked}`), h('td', {}, `${x.from} → ${x.to}`),
            h('td', { class: x.status === 'pending' && new Date(x.deadline) < Date.now() ? 'overdue' : '' }, when(x.deadline)),
            h('td', {}, x.status === 'pending' ? t('待接收') : t('已接收')),
            h('td', {}, x.direction === 'in' && x.status === 'pending' ? h('button', { type: 'button', class: 'primary accept-handover', onclick: async () => {
              try { await api(`/api/v1/handovers/${encodeURIComponent(x.id)}/accept`, { method: 'POST' }); toast('已接收'); loadHandovers(); } catch (e) { toast(e.message, true); }
            } }, t('接收')) : '')))) : h('p', { class: 'muted' }, t('无')));
      } catch (e) { clear(box, h('p', { class: 'muted' }, e.message)); }
    };
    await loadHandovers();
    offHandovers = onChanges(chs => { if (chs.some(c => c.kind === 'handover')) loadHandovers(); });
  }
  const cases = h('div', { class: 'card', id: 'cases' });
  const one = h('div', { id: 'case' });
  main.append(h('div', { class: 'row' }, h('div', { class: 'grow' }, cases, may('report') ? openForm() : ''), h('div', { class: 'grow' }, one)));
  const load = async () => {
    const page = await api('/api/v1/cases' + qs({ limit: 500 }));
    clear(cases, h('h3', {}, t('跨区域案件')), h('table', {}, (page.cases || []).map(c => h('tr', { class: 'case-row', dataset: { id: c.id }, onclick: () => go('federation', new URLSearchParams({ case: c.id })) },
      h('td', {}, c.title), h('td', {}, t('主办') + ' ' + c.lead), h('td', {}, c.participants.join('、')), h('td', {}, c.status)))));
  };
  const show = async id => {
    const c = await api('/api/v1/cases/' + encodeURIComponent(id));
    const text = h('textarea', { rows: 2, cols: 40, id: 'entry-text' });
    const form = h('form', { id: 'entry-form' }, field(t('新增记录'), text, 'text'), h('button', { class: 'primary', type: 'submit' }, t('提交')));
    form.addEventListener('submit', async e => {
      e.preventDefault();
      try { await api(`/api/v1/cases/${encodeURIComponent(id)}/entries`, { method: 'POST', body: { text: text.value.trim() } }); text.value = ''; show(id); }
      catch (err) { showErrors(form, err); }
    });
    clear(one, h('div', { class: 'card' }, h('h3', {}, c.title), h('p', {}, c.description), h('p', { class: 'muted' }, `${t('主办')} ${c.lead} · ${t('协办')} ${c.participants.join('、')}`),
      h('ol', { class: 'timeline', id: 'case-timeline' }, (c.entries || []).map(e => h('li', {}, h('b', {}, when(e.at)), e.author, ': ', e.text))),
      may('report') ? form : ''));
  };
  await load();
  if (r.params.get('case')) await show(r.params.get('case'));
  const off = onChanges(chs => { if (chs.some(c => c.kind === 'case')) { load(); if (r.params.get('case')) show(r.params.get('case')); } });
  return () => { off(); if (offHandovers) offHandovers(); };
}

function openForm() {
  const title = h('input', { size: 30, id: 'case-title' }), desc = h('textarea', { rows: 2, cols: 40 }), parts = h('input', { size: 30, id: 'case-participants', placeholder: '511083, …' });
  const form = h('form', { class: 'card', id: 'case-form' }, h('b', {}, t('跨区域案件')), field(t('标题'), title, 'title'), field(t('描述'), desc, 'description'), field(t('协办'), parts, 'participants'),
    h('button', { class: 'primary', type: 'submit' }, t('提交')));
  form.addEventListener('submit', async e => {
    e.preventDefault();
    try {
      const c = await api('/api/v1/cases', { method: 'POST', body: { title: title.value.trim(), description: desc.value.trim(), participants: parts.value.split(/[,，\s]+/).filter(Boolean) } });
      toast(c.id); go('federation', new URLSearchParams({ case: c.id }));
    } catch (err) { showErrors(form, err); }
  });
  return form;
}
