// Plugin forms: inputs rendered from a plugin's declared schema (GET
// /api/v1/forms), so a region's own fields appear without console code.
import { api } from './api.js';
import { h, field } from './dom.js';

let cache = null;
export async function pluginForms(place) {
  if (!cache) { try { cache = (await api('/api/v1/forms')).forms || []; } catch (e) { cache = []; } }
  return cache.filter(f => f.place === place);
}

// formInputs renders a form's fields; values() reads them back as the
// ext fields of a report (plugin:field), typed as the schema says.
export function formInputs(form) {
  const inputs = {};
  const box = h('fieldset', { class: 'plugin-form', dataset: { plugin: form.plugin, form: form.name } }, h('legend', {}, form.title));
  for (const name of form.fields) {
    const s = form.schema[name] || {};
    const key = form.plugin + ':' + name;
    let el;
    if (s.enum) el = h('select', {}, form.required?.includes(name) ? '' : h('option', { value: '' }, '—'), s.enum.map((v, i) => h('option', { value: JSON.stringify(v) }, (s['x-names'] || [])[i] || String(v))));
    else if (s.type === 'boolean') el = h('input', { type: 'checkbox' });
    else if (s.type === 'number' || s.type === 'integer') el = h('input', { type: 'number', step: s.type === 'integer' ? 1 : 'any', min: s.minimum, max: s.maximum });
    else el = h('input', { maxlength: s.maxLength });
    inputs[key] = { el, s };
    box.append(field((s.title || name) + (form.required?.includes(name) ? ' *' : ''), el, 'ext.' + key));
  }
  const values = () => {
    const out = {};
    for (const [key, { el, s }] of Object.entries(inputs)) {
      if (el.type === 'checkbox') { out[key] = el.checked; continue; }
      if (el.value === '') continue;
      out[key] = s.enum ? JSON.parse(el.value) : (el.type === 'number' ? Number(el.value) : el.value);
    }
    return out;
  };
  return { box, values };
}
