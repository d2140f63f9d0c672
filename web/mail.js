// SPDX-License-Identifier: MIT
// The mail view (docs/webui.md): the folders with their unread counts (create, rename, delete;
// a message dropped on one moves there), the message list (maillist.js: virtual scrolling,
// sort, threads, search), the reading pane (mailread.js) and the compose dialog
// (mailcompose.js). New mail shows without a reload: GET /api/v1/mail/events is read as a
// stream through fetch (an EventSource cannot send the X-Session header) and each "mail" event
// updates the counts and, for the open folder, the list.
import { api, session } from './api.js';
import { composeDialog } from './mailcompose.js';
import { createMailList, MAIL_DRAG } from './maillist.js';
import { messagePath, renderMessage } from './mailread.js';
import { confirmDialog, dialog, el, errorText, message, promptDialog } from './ui.js';

// A folder name (UTF-8 from the API) for people.
export function folderLabel(name) {
  return name === 'INBOX' ? 'Inbox' : name;
}

export async function renderMail(main) {
  const side = el('nav', { class: 'mail-side', 'aria-label': 'Mail folders' });
  const title = el('h1', { id: 'mail-title' }, 'Mail');
  const status = el('div', { class: 'mail-status', 'aria-live': 'polite' });
  const search = el('input', { id: 'mail-search', type: 'search', autocomplete: 'off', placeholder: 'Search this folder' });
  const searchIn = el('select', { id: 'mail-search-in' },
    // subject or sender first, as webmails search: a whole-text search reads every message
    [['from,subject', 'Subject or sender'], ['all', 'Everywhere'], ['from', 'From'], ['to', 'To'],
      ['subject', 'Subject'], ['body', 'Text']]
      .map(([v, t]) => el('option', { value: v }, t)));
  const sort = el('select', { id: 'mail-sort' },
    [['date', 'Date'], ['from', 'From'], ['subject', 'Subject']].map(([v, t]) => el('option', { value: v }, t)));
  const order = el('button', { type: 'button', id: 'mail-order', 'aria-label': 'Newest first; change the order' }, '↓');
  const thread = el('input', { type: 'checkbox', id: 'mail-thread' });
  const pane = el('section', { class: 'mail-pane', 'aria-label': 'Message' },
    el('p', { class: 'empty' }, 'Choose a message to read it.'));
  const say = (kind, text) => status.replaceChildren(message(kind, text));
  const list = createMailList({ onOpen: open, onDelete: (m) => remove(m), onStatus: say });
  main.replaceChildren(el('div', { class: 'mail' }, side,
    el('section', { class: 'mail-main', 'aria-labelledby': 'mail-title' },
      el('div', { class: 'mail-head' }, title,
        el('button', { type: 'button', class: 'primary', onclick: () => compose({}, 'New message') }, 'New message')),
      el('form', { class: 'mail-tools', role: 'search', onsubmit: (e) => { e.preventDefault(); show(); } },
        el('div', { class: 'mail-tool' }, el('label', { for: 'mail-search' }, 'Search'), search),
        el('div', { class: 'mail-tool' }, el('label', { for: 'mail-search-in' }, 'In'), searchIn),
        el('div', { class: 'mail-tool' }, el('label', { for: 'mail-sort' }, 'Sort by'), el('div', { class: 'mail-sortrow' }, sort, order)),
        el('div', { class: 'check' }, thread, el('label', { for: 'mail-thread' }, 'Threads'))),
      status, list.node),
    pane));
  let folders = [];
  // the folder the server marks for a use (SPECIAL-USE: 'drafts', 'trash', …), else its usual name
  const special = (use, name) => (folders.find((f) => f.special_use === use) || { name }).name;
  let current = 'INBOX';
  let desc = true;
  let opened = null; // the message in the pane

  let timer = null;
  search.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(show, 300);
  });
  for (const c of [searchIn, sort, thread]) c.addEventListener('change', show);
  order.addEventListener('click', () => {
    desc = !desc;
    order.textContent = desc ? '↓' : '↑';
    order.setAttribute('aria-label', `${desc ? 'Newest' : 'Oldest'} first; change the order`);
    show();
  });

  function show() {
    list.show({
      folder: current, sort: sort.value, order: desc ? 'desc' : 'asc',
      q: search.value.trim(), in: searchIn.value, thread: thread.checked,
    });
  }

  let drawn = ''; // what the side shows: redrawn only when that changes (a click stays valid)
  function drawSide() {
    const key = JSON.stringify([current, folders.map((f) => [f.name, f.unread, f.selectable])]);
    if (key === drawn && side.querySelector('.mail-folder')) return;
    drawn = key;
    const item = (f) => {
      const b = el('button', {
        type: 'button', class: 'tree-item mail-folder', 'data-folder': f.name,
        'aria-current': f.name === current ? 'true' : false,
        disabled: f.selectable === false,
        onclick: () => choose(f.name),
      }, el('span', {}, folderLabel(f.name)),
      f.unread ? el('span', { class: 'mail-count' }, el('span', { class: 'visually-hidden' }, ', unread: '), f.unread) : null);
      b.addEventListener('dragover', (e) => {
        if (!e.dataTransfer.types.includes(MAIL_DRAG) || f.name === current || f.selectable === false) return;
        e.preventDefault();
        b.classList.add('drop-target');
      });
      b.addEventListener('dragleave', () => b.classList.remove('drop-target'));
      b.addEventListener('drop', (e) => {
        b.classList.remove('drop-target');
        const data = e.dataTransfer.getData(MAIL_DRAG);
        if (!data) return;
        e.preventDefault();
        const m = JSON.parse(data);
        transfer(m, f.name, 'move');
      });
      return el('li', {}, b);
    };
    const isInbox = current === 'INBOX';
    side.replaceChildren(el('h2', { class: 'tree-heading' }, 'Folders'),
      el('ul', {}, folders.map(item)),
      el('div', { class: 'mail-folder-actions' },
        el('button', { type: 'button', onclick: newFolder }, 'New folder'),
        isInbox ? null : el('button', { type: 'button', onclick: renameFolder, 'aria-label': `Rename ${folderLabel(current)}` }, 'Rename'),
        isInbox ? null : el('button', { type: 'button', class: 'danger', onclick: deleteFolder, 'aria-label': `Delete ${folderLabel(current)}` }, 'Delete')));
  }

  async function loadFolders() {
    try {
      ({ folders } = await api('GET', '/api/v1/mail/folders'));
      drawSide();
      return true;
    } catch (error) {
      side.replaceChildren(message('error', `The folders could not be loaded: ${errorText(error)}`));
      return false;
    }
  }

  function choose(name) {
    current = name;
    title.textContent = folderLabel(name);
    search.value = '';
    opened = null;
    pane.replaceChildren(el('p', { class: 'empty' }, 'Choose a message to read it.'));
    drawSide();
    show();
  }

  function setUnread(folder, delta) {
    const f = folders.find((x) => x.name === folder);
    if (f && typeof f.unread === 'number') f.unread = Math.max(0, f.unread + delta);
    drawSide();
  }

  async function open(m) {
    const folder = current;
    pane.replaceChildren(el('p', { class: 'loading', role: 'status' }, 'Loading the message…'));
    let full;
    try {
      full = await api('GET', messagePath(folder, m.uid));
    } catch (error) {
      pane.replaceChildren(message('error', errorText(error)));
      return;
    }
    opened = Object.assign(full, { folder });
    await renderMessage(pane, opened, actionsFor(opened), say);
    if (!opened.flags.includes('seen')) await setFlags(opened, { seen: true });
  }

  async function setFlags(m, patch) {
    try {
      await api('PATCH', messagePath(m.folder, m.uid), patch);
    } catch (error) {
      say('error', errorText(error));
      return;
    }
    let flags = m.flags.slice();
    for (const [k, v] of Object.entries(patch)) {
      flags = flags.filter((x) => x !== k);
      if (v) flags.push(k);
    }
    if ('seen' in patch && patch.seen !== m.flags.includes('seen')) setUnread(m.folder, patch.seen ? -1 : 1);
    m.flags = flags;
    if (m.folder === current) list.update(m.uid, { flags });
  }

  function actionsFor(m) {
    return {
      reply: (all) => prefilled(`${messagePath(m.folder, m.uid)}/reply?all=${all ? 1 : 0}`, all ? 'Reply all' : 'Reply'),
      forward: () => prefilled(`${messagePath(m.folder, m.uid)}/forward`, 'Forward'),
      // a draft reopens in compose: sending it (or saving it again) replaces it in Drafts
      edit: m.folder === special('drafts', 'Drafts') ? () => compose(draftBody(m), 'Draft') : null,
      flag: async () => {
        await setFlags(m, { flagged: !m.flags.includes('flagged') });
        if (opened === m) await renderMessage(pane, m, actionsFor(m), say);
      },
      unread: () => setFlags(m, { seen: false }),
      move: () => pickAndTransfer(m, 'move'),
      copy: () => pickAndTransfer(m, 'copy'),
      remove: () => remove(m),
    };
  }

  // The /send body for draft m (as read): its addresses, subject, text, and its attachments
  // taken from the draft itself.
  function draftBody(m) {
    const h = m.headers || {};
    return {
      to: h.to ? [h.to] : [],
      cc: h.cc ? [h.cc] : [],
      subject: h.subject || m.subject || '',
      text: m.text || '',
      attachments: (m.attachments || []).map((a) => ({
        message: { folder: m.folder, uid: m.uid, part: a.part }, filename: a.filename, size: a.size,
      })),
      draft: { folder: m.folder, uid: m.uid },
    };
  }

  // Compose prefilled from GET path (a forward's {"message": …} parts come with their names).
  async function prefilled(path, what) {
    let body;
    try {
      body = await api('GET', path);
    } catch (error) {
      say('error', `${what}: ${errorText(error)}`);
      return;
    }
    await compose(body, what);
  }

  async function compose(prefill, what) {
    const done = await composeDialog(prefill, what);
    if (done === 'sent') say('info', 'Your message was sent.');
    await loadFolders();
  }

  // Move or copy message {folder, uid} into folder `to`.
  async function transfer(m, to, how) {
    try {
      await api('POST', `${messagePath(m.folder, m.uid)}/${how}`, { to });
    } catch (error) {
      say('error', `The message was not ${how === 'move' ? 'moved' : 'copied'}: ${errorText(error)}`);
      return;
    }
    say('info', `${how === 'move' ? 'Moved' : 'Copied'} to ${folderLabel(to)}.`);
    if (how === 'move' && opened && opened.uid === m.uid && opened.folder === m.folder) {
      opened = null;
      pane.replaceChildren(el('p', { class: 'empty' }, 'Choose a message to read it.'));
    }
    await loadFolders();
    if (how === 'move') list.refresh();
  }

  async function pickAndTransfer(m, how) {
    const to = await dialog(how === 'move' ? 'Move to folder' : 'Copy to folder', (d, close) => {
      const choices = folders.filter((f) => f.selectable !== false && (how === 'copy' || f.name !== m.folder))
        .map((f, i) => el('div', { class: 'check' },
          el('input', { type: 'radio', name: 'mail-pick', id: `mail-pick-${i}`, value: f.name }),
          el('label', { for: `mail-pick-${i}` }, folderLabel(f.name))));
      const problem = el('div', { 'aria-live': 'polite' });
      const form = el('form', {
        onsubmit: (e) => {
          e.preventDefault();
          const chosen = form.querySelector('input[name=mail-pick]:checked');
          if (chosen) close(chosen.value);
          else problem.replaceChildren(message('error', 'Choose a folder first.'));
        },
      },
      el('fieldset', { class: 'picker' }, el('legend', {}, 'Folders'), choices),
      problem,
      el('div', { class: 'actions' },
        el('button', { type: 'button', onclick: () => close(undefined) }, 'Cancel'),
        el('button', { type: 'submit', class: 'primary' }, how === 'move' ? 'Move' : 'Copy')));
      return form;
    });
    if (to) await transfer(m, to, how);
  }

  async function remove(m) {
    const folder = m.folder || current;
    try {
      await api('DELETE', messagePath(folder, m.uid));
    } catch (error) {
      say('error', `The message was not deleted: ${errorText(error)}`);
      return;
    }
    const trash = special('trash', 'Trash');
    say('info', folder === trash ? 'Deleted for good.' : `Moved to ${folderLabel(trash)}.`);
    if (opened && opened.uid === m.uid) {
      opened = null;
      pane.replaceChildren(el('p', { class: 'empty' }, 'Choose a message to read it.'));
    }
    await loadFolders();
    list.refresh();
  }

  async function newFolder() {
    const name = await promptDialog('New folder', 'Name', '', 'Create');
    if (!name) return;
    try {
      await api('POST', '/api/v1/mail/folders', { name });
      say('info', `Created ${name}.`);
    } catch (error) {
      say('error', `The folder was not created: ${errorText(error)}`);
    }
    await loadFolders();
  }

  async function renameFolder() {
    const old = current;
    const name = await promptDialog(`Rename ${folderLabel(old)}`, 'New name', old, 'Rename');
    if (!name || name === old) return;
    try {
      await api('PATCH', `/api/v1/mail/folders/${encodeURIComponent(old)}`, { name });
    } catch (error) {
      say('error', `The folder was not renamed: ${errorText(error)}`);
      return;
    }
    if (await loadFolders()) choose(name);
    say('info', `Renamed to ${folderLabel(name)}.`);
  }

  async function deleteFolder() {
    const name = current;
    if (!(await confirmDialog('Delete folder', `Delete ${folderLabel(name)} with all its messages? This cannot be undone.`, 'Delete'))) return;
    try {
      await api('DELETE', `/api/v1/mail/folders/${encodeURIComponent(name)}`);
    } catch (error) {
      say('error', `The folder was not deleted: ${errorText(error)}`);
      return;
    }
    if (await loadFolders()) choose('INBOX');
    say('info', `Deleted ${folderLabel(name)}.`);
  }

  // One "mail" event: {folder, total, unread}.
  function onEvent(data) {
    const f = folders.find((x) => x.name === data.folder);
    const before = f ? f.total : undefined;
    if (f) Object.assign(f, { total: data.total, unread: data.unread });
    drawSide();
    if (data.folder === current && before !== data.total) {
      list.refresh();
      if (before !== undefined && data.total > before) {
        const n = data.total - before;
        say('info', n === 1 ? 'A new message arrived.' : `${n} new messages arrived.`);
      }
    }
  }

  await listen(main, onEvent);
  side.replaceChildren(el('p', { class: 'loading', role: 'status' }, 'Loading folders…'));
  if (await loadFolders()) choose('INBOX');
  else list.error('The mail system could not be reached. Try again later.');
}

