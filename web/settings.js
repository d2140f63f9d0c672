// SPDX-License-Identifier: MIT
// Settings: the password, the addresses for DAV clients, and this account's sessions.
import { api, setSession } from './api.js';
import { el, errorText, formatDate, message } from './ui.js';

function copyRow(label, value, id) {
  const status = el('span', { class: 'copied', 'aria-live': 'polite' });
  return el('div', { class: 'copy-row' },
    el('label', { for: id }, label),
    el('div', { class: 'copy-field' },
      el('input', { id, type: 'text', readonly: true, value }),
      el('button', {
        type: 'button',
        'aria-label': `Copy ${label}`,
        onclick: async () => {
          try {
            await navigator.clipboard.writeText(value);
            status.textContent = 'Copied.';
          } catch (e) {
            document.getElementById(id).select();
            status.textContent = 'Select the address and copy it (Ctrl+C).';
          }
        },
      }, 'Copy'),
      status));
}

// info: GET /api/v1/session's answer. signedOut(): after "sign out everywhere".
export function renderSettings(main, info, signedOut, relogin) {
  const origin = window.location.origin;
  const pwStatus = el('div', { 'aria-live': 'polite' });
  const current = el('input', { id: 'pw-current', type: 'password', autocomplete: 'current-password', required: true });
  const next = el('input', { id: 'pw-new', type: 'password', autocomplete: 'new-password', required: true, minlength: '8' });
  const again = el('input', { id: 'pw-again', type: 'password', autocomplete: 'new-password', required: true });
  const pwForm = el('form', {
    'aria-labelledby': 'pw-title',
    onsubmit: async (e) => {
      e.preventDefault();
      if (next.value !== again.value) {
        pwStatus.replaceChildren(message('error', 'The two new passwords differ.'));
        return;
      }
      pwStatus.replaceChildren(message('info', 'Changing the password…'));
      try {
        await api('POST', '/api/v1/password', { current: current.value, password: next.value });
        // every session of the account ended, this one too: sign in again with the new one
        await relogin(`${info.login}@${info.context_id}`, next.value);
      } catch (error) {
        const text = error.code === 'SES-0401' ? 'The current password is wrong.' : errorText(error);
        pwStatus.replaceChildren(message('error', text));
      }
    },
  },
  el('h2', { id: 'pw-title' }, 'Password'),
  el('label', { for: 'pw-current' }, 'Current password'), current,
  el('label', { for: 'pw-new' }, 'New password'), next,
  el('label', { for: 'pw-again' }, 'New password again'), again,
  el('button', { type: 'submit', class: 'primary' }, 'Change password'),
  el('p', { class: 'hint' }, 'Changing it signs you out on every other device and app.'),
  pwStatus);

  const sessStatus = el('div', { 'aria-live': 'polite' });
  const sessList = el('div', {}, el('p', { class: 'loading', role: 'status' }, 'Loading sessions…'));
  api('GET', '/api/v1/sessions').then(({ sessions: list }) => {
    sessList.replaceChildren(el('table', {},
      el('caption', { class: 'visually-hidden' }, 'Your sessions'),
      el('thead', {}, el('tr', {},
        el('th', { scope: 'col' }, 'App'),
        el('th', { scope: 'col' }, 'Address'),
        el('th', { scope: 'col', class: 'date' }, 'Signed in'),
        el('th', { scope: 'col', class: 'date' }, 'Last used'))),
      el('tbody', {}, list.map((s) => el('tr', {},
        el('th', { scope: 'row' }, s.client === 'tandem-webui' ? 'Web browser' : s.client,
          s.current ? el('strong', {}, ' (this one)') : null),
        el('td', {}, `${s.ip} via ${s.route}`),
        el('td', { class: 'date' }, formatDate(s.created)),
        el('td', { class: 'date' }, formatDate(s.last_used)))))));
  }, (error) => sessList.replaceChildren(message('error', errorText(error))));
  const sessions = el('section', { 'aria-labelledby': 'sess-title' },
    el('h2', { id: 'sess-title' }, 'Sessions'),
    el('dl', { class: 'facts' },
      el('dt', {}, 'Signed in as'), el('dd', {}, info.login),
      el('dt', {}, 'This session ends'), el('dd', {}, info.staySignedIn ? 'when you sign out' : `after ${Math.round(info.expires_in / 60)} minutes without use`)),
    sessList,
    el('button', {
      type: 'button',
      class: 'danger',
      onclick: async () => {
        try {
          const { ended } = await api('POST', '/api/v1/logout?all=1');
          setSession(null);
          signedOut(`Signed out everywhere (${ended} session${ended === 1 ? '' : 's'} ended).`);
        } catch (error) {
          sessStatus.replaceChildren(message('error', errorText(error)));
        }
      },
    }, 'Sign out everywhere'),
    el('p', { class: 'hint' }, 'Ends every session of your account: browsers, phones and desktop apps must sign in again.'),
    sessStatus);

  const dav = el('section', { 'aria-labelledby': 'dav-title' },
    el('h2', { id: 'dav-title' }, 'Connect apps'),
    el('p', {}, 'Give these addresses to a WebDAV client (Thunderbird, DAVx5, your file manager) with your login and password.'),
    copyRow('Your files (WebDAV)', `${origin}/dav/files/home/`, 'dav-files'),
    copyRow('Public files (WebDAV)', `${origin}/dav/files/public/`, 'dav-public'),
    copyRow('Calendars and contacts (CalDAV, CardDAV)', `${origin}/`, 'dav-server'),
    el('p', { class: 'hint' }, 'Calendar and contact apps find their folders from the server address.'));

  main.replaceChildren(el('div', { class: 'settings' },
    el('h1', {}, 'Settings'), pwForm, dav, sessions));
}
