// SPDX-License-Identifier: MIT
// The app's shell: sign-in, the navigation between views (#files, #calendar, #contacts, #mail,
// #tasks, #settings) and sign-out. The calendar, contacts, mail and tasks modules load when
// their view is opened.
// The session id is never in the address: views are in the fragment only.
import { api, onSessionEnded, session, setSession } from './api.js';
import { renderFiles } from './files.js';
import { renderLogin } from './login.js';
import { renderSettings } from './settings.js';
import { el, errorText, message } from './ui.js';

const root = document.getElementById('app');
let info = null; // GET /api/v1/session

const VIEWS = [
  { id: 'files', title: 'Files', module: 'files' },
  { id: 'calendar', title: 'Calendar', module: 'calendar', load: () => import('./calendar.js').then((m) => m.renderCalendar) },
  { id: 'contacts', title: 'Contacts', module: 'contacts', load: () => import('./contacts.js').then((m) => m.renderContacts) },
  { id: 'mail', title: 'Mail', module: 'mail', load: () => import('./mail.js').then((m) => m.renderMail) },
  { id: 'tasks', title: 'Tasks', module: 'tasks', load: () => import('./tasks.js').then((m) => m.renderTasks) },
  { id: 'settings', title: 'Settings' },
];

function showLogin(notice) {
  info = null;
  document.title = 'Sign in · Tandem';
  renderLogin(root, notice, () => start());
}

async function signOut() {
  try {
    await api('POST', '/api/v1/logout');
  } catch (error) {
    // the session may be gone already; signing out here is still done
  }
  setSession(null);
  showLogin('You are signed out.');
}

async function relogin(login, password) {
  const answer = await api('POST', '/api/v1/login', { login, password, client: 'tandem-webui' });
  setSession(answer.session);
  await start('settings', 'Your password was changed. Other devices and apps must sign in again.');
}

// The views the session's modules allow (GET /api/v1/session's "modules"; settings always).
function views() {
  return VIEWS.filter((v) => !v.module || !info.modules || info.modules.includes(v.module));
}

function currentView() {
  const id = window.location.hash.replace(/^#/, '');
  const allowed = views();
  return allowed.find((v) => v.id === id) || allowed[0];
}

function shell(view) {
  const nav = el('nav', { class: 'appnav', 'aria-label': 'Main' },
    el('ul', {}, views().map((v) => el('li', {},
      el('a', { href: `#${v.id}`, 'aria-current': v.id === view.id ? 'page' : false }, v.title)))));
  const header = el('header', { class: 'appbar' },
    el('a', { class: 'skip', href: '#content' }, 'Skip to content'),
    el('span', { class: 'brand' }, 'Tandem'),
    nav,
    el('span', { class: 'who' }, info.login),
    el('button', { type: 'button', onclick: signOut }, 'Sign out'));
  const main = el('main', { id: 'content', tabindex: '-1' });
  root.replaceChildren(header, main);
  return main;
}

async function render(notice) {
  const view = currentView();
  document.title = `${view.title} · Tandem`;
  const main = shell(view);
  if (view.id === 'files') await renderFiles(main);
  else if (view.id === 'settings') renderSettings(main, info, (text) => showLogin(text), relogin);
  else if (view.load) {
    main.replaceChildren(el('p', { class: 'loading', role: 'status' }, 'Loading…'));
    let renderView;
    try {
      renderView = await view.load();
    } catch (error) {
      main.replaceChildren(message('error', `The ${view.title.toLowerCase()} view could not be loaded. Check your connection and reload the page.`));
      return;
    }
    await renderView(main);
  }
  if (notice) main.prepend(message('info', notice));
}

async function start(viewId, notice) {
  if (!session()) {
    showLogin(null);
    return;
  }
  root.replaceChildren(el('p', { class: 'loading', role: 'status' }, 'Loading…'));
  try {
    info = await api('GET', '/api/v1/session');
  } catch (error) {
    if (!session()) return; // onSessionEnded showed the form
    root.replaceChildren(el('main', { class: 'login' }, message('error', errorText(error)),
      el('button', { type: 'button', onclick: () => start() }, 'Try again')));
    return;
  }
  if (viewId && window.location.hash !== `#${viewId}`) {
    history.replaceState(null, '', `#${viewId}`);
  }
  await render(notice);
}

onSessionEnded(() => showLogin('Your session has ended (it expired, or you signed out elsewhere). Please sign in again.'));
// every view change asks for the session again: one ended elsewhere shows at once
window.addEventListener('hashchange', () => {
  if (info) start();
});
start();