// Reads GET /api/v1/mail/events (text/event-stream) while `main` is in the page, reconnecting
// after a pause when it drops; a server without it (404) is not asked again.
async function listen(main, onEvent) {
  const stop = new AbortController();
  const gone = () => !main.isConnected || !session();
  const onHash = () => stop.abort();
  window.addEventListener('hashchange', onHash, { once: true });
  async function run() {
    let pause = 1000;
    while (!gone() && !stop.signal.aborted) {
      try {
        const res = await fetch('/api/v1/mail/events', {
          headers: { 'X-Session': session(), Accept: 'text/event-stream' },
          credentials: 'same-origin', cache: 'no-store', signal: stop.signal,
        });
        if (res.status === 404 || res.status === 405 || res.status === 401) return;
        if (res.ok && res.body) {
          pause = 1000;
          const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
          let buffer = '';
          for (;;) {
            const { value, done } = await reader.read();
            if (done || gone()) break;
            buffer += value.replace(/\r\n/g, '\n');
            let end;
            while ((end = buffer.indexOf('\n\n')) >= 0) {
              const block = buffer.slice(0, end);
              buffer = buffer.slice(end + 2);
              const type = (block.match(/^event: ?(.*)$/m) || [])[1] || 'message';
              const data = block.split('\n').filter((l) => l.startsWith('data:')).map((l) => l.replace(/^data: ?/, '')).join('\n');
              if (type === 'mail' && data) {
                try {
                  onEvent(JSON.parse(data));
                } catch (e) {
                  // a malformed event is dropped
                }
              }
            }
          }
        }
      } catch (error) {
        if (stop.signal.aborted) return;
      }
      await new Promise((r) => setTimeout(r, pause));
      pause = Math.min(pause * 2, 30000);
    }
  }
  run();
}
