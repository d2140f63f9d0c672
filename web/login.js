// SPDX-License-Identifier: MIT
// The sign-in form (POST /api/v1/login) and what a refusal means for the user.
import { api, setSession } from './api.js';
import { el, errorText, message } from './ui.js';

function waitText(seconds) {
  const s = Number.parseInt(seconds, 10);
  if (!Number.isFinite(s) || s <= 0) return 'a few minutes';
  if (s < 90) return `${s} seconds`;
  return `${Math.ceil(s / 60)} minutes`;
}

// The refusal in words (codes in docs/api.md, Sessions).
export function loginErrorText(error) {
  switch (error.code) {
    case 'SES-0401':
      return 'Wrong login or password.';
    case 'SES-0429':
      return `Too many failed sign-ins. Wait ${waitText(error.retryAfter)} and try again.`;
    case 'SES-0403':
      return `Sign-in refused: ${errorText(error)}`;
    case 'ACC-0403':
      return 'Your account may not use the web interface. Ask your administrator to allow it ' +
        '(the "webui" module of your access combination).';
    case 'SES-0503':
      return `The server cannot sign you in right now: ${errorText(error)} Try again shortly.`;
    default:
      return errorText(error);
  }
}

// Renders into root; done(sessionInfo) runs after a successful sign-in. notice: a message
// to show above the form (why the last session ended), or null.
export function renderLogin(root, notice, done) {
  const status = el('div', { class: 'form-status', 'aria-live': 'polite' });
  const login = el('input', {
    id: 'login', name: 'username', type: 'text', autocomplete: 'username', required: true,
    autocapitalize: 'none', spellcheck: 'false',
  });
  const password = el('input', {
    id: 'password', name: 'password', type: 'password', autocomplete: 'current-password',
    required: true,
  });
  const stay = el('input', { id: 'stay', type: 'checkbox' });
  const submit = el('button', { type: 'submit', class: 'primary' }, 'Sign in');
  const form = el('form', {
    class: 'login-form',
    'aria-labelledby': 'login-title',
    onsubmit: async (e) => {
      e.preventDefault();
      submit.disabled = true;
      status.replaceChildren(message('info', 'Signing in…'));
      try {
        const answer = await api('POST', '/api/v1/login', {
          login: login.value.trim(),
          password: password.value,
          client: 'tandem-webui',
          staySignedIn: stay.checked,
        });
        setSession(answer.session);
        password.value = '';
        done(answer);
      } catch (error) {
        status.replaceChildren(message('error', loginErrorText(error)));
        submit.disabled = false;
        password.select();
      }
    },
  },
  el('h1', { id: 'login-title' }, 'Sign in to Tandem'),
  notice ? message('info', notice) : null,
  el('label', { for: 'login' }, 'Login'),
  login,
  el('p', { class: 'hint', id: 'login-hint' }, 'For example alice, or alice@example.com for another context.'),
  el('label', { for: 'password' }, 'Password'),
  password,
  el('div', { class: 'check' }, stay, el('label', { for: 'stay' }, 'Keep this tab signed in longer (the session id stays in this tab only)')),
  submit,
  status);
  login.setAttribute('aria-describedby', 'login-hint');
  root.replaceChildren(el('main', { class: 'login' }, form));
  login.focus();
}
