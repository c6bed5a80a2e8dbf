// 党建: coverage (grids without a branch or group) and 三会一课 compliance.
import { api, qs } from './api.js';
import { h, when } from './dom.js';
import { t } from './i18n.js';

export async function partyPage(main) {
  const cov = await api('/api/v1/party/coverage');
  const orgs = await api('/api/v1/party/orgs' + qs({ limit: 500 }));
  main.append(
    h('div', { class: 'card', id: 'coverage' }, h('h3', {}, t('未覆盖网格')),
      h('p', {}, `${t('网格')} ${cov.grids} · ${t('未覆盖网格')} ${cov.uncovered_grids.length}`),
      h('p', { class: 'muted' }, cov.uncovered_grids.slice(0, 200).join('、'))),
    h('div', { class: 'card' }, h('h3', {}, t('三会一课落后')),
      h('table', {}, h('tr', {}, h('th', {}, t('党组织')), h('th', {}, t('类型')), h('th', {}, 'last'), h('th', {}, 'due')),
        cov.behind_schedule.map(l => h('tr', {}, h('td', {}, l.name), h('td', {}, l.kind), h('td', {}, when(l.last) || '—'), h('td', { class: 'overdue' }, when(l.due_by)))))),
    h('div', { class: 'card' }, h('h3', {}, t('党组织')),
      h('table', {}, (orgs.orgs || []).map(o => h('tr', {}, h('td', {}, o.name), h('td', {}, o.kind), h('td', {}, o.jurisdiction), h('td', {}, (o.grids || []).length + ' ' + t('网格')))))));
}
