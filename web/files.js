// SPDX-License-Identifier: MIT
// Files: the folder tree, the list of a folder's files, upload (button and drag-and-drop, with
// progress), download, versions, rename and move (a folder picker, or a row dragged onto a
// folder of the tree), and folder actions (new, rename, move, delete, share).
import { api, download, upload } from './api.js';
import { openShareDialog } from './share.js';
import {
  clear, confirmDialog, dialog, el, errorText, formatDate, formatSize, message, promptDialog,
} from './ui.js';

const FILES_ROOT = 4;
const SHARED_ROOT = 3;
const PUBLIC_ROOT = 2;
const ADMIN_BIT = 1 << 28;

const FILE_DRAG = 'application/x-tandem-file';

function folderLevel(bits) {
  return bits & 0x7f;
}

// Every files folder I can see, depth first as the tree shows them ({folder, depth}), the
// user nodes of "Shared with me" included as virtual entries; at most 500.
async function allFolders() {
  const out = [];
  async function walk(parent, depth, filter) {
    const { folders } = await api('GET', `/api/v1/folders?parent=${encodeURIComponent(parent)}`);
    for (const f of folders.filter(filter)) {
      if (out.length >= 500) return;
      out.push({ folder: f, depth });
      if (f.subfolders) await walk(f.id, depth + 1, (c) => c.module === 'infostore' || c.virtual);
    }
  }
  const files = (f) => f.module === 'infostore' || f.virtual;
  await walk(FILES_ROOT, 0, files);
  await walk(SHARED_ROOT, 0, files);
  await walk(PUBLIC_ROOT, 0, (f) => f.module === 'infostore');
  return out;
}

// A dialog to pick a folder: a radio group, indented as the tree; allowed(folder) says which
// may be chosen, never `exclude` nor a folder below it; `top` (a folder) is offered first.
// Resolves to the folder, or undefined when cancelled.
export async function pickFolder(title, action, allowed, exclude, top) {
  const entries = (top ? [{ folder: top, depth: 0 }] : []).concat(await allFolders());
  let skipBelow = -1; // the depth of `exclude` while walking its subtree
  const ok = entries.map(({ folder, depth }) => {
    if (skipBelow >= 0 && depth > skipBelow) return false;
    skipBelow = folder.id === exclude ? depth : -1;
    return !folder.virtual && folder.id !== exclude && allowed(folder);
  });
  return dialog(title, (d, close) => {
    const choices = entries.map(({ folder, depth }, i) => {
      const id = `pick-${i}`;
      return el('div', { class: 'pick', 'data-depth': Math.min(depth, 6) },
        el('input', { type: 'radio', name: 'pick', id, value: i, disabled: !ok[i] }),
        el('label', { for: id }, folder.virtual ? `${folder.title} (shared with me)` : folder.title));
    });
    const status = el('div', { 'aria-live': 'polite' });
    const form = el('form', {
      onsubmit: (e) => {
        e.preventDefault();
        const chosen = form.querySelector('input[name=pick]:checked');
        if (chosen) close(entries[Number(chosen.value)].folder);
        else status.replaceChildren(message('error', 'Choose a folder first.'));
      },
    },
    el('fieldset', { class: 'picker' }, el('legend', {}, 'Folders'),
      choices.length ? choices : el('p', { class: 'empty' }, 'No folders.')),
    status,
    el('div', { class: 'actions' },
      el('button', { type: 'button', onclick: () => close(undefined) }, 'Cancel'),
      el('button', { type: 'submit', class: 'primary' }, action)));
    return form;
  });
}

export function renderFiles(main) {
  const tree = el('nav', { class: 'tree', 'aria-label': 'Folders' });
  const pane = el('section', { class: 'pane', 'aria-labelledby': 'folder-title' });
  main.replaceChildren(el('div', { class: 'files' }, tree, pane));
  let current = null;
  let moveFile = null; // (file id, target folder) of the open folder's list

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
    // a file row dropped here moves the file into this folder
    if (!folder.virtual) {
      select.addEventListener('dragover', (e) => {
        if (!e.dataTransfer.types.includes(FILE_DRAG) || folderLevel(folder.own_rights) < 2) return;
        e.preventDefault();
        e.stopPropagation();
        select.classList.add('drop-target');
      });
      select.addEventListener('dragleave', () => select.classList.remove('drop-target'));
      select.addEventListener('drop', (e) => {
        const id = e.dataTransfer.getData(FILE_DRAG);
        select.classList.remove('drop-target');
        if (!id) return;
        e.preventDefault();
        e.stopPropagation();
        if (moveFile) moveFile(Number(id), folder);
      });
    }
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
        const rows = files.map((f) => el('tr', {
          draggable: canDelete ? 'true' : false,
          ondragstart: (e) => {
            e.dataTransfer.setData(FILE_DRAG, String(f.id));
            e.dataTransfer.effectAllowed = 'move';
          },
        },
        el('th', { scope: 'row', class: 'name' }, f.name),
        el('td', { class: 'size' }, formatSize(f.size)),
        el('td', { class: 'date' }, formatDate(f.modified)),
        el('td', { class: 'actions' }, el('div', { class: 'row-actions' },
          el('button', { type: 'button', 'aria-label': `Download ${f.name}`, onclick: () => save(f, 0) }, 'Download'),
          el('button', { type: 'button', 'aria-label': `Versions of ${f.name}`, onclick: () => versions(f) }, 'Versions'),
          canDelete ? el('button', { type: 'button', 'aria-label': `Rename ${f.name}`, onclick: () => renameFile(f) }, 'Rename') : null,
          canDelete ? el('button', { type: 'button', 'aria-label': `Move ${f.name}`, onclick: () => pickTarget(f) }, 'Move') : null,
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

    // PATCH /api/v1/files/{id}: rename and move (docs/api.md); the list shows the result
    async function patchFile(file, patch, done) {
      try {
        await api('PATCH', `/api/v1/files/${file.id}`, patch);
        status.append(message('info', done));
      } catch (error) {
        status.append(message('error', `${file.name}: ${errorText(error)}`));
      }
      await list();
    }

    async function renameFile(file) {
      const name = await promptDialog(`Rename ${file.name}`, 'New name', file.name, 'Rename');
      if (name && name !== file.name) await patchFile(file, { name }, `Renamed ${file.name} to ${name}.`);
    }

    async function pickTarget(file) {
      let target;
      try {
        target = await pickFolder(`Move ${file.name}`, 'Move here',
          (f) => f.id !== folder.id && folderLevel(f.own_rights) >= 2, null, null);
      } catch (error) {
        status.append(message('error', errorText(error)));
        return;
      }
      if (target) await moveInto(file, target);
    }

    async function moveInto(file, target) {
      await patchFile(file, { folder: target.id }, `Moved ${file.name} to ${target.title}.`);
    }

    moveFile = async (id, target) => {
      if (target.id === folder.id) return;
      try {
        await moveInto(await api('GET', `/api/v1/files/${id}`), target);
      } catch (error) {
        status.append(message('error', errorText(error)));
      }
    };

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
      let target;
      try {
        target = await pickFolder(`Move ${folder.title}`, 'Move here',
          (f) => f.id !== folder.parent && folderLevel(f.own_rights) >= 4, folder.id,
          { id: FILES_ROOT, title: 'Files (top level)', own_rights: 4 });
      } catch (error) {
        status.append(message('error', errorText(error)));
        return;
      }
      if (target) await change({ parent: target.id }, `Moved ${folder.title}.`);
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
