// A small DOM builder: text always goes in as text, never as HTML, so
// nothing a reporter typed can run in a staff member's browser.
export function h(tag, attrs, ...kids) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k in el && typeof v !== 'string') el[k] = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const kid of kids.flat(Infinity)) {
    if (kid === undefined || kid === null || kid === false) continue;
    el.append(kid instanceof Node ? kid : document.createTextNode(String(kid)));
  }
  return el;
}

export function clear(el, ...kids) { el.replaceChildren(); for (const k of kids.flat()) if (k) el.append(k); return el; }

export function toast(msg, bad) {
  // The last error stays on the page (for whoever looks after the toast is gone).
  if (bad) document.body.dataset.lastError = msg;
  const box = document.getElementById('toast');
  const d = h('div', { class: bad ? 'bad' : '' }, msg);
  box.append(d);
  setTimeout(() => d.remove(), bad ? 8000 : 3000);
}

// field is a labelled input whose problem+json error shows beside it.
export function field(label, input, name) {
  input.name = name;
  return h('label', { class: 'field', dataset: { field: name } }, h('span', {}, label), input, h('span', { class: 'err' }));
}

// showErrors clears a form's errors and puts err's beside the field it
// names, or in the form's general slot.
export function showErrors(form, err) {
  for (const f of form.querySelectorAll('.field')) { f.classList.remove('bad'); f.querySelector('.err').textContent = ''; }
  if (!err) return;
  const f = err.field && form.querySelector(`.field[data-field="${CSS.escape(err.field)}"]`);
  if (f) { f.classList.add('bad'); f.querySelector('.err').textContent = err.message; }
  else toast(err.message, true);
}

// Times are shown in China time whatever the browser's zone.
const fmt = new Intl.DateTimeFormat('zh-CN', { timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hour12: false });
export function when(s) { if (!s || s.startsWith('0001')) return ''; return fmt.format(new Date(s)); }
