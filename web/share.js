// SPDX-License-Identifier: MIT
// The share dialog: who may do what in a folder, as OX roles (docs/api.md, Permission bits),
// with users of the context found through GET /api/v1/users?q= and its groups (GET
// /api/v1/groups, filtered here; group 0 is "All users").
import { api } from './api.js';
import { clear, dialog, el, errorText, message } from './ui.js';

const OWNER_BITS = 403710016;
export const ROLES = [
  { name: 'Viewer', bits: 257, text: 'sees the folder and reads its files' },
  { name: 'Author', bits: 2113796, text: 'also adds files and subfolders, edits and deletes their own' },
  { name: 'Editor', bits: 4227330, text: 'also edits and deletes all files' },
  { name: 'Administrator', bits: OWNER_BITS, text: 'everything, including sharing' },
];

function roleOf(bits) {
  const role = ROLES.find((r) => r.bits === bits);
  return role ? role.name : 'Custom';
}

// The context's groups, once per dialog; All users (group 0) first. An error leaves them out
// (the users stay searchable) and is shown.
async function contextGroups() {
  const { groups } = await api('GET', '/api/v1/groups');
  return [{ id: 0, name: 'all', display_name: 'All users' }, ...groups];
}

function groupLabel(g) {
  return g.display_name && g.display_name !== g.name ? `${g.display_name} (${g.name})` : g.display_name || g.name;
}

async function userName(uid) {
  try {
    const u = await api('GET', `/api/v1/users/${uid}`);
    return u.display_name || u.login;
  } catch (error) {
    return `User ${uid}`;
  }
}

// Opens the dialog for folder; changed() runs after the permissions were saved.
export async function openShareDialog(folder, changed) {
  const entries = folder.permissions
    .filter((p) => !(p.entity === folder.owner && !p.group))
    .map((p) => Object.assign({}, p));
  const names = new Map();
  await Promise.all(entries.filter((p) => !p.group).map(async (p) => {
    names.set(p.entity, await userName(p.entity));
  }));
  let groups = [];
  let groupsError = null;
  try {
    groups = await contextGroups();
  } catch (error) {
    groupsError = error;
  }
  const groupNames = new Map(groups.map((g) => [g.id, g.display_name || g.name]));

  await dialog(`Share ${folder.title}`, (d, close) => {
    const list = el('ul', { class: 'share-list', 'aria-label': 'Who has access' });
    const status = el('div', { 'aria-live': 'polite' });
    const search = el('input', { id: 'share-search', type: 'search', autocomplete: 'off', 'aria-describedby': 'share-hint' });
    const results = el('ul', { class: 'share-results', 'aria-label': 'Matching users and groups' });

    function entryName(p) {
      if (p.group) return p.entity === 0 ? 'All users' : `Group ${groupNames.get(p.entity) || p.entity}`;
      return names.get(p.entity) || `User ${p.entity}`;
    }

    function add(entity, group) {
      if (!entries.some((p) => p.group === group && p.entity === entity)) {
        entries.push({ entity, group, bits: ROLES[0].bits });
      }
      search.value = '';
      clear(results);
      draw();
    }

    function draw() {
      clear(list, entries.length ? entries.map((p, i) => {
        const id = `role-${i}`;
        const select = el('select', {
          id,
          onchange: () => { p.bits = Number(select.value); },
        }, ROLES.map((r) => el('option', { value: r.bits, selected: r.bits === p.bits }, r.name)),
        ROLES.some((r) => r.bits === p.bits) ? null : el('option', { value: p.bits, selected: true }, 'Custom'));
        return el('li', {},
          el('label', { for: id }, entryName(p)),
          select,
          el('button', { type: 'button', 'aria-label': `Remove ${entryName(p)}`, onclick: () => { entries.splice(i, 1); draw(); } }, 'Remove'));
      }) : [el('li', { class: 'muted' }, 'Only you have access.')]);
    }

    let timer = null;
    search.addEventListener('input', () => {
      clearTimeout(timer);
      timer = setTimeout(find, 250);
    });

    async function find() {
      const q = search.value.trim();
      if (!q) {
        clear(results);
        return;
      }
      const lower = q.toLowerCase();
      const matching = groups.filter((g) => `${g.name} ${g.display_name || ''}`.toLowerCase().includes(lower));
      const groupItems = matching.map((g) => el('li', {},
        el('button', { type: 'button', onclick: () => add(g.id, true) }, `Add group ${groupLabel(g)}`)));
      let userItems;
      try {
        const { users } = await api('GET', `/api/v1/users?q=${encodeURIComponent(q)}`);
        userItems = users.filter((u) => u.id !== folder.owner).map((u) => el('li', {},
          el('button', {
            type: 'button',
            onclick: () => {
              names.set(u.id, u.display_name || u.login);
              add(u.id, false);
            },
          }, `Add ${u.display_name || u.login} (${u.login})`)));
      } catch (error) {
        userItems = [el('li', {}, message('error', errorText(error)))];
      }
      if (search.value.trim() !== q) return; // a newer search is under way
      const items = [...userItems, ...groupItems];
      clear(results, items.length ? items : [el('li', { class: 'muted' }, 'No user or group matches.')]);
    }

    async function save() {
      try {
        await api('PATCH', `/api/v1/folders/${folder.id}`, {
          permissions: entries.map((p) => ({ entity: p.entity, group: p.group, bits: p.bits })),
        });
        close(true);
        changed();
      } catch (error) {
        status.replaceChildren(message('error', errorText(error)));
      }
    }

    draw();
    return el('div', { class: 'share' },
      list,
      el('label', { for: 'share-search' }, 'Add people or groups'),
      search,
      el('p', { class: 'hint', id: 'share-hint' }, 'Type part of a name, login or group name.'),
      groupsError ? message('error', `Groups cannot be listed: ${errorText(groupsError)}`) : null,
      results,
      el('details', {}, el('summary', {}, 'What the roles allow'),
        el('dl', {}, ROLES.map((r) => [el('dt', {}, r.name), el('dd', {}, r.text)]))),
      status,
      el('div', { class: 'actions' },
        el('button', { type: 'button', onclick: () => close(false) }, 'Cancel'),
        el('button', { type: 'button', class: 'primary', onclick: save }, 'Save')));
  });
}

export { roleOf };
