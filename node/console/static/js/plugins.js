// 插件: each plugin's state and the pages its routes serve; and the
// system administrator's backup, downloaded with its progress shown.
import { api, download } from './api.js';
import { h, toast } from './dom.js';
import { t } from './i18n.js';

export async function pluginsPage(main) {
  const list = await api('/api/v1/plugins');
  main.append(h('div', { class: 'card', id: 'plugins' }, h('h3', {}, t('插件')),
    h('table', {}, h('tr', {}, h('th', {}, 'name'), h('th', {}, t('版本')), h('th', {}, t('状态')), h('th', {}, 'restarts'), h('th', {}, t('路由'))),
      (list.plugins || []).map(p => {
        const st = p.status || {};
        const routes = ((st.description || {}).routes || []).filter(r => r.method === 'GET' && !r.path.includes('{'));
        return h('tr', {}, h('td', {}, p.name), h('td', {}, (p.active || {}).version || ''), h('td', { class: st.state === 'running' ? '' : 'overdue' }, st.state || '—'),
          h('td', {}, String(st.restarts || 0)),
          h('td', {}, routes.map(r => h('button', { type: 'button', onclick: async () => {
            try { const v = await api(`/api/v1/plugins/${p.name}${r.path}`); toast(JSON.stringify(v).slice(0, 300)); } catch (e) { toast(e.message, true); }
          } }, r.summary || r.path))));
      }))));
  const bar = h('div', {}), prog = h('div', { class: 'progress' }, bar), got = h('span', { class: 'muted' });
  main.append(h('div', { class: 'card', id: 'backup' }, h('h3', {}, t('备份')), h('button', { type: 'button', onclick: async () => {
    try {
      const n = await download('/api/v1/backup', 'fengqiao-backup.db', (b, total) => { got.textContent = (b / 1048576).toFixed(1) + ' MiB'; bar.style.width = total ? (100 * b / total) + '%' : '50%'; });
      bar.style.width = '100%'; toast(t('备份') + ' ' + (n / 1048576).toFixed(1) + ' MiB');
    } catch (e) { toast(e.message, true); }
  } }, t('下载')), prog, got));
}
