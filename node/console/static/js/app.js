// The console shell: sign-in, navigation from the session's permissions,
// and a hash router (#/page?filters) so a view is a URL to keep or share.
import { api, auth, clearToken, startStream, stopStream } from './api.js';
import { h, clear, toast } from './dom.js';
import { t, getLang, setLang } from './i18n.js';
import { signinPage } from './signin.js';
import { queuePage } from './queue.js';
import { mapPage } from './map.js';
import { eventPage } from './event.js';
import { peoplePage } from './people.js';
import { partyPage } from './party.js';
import { figuresPage } from './figures.js';
import { federationPage } from './federation.js';
import { pluginsPage } from './plugins.js';

// Each page names the permission it needs; the session says which the
// token holds (core/access), and the nav offers only those.
const pages = [
  { path: 'queue', name: '工作台', perm: 'read', render: queuePage },
  { path: 'map', name: '一张图', perm: 'read', render: mapPage },
  { path: 'people', name: '人口', perm: 'read', render: peoplePage },
  { path: 'party', name: '党建', perm: 'read', render: partyPage },
  { path: 'figures', name: '数据', perm: 'read', render: figuresPage },
  { path: 'federation', name: '联动', perm: 'read', render: federationPage },
  { path: 'plugins', name: '插件', perm: 'system', render: pluginsPage },
  { path: 'event', name: '事件', perm: 'read', render: eventPage, hidden: true },
];

export function may(perm) { return !!auth.me && auth.me.perms.includes(perm); }

let cleanup = null;

export function route() {
  const [path, query] = location.hash.replace(/^#\/?/, '').split('?');
  const [page, ...rest] = path.split('/');
  return { page: page || 'queue', arg: rest.join('/'), params: new URLSearchParams(query || '') };
}

export function go(page, params) {
  const q = params ? params.toString() : '';
  location.hash = '#/' + page + (q ? '?' + q : '');
}

async function render() {
  const main = document.getElementById('main');
  if (cleanup) { cleanup(); cleanup = null; }
  if (!auth.token || !auth.me) {
    if (auth.token && !auth.me) {
      try { auth.me = await api('/api/v1/session'); } catch (e) { clearToken(); }
    }
    if (!auth.me) { shell(); clear(main); signinPage(main, async () => { shell(); startStream(); render(); }); return; }
    startStream();
  }
  shell();
  const r = route();
  let p = pages.find(x => x.path === r.page && may(x.perm));
  if (!p) p = pages.find(x => may(x.perm)) || null;
  clear(main);
  if (!p) { main.append(h('p', {}, t('无权访问'))); return; }
  document.title = '枫桥 · ' + t(p.name);
  try {
    cleanup = await p.render(main, r) || null;
  } catch (err) {
    // A page that cannot load says why, in place and in the toast.
    main.append(h('p', { class: 'card overdue', id: 'page-error' }, err.message));
    toast(err.message, true);
  }
}

function shell() {
  const nav = document.getElementById('nav');
  clear(nav);
  const r = route();
  if (auth.me) {
    for (const p of pages) {
      if (p.hidden || !may(p.perm)) continue;
      nav.append(h('a', { href: '#/' + p.path, class: r.page === p.path ? 'on' : '' }, t(p.name)));
    }
  }
  const who = document.getElementById('who');
  who.textContent = auth.me ? `${auth.me.token.name} · ${auth.me.token.role} · ${auth.me.scope_name || auth.me.token.scope} · ${auth.me.node_name || auth.me.node}` : '';
  const out = document.getElementById('signout');
  out.hidden = !auth.me; out.textContent = t('退出');
  document.getElementById('lang').textContent = getLang() === 'en' ? '中文' : 'EN';
}

// askOTP shows a small dialog for a fresh one-time code; concurrent
// requests share one prompt.
let asking = null;
auth.askOTP = why => asking || (asking = new Promise(resolve => {
  const input = h('input', { id: 'otp-again', inputmode: 'numeric', autocomplete: 'one-time-code', size: 8 });
  const dlg = h('dialog', { id: 'otp-dialog' }, h('form', { method: 'dialog' },
    h('p', {}, t('动态口令（管理员）')), h('p', { class: 'muted' }, why), input, ' ', h('button', { class: 'primary', value: 'ok' }, t('确定')),
    ' ', h('button', { value: 'cancel', formnovalidate: true }, t('取消'))));
  dlg.addEventListener('close', () => { const code = dlg.returnValue === 'ok' ? input.value.trim() : ''; dlg.remove(); asking = null; resolve(code); });
  document.body.append(dlg);
  dlg.showModal();
  input.focus();
}));

document.getElementById('signout').addEventListener('click', () => { stopStream(); clearToken(); location.hash = '#/'; render(); });
document.getElementById('lang').addEventListener('click', () => { setLang(getLang() === 'en' ? 'zh-CN' : 'en'); render(); });
window.addEventListener('hashchange', render);
setLang(getLang());
render();
