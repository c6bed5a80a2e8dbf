import { api, auth, setToken, clearToken } from './api.js';
import { h, field, showErrors } from './dom.js';
import { t } from './i18n.js';

// Sign in with a token; administrators also give the code from their
// authenticator (the server asks for it: field otp).
export function signinPage(main, done) {
  const tok = h('input', { type: 'password', autocomplete: 'off', id: 'token', size: 40 });
  const otp = h('input', { inputmode: 'numeric', autocomplete: 'one-time-code', id: 'otp', size: 8 });
  const form = h('form', { class: 'card signin', id: 'signin' },
    h('h2', {}, '枫桥 · ' + t('登录')),
    field(t('令牌'), tok, 'authorization'),
    field(t('动态口令（管理员）'), otp, 'otp'),
    h('button', { class: 'primary', type: 'submit' }, t('登录')));
  form.addEventListener('submit', async e => {
    e.preventDefault();
    setToken(tok.value.trim(), otp.value.trim());
    try {
      auth.me = await api('/api/v1/session');
      showErrors(form, null);
      done();
    } catch (err) {
      clearToken();
      showErrors(form, err);
    }
  });
  main.append(form);
  tok.focus();
}
