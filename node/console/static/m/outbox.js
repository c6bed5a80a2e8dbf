// The outbox: reports made without a connection wait in IndexedDB, each
// with the Idempotency-Key it was given when made, so however often a
// sync is retried (a lost answer, two tabs, a crash mid-sync) the server
// makes one event of it.
const DB = 'fengqiao-m', STORE = 'outbox';

function open() {
  return new Promise((resolve, reject) => {
    const r = indexedDB.open(DB, 1);
    r.onupgradeneeded = () => r.result.createObjectStore(STORE, { keyPath: 'local', autoIncrement: true });
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
}
function tx(mode, fn) {
  return open().then(db => new Promise((resolve, reject) => {
    const t = db.transaction(STORE, mode);
    const out = fn(t.objectStore(STORE));
    t.oncomplete = () => { db.close(); resolve(out && 'result' in out ? out.result : undefined); };
    t.onerror = () => { db.close(); reject(t.error); };
  }));
}
export const outbox = {
  add: item => tx('readwrite', s => s.add(item)),
  all: () => tx('readonly', s => s.getAll()),
  remove: local => tx('readwrite', s => s.delete(local)),
};

export function newKey() {
  return crypto.randomUUID ? crypto.randomUUID() : Array.from(crypto.getRandomValues(new Uint8Array(16)), b => b.toString(16).padStart(2, '0')).join('');
}
