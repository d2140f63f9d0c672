// SPDX-License-Identifier: MIT
// Files: the folder tree, the list of a folder's files, upload (button and drag-and-drop, with
// progress), download, versions, and folder actions (new, rename, move, delete, share).
import { api, download, upload } from './api.js';
import { openShareDialog } from './share.js';
import {
  clear, confirmDialog, dialog, el, errorText, formatDate, formatSize, message, promptDialog,
} from './ui.js';

const FILES_ROOT = 4;
const SHARED_ROOT = 3;
const PUBLIC_ROOT = 2;
const ADMIN_BIT = 1 << 28;

function folderLevel(bits) {
  return bits & 0x7f;
}

export function renderFiles(main) {
  const tree = el('nav', { class: 'tree', 'aria-label': 'Folders' });
  const pane = el('section', { class: 'pane', 'aria-labelledby': 'folder-title' });
  main.replaceChildren(el('div', { class: 'files' }, tree, pane));
  let current = null;

  // One tree level below parent (an id or "u:<uid>"); shown empty states say so.
  async function branch(parent, filter) {
    const list = el('ul', { class: 'branch' });
    list.append(el('li', { class: 'muted' }, 'Loading…'));
    try {
      const { folders } = await api('GET', `/api/v1/folders?parent=${encodeURIComponent(parent)}`);
      const shown = folders.filter(filter || (() => true));
      clear(list, shown.length ? shown.map(node) : [el('li', { class: 'muted' }, 'No folders')]);
    } catch (error) {
      clear(list, el('li', {}, message('error', errorText(error))));
    }
    return list;
  }

  function node(folder) {
    const item = el('li', {});
    const select = el('button', {
      type: 'button',
      class: 'tree-item',
      'data-folder': folder.id,
      onclick: () => (folder.virtual ? toggle() : open(folder)),
    }, folder.title);
    let expanded = false;
    let children = null;
    const toggleButton = el('button', {
      type: 'button',
      class: 'toggle',
      'aria-expanded': 'false',
      'aria-label': `Show folders in ${folder.title}`,
      onclick: () => toggle(),
    }, '▸');
    async function toggle() {
      expanded = !expanded;
      toggleButton.setAttribute('aria-expanded', String(expanded));
      toggleButton.textContent = expanded ? '▾' : '▸';
      if (expanded) {
        children = await branch(folder.id, (f) => f.module === 'infostore' || f.virtual);
        item.append(children);
      } else if (children) {
        children.remove();
      }
    }
    item.append(folder.subfolders ? toggleButton : el('span', { class: 'toggle-space' }), select);
    return item;
  }

  async function section(title, parent, filter) {
    const heading = el('h2', { class: 'tree-heading' }, title);
    const wrap = el('div', {}, heading);
    tree.append(wrap);
    wrap.append(await branch(parent, filter));
  }

  function markCurrent() {
    for (const b of tree.querySelectorAll('.tree-item')) {
      if (current && b.dataset.folder === String(current.id)) b.setAttribute('aria-current', 'true');
      else b.removeAttribute('aria-current');
    }
  }

  async function open(folder) {
    current = folder;
    markCurrent();
    const canCreate = folderLevel(folder.own_rights) >= 2;
    const isAdmin = (folder.own_rights & ADMIN_BIT) !== 0;
    const canDelete = ((folder.own_rights >> 21) & 0x7f) > 0; // own or all files
    const status = el('div', { class: 'pane-status', 'aria-live': 'polite' });
    const body = el('div', { class: 'file-list' }, el('p', { class: 'loading', role: 'status' }, 'Loading files…'));
    // the native file input stays hidden; a real button opens it (keyboard and screen readers)
    const picker = el('input', {
      type: 'file', multiple: true, id: 'upload-input', hidden: true,
      onchange: () => {
        sendFiles([...picker.files]);
        picker.value = '';
      },
    });
    const toolbar = el('div', { class: 'toolbar', role: 'toolbar', 'aria-label': 'Folder actions' },
      canCreate ? el('button', { type: 'button', class: 'primary', onclick: () => picker.click() }, 'Upload files') : null,
      canCreate ? picker : null,
      folderLevel(folder.own_rights) >= 4 ? el('button', { type: 'button', onclick: newFolder }, 'New folder') : null,
      isAdmin && !folder.default ? el('button', { type: 'button', onclick: renameFolder }, 'Rename') : null,
      isAdmin && !folder.default ? el('button', { type: 'button', onclick: moveFolder }, 'Move') : null,
      isAdmin ? el('button', { type: 'button', onclick: () => openShareDialog(folder, () => open(folder)) }, 'Share') : null,
      isAdmin && !folder.default ? el('button', { type: 'button', class: 'danger', onclick: deleteFolder }, 'Delete folder') : null);
    const drop = el('div', { class: 'dropzone', hidden: !canCreate }, 'Drop files here to upload them to this folder.');
    pane.replaceChildren(el('h1', { id: 'folder-title' }, folder.title), toolbar, drop, status, body);

    if (canCreate) {
      pane.ondragover = (e) => {
        e.preventDefault();
        drop.classList.add('over');
      };
      pane.ondragleave = () => drop.classList.remove('over');
      pane.ondrop = (e) => {
        e.preventDefault();
        drop.classList.remove('over');
        sendFiles([...e.dataTransfer.files]);
      };
    } else {
      pane.ondragover = pane.ondrop = pane.ondragleave = null;
    }

    await list();

    async function list() {
      try {
        const { files } = await api('GET', `/api/v1/files?folder=${folder.id}`);
        if (current !== folder) return;
        if (!files.length) {
          clear(body, el('p', { class: 'empty' }, canCreate ? 'This folder has no files yet. Upload some with the button above or by dropping them here.' : 'This folder has no files.'));
          return;
        }
        const rows = files.map((f) => el('tr', {},
          el('th', { scope: 'row', class: 'name' }, f.name),
          el('td', { class: 'size' }, formatSize(f.size)),
          el('td', { class: 'date' }, formatDate(f.modified)),
          el('td', { class: 'actions' }, el('div', { class: 'row-actions' },
            el('button', { type: 'button', 'aria-label': `Download ${f.name}`, onclick: () => save(f, 0) }, 'Download'),
            el('button', { type: 'button', 'aria-label': `Versions of ${f.name}`, onclick: () => versions(f) }, 'Versions'),
            canDelete ? el('button', { type: 'button', class: 'danger', 'aria-label': `Delete ${f.name}`, onclick: () => remove(f) }, 'Delete') : null))));
        clear(body, el('table', {},
          el('caption', { class: 'visually-hidden' }, `Files in ${folder.title}`),
          el('thead', {}, el('tr', {},
            el('th', { scope: 'col' }, 'Name'),
            el('th', { scope: 'col', class: 'size' }, 'Size'),
            el('th', { scope: 'col', class: 'date' }, 'Modified'),
            el('th', { scope: 'col' }, el('span', { class: 'visually-hidden' }, 'Actions')))),
          el('tbody', {}, rows)));
      } catch (error) {
        clear(body, message('error', errorText(error)));
      }
    }

    async function sendFiles(files) {
      for (const file of files) {
        const bar = el('progress', { max: '1', value: '0', 'aria-label': `Uploading ${file.name}` });
        const line = el('p', { class: 'upload' }, `Uploading ${file.name} `, bar);
        status.append(line);
        try {
          await upload(`/api/v1/files?folder=${folder.id}&name=${encodeURIComponent(file.name)}`,
            file, (fraction) => { bar.value = fraction; });
          line.replaceWith(message('info', `Uploaded ${file.name}.`));
        } catch (error) {
          line.replaceWith(message('error', `${file.name} was not uploaded: ${errorText(error)}`));
        }
      }
      await list();
    }

    async function save(file, version) {
      try {
        const q = version ? `?version=${version}` : '';
        const blob = await download(`/api/v1/files/${file.id}/content${q}`);
        const url = URL.createObjectURL(blob);
        const a = el('a', { href: url, download: file.name, class: 'visually-hidden' });
        document.body.append(a);
        a.click();
        a.remove();
        setTimeout(() => URL.revokeObjectURL(url), 60000);
      } catch (error) {
        status.append(message('error', `${file.name} could not be downloaded: ${errorText(error)}`));
      }
    }

    async function versions(file) {
      let details;
      try {
        details = await api('GET', `/api/v1/files/${file.id}`);
      } catch (error) {
        status.append(message('error', errorText(error)));
        return;
      }
      await dialog(`Versions of ${file.name}`, (d, close) => el('div', {},
        el('ul', { class: 'versions' }, details.versions.map((v) => el('li', {},
          el('span', {}, `Version ${v.version}${v.version === details.version ? ' (current)' : ''} · ${formatSize(v.size)} · ${formatDate(v.created)}`),
          el('button', { type: 'button', 'aria-label': `Download version ${v.version}`, onclick: () => save(file, v.version) }, 'Download')))),
        el('div', { class: 'actions' }, el('button', { type: 'button', onclick: () => close() }, 'Close'))));
    }

    async function remove(file) {
      if (!(await confirmDialog('Delete file', `Delete ${file.name} with all its versions?`, 'Delete'))) return;
      try {
        await api('DELETE', `/api/v1/files/${file.id}`);
        status.append(message('info', `Deleted ${file.name}.`));
      } catch (error) {
        status.append(message('error', errorText(error)));
      }
      await list();
    }

    async function change(patch, done) {
      try {
        const changed = await api('PATCH', `/api/v1/folders/${folder.id}`, patch);
        await rebuildTree();
        if (changed) await open(changed);
        if (done) status.append(message('info', done));
      } catch (error) {
        status.append(message('error', errorText(error)));
      }
    }

    async function newFolder() {
      const title = await promptDialog('New folder', 'Name', '', 'Create');
      if (!title) return;
      try {
        const created = await api('POST', '/api/v1/folders', { parent: folder.id, title });
        await rebuildTree();
        await open(created);
      } catch (error) {
        status.append(message('error', errorText(error)));
      }
    }

    async function renameFolder() {
      const title = await promptDialog('Rename folder', 'New name', folder.title, 'Rename');
      if (title && title !== folder.title) await change({ title });
    }

    async function moveFolder() {
      let folders;
      try {
        folders = (await api('GET', `/api/v1/folders?parent=${FILES_ROOT}`)).folders;
      } catch (error) {
        status.append(message('error', errorText(error)));
        return;
      }
      const targets = [{ id: FILES_ROOT, title: 'Files (top level)' }]
        .concat(folders.filter((f) => f.id !== folder.id && f.id !== folder.parent));
      const parent = await dialog(`Move ${folder.title}`, (d, close) => {
        const select = el('select', { id: 'move-target' },
          targets.map((f) => el('option', { value: f.id }, f.title)));
        return el('form', { onsubmit: (e) => { e.preventDefault(); close(Number(select.value)); } },
          el('label', { for: 'move-target' }, 'Move into'),
          select,
          el('div', { class: 'actions' },
            el('button', { type: 'button', onclick: () => close(undefined) }, 'Cancel'),
            el('button', { type: 'submit', class: 'primary' }, 'Move')));
      });
      if (parent) await change({ parent }, `Moved ${folder.title}.`);
    }

    async function deleteFolder() {
      if (!(await confirmDialog('Delete folder', `Delete ${folder.title} with its subfolders and files?`, 'Delete'))) return;
      try {
        await api('DELETE', `/api/v1/folders/${folder.id}`);
        await start();
      } catch (error) {
        status.append(message('error', errorText(error)));
      }
    }
  }

  async function rebuildTree() {
    tree.replaceChildren();
    await section('My files', FILES_ROOT);
    await section('Shared with me', SHARED_ROOT);
    await section('Public files', PUBLIC_ROOT, (f) => f.module === 'infostore');
    markCurrent();
  }

  async function start() {
    pane.replaceChildren(el('p', { class: 'loading', role: 'status' }, 'Loading folders…'));
    await rebuildTree();
    try {
      const { folders } = await api('GET', `/api/v1/folders?parent=${FILES_ROOT}`);
      const home = folders.find((f) => f.default) || folders[0];
      if (home) await open(home);
      else pane.replaceChildren(el('p', { class: 'empty' }, 'You have no file folders.'));
    } catch (error) {
      pane.replaceChildren(message('error', errorText(error)));
    }
  }

  return start();
}
