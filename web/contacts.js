// SPDX-License-Identifier: MIT
// The contacts view (docs/webui.md): the contacts folders I can see and their contacts
// (GET /api/v1/contacts, searched with q=), a contact created, edited (name, e-mail addresses,
// phone numbers, organisation, birthday, note) and deleted, and the global address book
// (people of my context, read-only, through directorySearch()). Contacts are written as vCard
// text (vcard.js) so that an edit keeps whatever else the card holds.
import { api, apiText, directorySearch, moduleFolders } from './api.js';
import { confirmDialog, dialog, el, errorText, message } from './ui.js';
import { newUid, readCard, writeCard } from './vcard.js';

const DIRECTORY = { id: 'directory', title: 'Global address book' };
const EMAIL = /^[^\s@]+@[^\s@]+$/;

const rights = (bits, shift) => (bits >> shift) & 0x7f;
const label = (f) => (f.who ? `${f.title} (${f.who})` : f.title);
const lines = (text) => text.split('\n').map((s) => s.trim()).filter((s) => s);

function details(c) {
  return [...(c.emails || []), ...(c.phones || []), c.org].filter((s) => s).join(' · ');
}

export async function renderContacts(main) {
  const side = el('nav', { class: 'con-side', 'aria-label': 'Address books' });
  const title = el('h1', { id: 'con-title' }, 'Contacts');
  const search = el('input', { id: 'con-search', type: 'search', autocomplete: 'off' });
  const addButton = el('button', { type: 'button', class: 'primary', onclick: () => edit(null) }, 'New contact');
  const status = el('div', { class: 'con-status', 'aria-live': 'polite' });
  const area = el('div', { class: 'con-area' });
  const say = (kind, text) => status.replaceChildren(message(kind, text));
  main.replaceChildren(el('div', { class: 'contacts' }, side,
    el('section', { class: 'con-main', 'aria-labelledby': 'con-title' }, title,
      el('div', { class: 'con-tools' },
        el('div', { class: 'con-search' }, el('label', { for: 'con-search' }, 'Search'), search),
        addButton),
      status, area)));
  let folders = [];
  let current = null; // a folder, or DIRECTORY
  let seq = 0; // the newest listing; older answers are dropped

  let timer = null;
  search.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(show, 250);
  });

  function drawSide() {
    side.replaceChildren(el('h2', { class: 'tree-heading' }, 'Address books'),
      el('ul', {}, [...folders, DIRECTORY].map((f) => el('li', {},
        el('button', {
          type: 'button',
          class: 'tree-item',
          'aria-current': f === current ? 'true' : false,
          onclick: () => choose(f),
        }, label(f))))));
  }

  function choose(f) {
    current = f;
    title.textContent = label(f);
    search.value = '';
    status.replaceChildren();
    drawSide();
    show();
  }

  async function show() {
    const q = search.value.trim();
    const mine = ++seq;
    const folder = current;
    if (folder === DIRECTORY) {
      addButton.hidden = true;
      search.setAttribute('placeholder', 'Name or login');
      if (!q) {
        area.replaceChildren(el('p', { class: 'empty' }, 'Type part of a name or login to search the people of your organisation.'));
        return;
      }
    } else {
      addButton.hidden = rights(folder.own_rights, 0) < 2;
      search.setAttribute('placeholder', 'Name, e-mail, phone or organisation');
    }
    area.replaceChildren(el('p', { class: 'loading', role: 'status' }, folder === DIRECTORY ? 'Searching…' : 'Loading contacts…'));
    let items;
    let more = false;
    try {
      if (folder === DIRECTORY) {
        items = await directorySearch(q);
      } else {
        const query = q ? `&q=${encodeURIComponent(q)}` : '';
        ({ contacts: items, more } = await api('GET', `/api/v1/contacts?folder=${folder.id}${query}&limit=1000`));
      }
    } catch (error) {
      if (mine === seq) area.replaceChildren(message('error', errorText(error)));
      return;
    }
    if (mine !== seq) return;
    if (!items.length) {
      let empty = `No one matches “${q}”.`;
      if (folder !== DIRECTORY) {
        empty = q ? `No contact matches “${q}”.` : 'No contacts here yet.';
        if (!q && !addButton.hidden) empty += ' Add one with New contact.';
      }
      area.replaceChildren(el('p', { class: 'empty' }, empty));
      return;
    }
    const list = el('ul', { class: 'con-list', 'aria-label': q ? `Contacts matching ${q}` : `Contacts in ${label(folder)}` });
    if (folder === DIRECTORY) {
      list.append(...items.map((p) => el('li', {},
        el('div', { class: 'con-who' }, el('span', { class: 'con-name' }, p.name),
          el('span', { class: 'con-details' }, [p.login, p.email].filter((s) => s).join(' · '))))));
    } else {
      const canWrite = rights(folder.own_rights, 14) > 0;
      const canDelete = rights(folder.own_rights, 21) > 0;
      list.append(...items.map((c) => el('li', {},
        el('div', { class: 'con-who' }, el('span', { class: 'con-name' }, c.fn || '(no name)'),
          el('span', { class: 'con-details' }, details(c))),
        el('div', { class: 'row-actions' },
          el('button', { type: 'button', 'aria-label': `${canWrite ? 'Edit' : 'Show'} ${c.fn}`, onclick: () => edit(c, !canWrite) }, canWrite ? 'Edit' : 'Show'),
          canDelete ? el('button', { type: 'button', class: 'danger', 'aria-label': `Delete ${c.fn}`, onclick: () => remove(c) }, 'Delete') : null))));
    }
    area.replaceChildren(list, more ? el('p', { class: 'hint' }, `Only the first ${items.length} are shown: search to find the others.`) : null);
  }

  // The card dialog: contact null for a new one; readOnly shows it without saving.
  async function edit(contact, readOnly) {
    const folder = current;
    let stored = null; // {text, etag} of the card as stored
    if (contact) {
      try {
        stored = await apiText('GET', `/api/v1/contacts/${contact.id}?format=vcf`);
      } catch (error) {
        say('error', errorText(error));
        return;
      }
    }
    const v = readCard(stored ? stored.text : '');
    const field = (id, text, input, hint) => el('div', { class: 'field' },
      el('label', { for: id }, text), input, hint ? el('p', { class: 'hint', id: `${id}-hint` }, hint) : null);
    const input = (id, value, type) => el('input', { id, type: type || 'text', value, readonly: readOnly });
    const textarea = (id, value, hint) => {
      const t = el('textarea', { id, rows: '2', readonly: readOnly, 'aria-describedby': hint ? `${id}-hint` : null });
      t.value = value;
      return t;
    };
    const given = input('con-given', v.given);
    const family = input('con-family', v.family);
    const fn = input('con-fn', v.fn);
    fn.setAttribute('aria-describedby', 'con-fn-hint');
    const emails = textarea('con-emails', v.emails.join('\n'), true);
    const phones = textarea('con-phones', v.phones.join('\n'), true);
    const org = input('con-org', v.org);
    const birthday = input('con-bday', v.birthday, 'date');
    const note = textarea('con-note', v.note, false);
    note.rows = 3;
    const problem = el('div', { 'aria-live': 'assertive' });
    const name = contact ? contact.fn : '';

    const saved = await dialog(contact ? (readOnly ? name : `Edit ${name}`) : 'New contact', (d, close) => {
      async function submit(e) {
        e.preventDefault();
        const form = {
          given: given.value.trim(), family: family.value.trim(),
          fn: fn.value.trim() || `${given.value.trim()} ${family.value.trim()}`.trim(),
          emails: lines(emails.value), phones: lines(phones.value), org: org.value.trim(),
          birthday: birthday.value, note: note.value.trim(),
        };
        const bad = form.emails.find((a) => !EMAIL.test(a));
        if (!form.fn) {
          problem.replaceChildren(message('error', 'Give a name: a first name, a last name or a display name.'));
          given.focus();
          return;
        }
        if (bad) {
          problem.replaceChildren(message('error', `“${bad}” is not an e-mail address.`));
          emails.focus();
          return;
        }
        try {
          if (stored) {
            await apiText('PUT', `/api/v1/contacts/${contact.id}`, writeCard(stored.text, form), 'text/vcard', stored.etag);
          } else {
            await apiText('POST', `/api/v1/contacts?folder=${folder.id}`, writeCard(null, form, newUid()), 'text/vcard');
          }
          close(form.fn);
        } catch (error) {
          problem.replaceChildren(message('error', error.status === 412
            ? 'This contact was changed elsewhere meanwhile. Close this and open it again to see the changes.'
            : errorText(error)));
        }
      }
      return el('form', { class: 'con-form', onsubmit: submit },
        el('div', { class: 'field-row' }, field('con-given', 'First name', given), field('con-family', 'Last name', family)),
        field('con-fn', 'Display name', fn, 'Shown in lists; left empty: first and last name.'),
        field('con-emails', 'E-mail addresses', emails, 'One per line.'),
        field('con-phones', 'Phone numbers', phones, 'One per line.'),
        el('div', { class: 'field-row' }, field('con-org', 'Organisation', org), field('con-bday', 'Birthday', birthday)),
        field('con-note', 'Note', note),
        problem,
        el('div', { class: 'actions' },
          el('button', { type: 'button', onclick: () => close(undefined) }, readOnly ? 'Close' : 'Cancel'),
          readOnly ? null : el('button', { type: 'submit', class: 'primary' }, 'Save')));
    });
    if (saved === undefined) return;
    say('info', contact ? `Saved “${saved}”.` : `Added “${saved}”.`);
    if (current === folder) await show();
  }

  async function remove(c) {
    if (!(await confirmDialog('Delete contact', `Delete ${c.fn}? This cannot be undone.`, 'Delete'))) return;
    try {
      await api('DELETE', `/api/v1/contacts/${c.id}`);
      say('info', `Deleted “${c.fn}”.`);
    } catch (error) {
      say('error', `“${c.fn}” was not deleted: ${errorText(error)}`);
    }
    await show();
  }

  area.replaceChildren(el('p', { class: 'loading', role: 'status' }, 'Loading address books…'));
  try {
    folders = await moduleFolders('contacts');
  } catch (error) {
    area.replaceChildren(message('error', errorText(error)));
    return;
  }
  choose(folders[0] || DIRECTORY);
}
