// The phone view's service worker: the app shell is cached so the view
// opens on patrol without a connection. API calls are never cached; the
// page keeps offline reports itself (outbox.js) and syncs them.
const SHELL = 'fengqiao-m-v1';
const FILES = ['/m/', '/m/phone.js', '/m/outbox.js', '/m/phone.css', '/m/manifest.webmanifest', '/m/icon.svg', '/app.css', '/js/api.js', '/js/dom.js', '/js/i18n.js'];
self.addEventListener('install', e => e.waitUntil(caches.open(SHELL).then(c => c.addAll(FILES)).then(() => self.skipWaiting())));
self.addEventListener('activate', e => e.waitUntil(caches.keys().then(ks => Promise.all(ks.filter(k => k !== SHELL).map(k => caches.delete(k)))).then(() => self.clients.claim())));
self.addEventListener('fetch', e => {
  const url = new URL(e.request.url);
  if (e.request.method !== 'GET' || url.origin !== location.origin || url.pathname.startsWith('/api/')) return;
  // Network first, so a new binary's files show at once; the cache when offline.
  e.respondWith(fetch(e.request).then(resp => {
    if (resp.ok && FILES.includes(url.pathname)) { const copy = resp.clone(); caches.open(SHELL).then(c => c.put(e.request, copy)); }
    return resp;
  }).catch(() => caches.match(e.request).then(r => r || caches.match('/m/'))));
});
