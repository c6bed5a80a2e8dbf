// The console's one way to the server: /api/v1 with the token as a bearer,
// problem+json turned into ApiError naming the field.
import { getLang } from './i18n.js';

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || ('HTTP ' + status));
    this.status = status; this.field = problem.field || ''; this.rule = problem.rule || ''; this.problem = problem;
  }
}

export const auth = {
  token: sessionStorage.getItem('fq.token') || '',
  otp: '',
  me: null,
  // askOTP, set by the page, asks an administrator for a fresh code when
  // the one given at sign-in has run out (codes last about a minute).
  askOTP: null,
};

export function setToken(tok, otp) {
  auth.token = tok; auth.otp = otp || '';
  sessionStorage.setItem('fq.token', tok);
}
export function clearToken() { auth.token = ''; auth.otp = ''; auth.me = null; sessionStorage.removeItem('fq.token'); }

function headers(extra) {
  const h = { 'Authorization': 'Bearer ' + auth.token, 'Accept-Language': getLang() === 'en' ? 'en' : 'zh-CN', ...extra };
  if (auth.otp) h['X-Fengqiao-OTP'] = auth.otp;
  return h;
}

// api sends a request; body objects go as JSON. It answers the parsed JSON
// (null for 204) or throws ApiError.
export async function api(path, opts = {}) {
  const init = { method: opts.method || 'GET', headers: headers(opts.headers) };
  if (opts.body !== undefined) {
    if (opts.body instanceof Blob || opts.body instanceof ArrayBuffer) init.body = opts.body;
    else { init.body = JSON.stringify(opts.body); init.headers['Content-Type'] = 'application/json'; }
  }
  const resp = await fetch(path, init);
  if (!resp.ok) {
    const err = await problemOf(resp);
    // An administrator's code ran out: ask for a new one and try once more.
    if (err.status === 401 && err.field === 'otp' && auth.otp && auth.askOTP && !opts.retried) {
      const code = await auth.askOTP(err.message);
      if (code) { auth.otp = code; return api(path, { ...opts, retried: true }); }
    }
    throw err;
  }
  if (opts.raw) return resp;
  if (resp.status === 204) return null;
  return resp.json();
}

async function problemOf(resp) {
  let p = {};
  try { p = await resp.json(); } catch (e) { p = { detail: resp.statusText }; }
  return new ApiError(resp.status, p);
}

export function qs(params) {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== '' && v !== undefined && v !== null && v !== false) u.set(k, v);
  const s = u.toString();
  return s ? '?' + s : '';
}

// download fetches a file with the token and saves it, reporting bytes as
// they arrive (exports and backups can take a while).
export async function download(path, name, onProgress) {
  const resp = await api(path, { raw: true });
  const total = +resp.headers.get('Content-Length') || 0;
  const reader = resp.body.getReader();
  const parts = []; let got = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    parts.push(value); got += value.length;
    onProgress && onProgress(got, total);
  }
  const cd = resp.headers.get('Content-Disposition') || '';
  const m = /filename\*?=(?:UTF-8'')?"?([^";]+)/.exec(cd);
  const a = document.createElement('a');
  a.href = URL.createObjectURL(new Blob(parts, { type: resp.headers.get('Content-Type') || '' }));
  a.download = m ? decodeURIComponent(m[1]) : name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 10000);
  return got;
}

// ndjson posts a file and hands each line of the NDJSON answer to onLine
// (imports report progress this way).
export async function ndjson(path, file, contentType, onLine) {
  const resp = await api(path, { method: 'POST', body: file, raw: true, headers: { 'Content-Type': contentType } });
  let last = null;
  await pieces(resp.body, '\n', line => { if (line.trim()) { last = JSON.parse(line); onLine(last); } });
  return last;
}

// pieces reads a streamed body as text and hands on each piece ending in
// sep (NDJSON lines, server-sent event blocks) as it completes.
async function pieces(body, sep, fn) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buf = '';
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    buf += value;
    let i;
    while ((i = buf.indexOf(sep)) >= 0) {
      const piece = buf.slice(0, i); buf = buf.slice(i + sep.length);
      fn(piece);
    }
  }
}

// Live updates: one stream of the change feed (server-sent events read
// through fetch, so the token stays a header), shared by every page.
const listeners = new Set();
let streamAbort = null, lastSeq = '';
export function onChanges(fn) { listeners.add(fn); return () => listeners.delete(fn); }
export function startStream() {
  if (streamAbort) return;
  streamAbort = new AbortController();
  const signal = streamAbort.signal;
  (async () => {
    while (!signal.aborted) {
      try {
        const resp = await fetch('/api/v1/changes/stream' + (lastSeq ? '?after=' + lastSeq : ''), { headers: headers(), signal });
        if (resp.status === 409) {
          // Away so long the feed no longer holds our position: start from
          // now and have every page reload what it shows.
          lastSeq = '';
          const all = ['event', 'person', 'case', 'handover', 'org', 'grid'].map(kind => ({ kind, id: '*' }));
          for (const fn of listeners) fn(all);
          continue;
        }
        if (!resp.ok) throw new Error('stream ' + resp.status);
        await pieces(resp.body, '\n\n', block => {
          const ev = {};
          for (const line of block.split('\n')) {
            const c = line.indexOf(': ');
            if (c > 0) ev[line.slice(0, c)] = line.slice(c + 2);
          }
          if (ev.id) lastSeq = ev.id;
          if (ev.event === 'changes') {
            const page = JSON.parse(ev.data);
            for (const fn of listeners) fn(page.changes);
          }
        });
      } catch (e) {
        if (signal.aborted) return;
      }
      await new Promise(r => setTimeout(r, 2000));
    }
  })();
}
export function stopStream() { if (streamAbort) streamAbort.abort(); streamAbort = null; lastSeq = ''; }
