// SPDX-License-Identifier: MIT
// The tasks view (docs/webui.md): the tasks of every tasks folder I can see, open or done,
// added with a due date, marked done (status COMPLETED) and deleted through /api/v1/tasks.
import { api, moduleFolders } from './api.js';
import { parseApi, ymd } from './caltime.js';
import { confirmDialog, el, errorText, message } from './ui.js';

const state = { filter: 'open' };

// The folder listing has no due date or status: each task is read (six at a time)
async function readAll(ids) {
  const out = [];
  for (let i = 0; i < ids.length; i += 6) {
    out.push(...await Promise.all(ids.slice(i, i + 6).map((id) => api('GET', `/api/v1/tasks/${id}`))));
  }
  return out;
}

// The JSON form of a task as read, with changes (a PUT replaces the whole object)
function form(t, changes) {
  const body = { uid: t.uid, summary: t.summary || '', status: t.status || 'NEEDS-ACTION' };
  for (const k of ['description', 'start', 'due', 'allDay', 'timezone', 'priority', 'percentComplete', 'completed', 'location', 'rrule']) {
    if (t[k] !== undefined && t[k] !== null && t[k] !== '') body[k] = t[k];
  }
  return Object.assign(body, changes);
}

const done = (t) => t.status === 'COMPLETED';

function dueText(t) {
  if (!t.due) return '';
  const d = parseApi(t.due);
  return t.due.length <= 10 ? d.toLocaleDateString(undefined, { dateStyle: 'medium' })
    : d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

export async function renderTasks(main) {
  const status = el('div', { class: 'task-status', 'aria-live': 'polite' });
  const area = el('div', {});
  const summary = el('input', { id: 'task-summary', type: 'text', required: true });
  const due = el('input', { id: 'task-due', type: 'date' });
  const folderSel = el('select', { id: 'task-folder' });
  const filters = el('div', { class: 'cal-modes', role: 'group', 'aria-label': 'Show' });
  const say = (kind, text) => status.replaceChildren(message(kind, text));
  let folders = [];
  let tasks = [];

  const addForm = el('form', { class: 'task-add', onsubmit: async (e) => {
    e.preventDefault();
    const title = summary.value.trim();
    if (!title) return;
    const body = { summary: title, status: 'NEEDS-ACTION' };
    if (due.value) Object.assign(body, { due: due.value, allDay: true });
    try {
      await api('POST', `/api/v1/tasks?folder=${folderSel.value}`, body);
      summary.value = '';
      due.value = '';
      say('info', `Added “${title}”.`);
    } catch (error) {
      say('error', `“${title}” was not added: ${errorText(error)}`);
    }
    await load();
    summary.focus();
  } },
  el('div', { class: 'field' }, el('label', { for: 'task-summary' }, 'New task'), summary),
  el('div', { class: 'field' }, el('label', { for: 'task-due' }, 'Due (optional)'), due),
  el('div', { class: 'field' }, el('label', { for: 'task-folder' }, 'List'), folderSel),
  el('button', { type: 'submit', class: 'primary' }, 'Add task'));

  main.replaceChildren(el('section', { class: 'tasks', 'aria-labelledby': 'tasks-title' },
    el('h1', { id: 'tasks-title' }, 'Tasks'), addForm, filters, status, area));

  async function setDone(t, on) {
    const now = new Date().toISOString().slice(0, 19) + 'Z';
    const changes = on ? { status: 'COMPLETED', completed: now, percentComplete: 100 } : { status: 'NEEDS-ACTION', percentComplete: 0 };
    const body = form(t, changes);
    if (!on) delete body.completed;
    try {
      await api('PUT', `/api/v1/tasks/${t.id}`, body);
      say('info', on ? `“${t.summary}” is done.` : `“${t.summary}” is open again.`);
    } catch (error) {
      say('error', `“${t.summary}” was not changed: ${errorText(error)}`);
    }
    await load();
  }

  async function remove(t) {
    if (!(await confirmDialog('Delete task', `Delete “${t.summary}”?`, 'Delete'))) return;
    try {
      await api('DELETE', `/api/v1/tasks/${t.id}`);
      say('info', `Deleted “${t.summary}”.`);
    } catch (error) {
      say('error', `“${t.summary}” was not deleted: ${errorText(error)}`);
    }
    await load();
  }

  function draw() {
    filters.replaceChildren(...[['open', 'Open'], ['done', 'Done'], ['all', 'All']].map(([f, label]) =>
      el('button', { type: 'button', 'aria-pressed': String(state.filter === f), onclick: () => { state.filter = f; draw(); } }, label)));
    const shown = tasks.filter((t) => state.filter === 'all' || (state.filter === 'done') === done(t));
    if (!shown.length) {
      area.replaceChildren(el('p', { class: 'empty' }, state.filter === 'done' ? 'No done tasks.' : state.filter === 'open' ? 'No open tasks.' : 'No tasks.'));
      return;
    }
    const today = ymd(new Date());
    area.replaceChildren(el('ul', { class: 'task-list' }, shown.map((t) => {
      const id = `task-${t.id}`;
      const late = !done(t) && t.due && t.due.slice(0, 10) < today;
      const folder = folders.find((f) => f.id === t.folder);
      return el('li', { class: done(t) ? 'done' : null },
        el('input', { type: 'checkbox', id, checked: done(t), onchange: (e) => setDone(t, e.target.checked) }),
        el('label', { for: id }, t.summary || '(no title)'),
        t.due ? el('span', { class: late ? 'due late' : 'due' }, `${late ? 'overdue: ' : 'due '}${dueText(t)}`) : null,
        folders.length > 1 && folder ? el('span', { class: 'muted' }, folder.who ? `${folder.title} (${folder.who})` : folder.title) : null,
        el('button', { type: 'button', class: 'danger', 'aria-label': `Delete ${t.summary}`, onclick: () => remove(t) }, 'Delete'));
    })));
  }

  async function load() {
    area.setAttribute('aria-busy', 'true');
    try {
      const lists = await Promise.all(folders.map((f) => api('GET', `/api/v1/tasks?folder=${f.id}`)));
      tasks = await readAll(lists.flatMap((l) => l.objects.map((o) => o.id)));
    } catch (error) {
      area.replaceChildren(message('error', `The tasks could not be loaded: ${errorText(error)}`));
      return;
    } finally {
      area.removeAttribute('aria-busy');
    }
    tasks.sort((a, b) => done(a) - done(b) || (a.due || '9999').localeCompare(b.due || '9999') || (a.summary || '').localeCompare(b.summary || ''));
    draw();
  }

  area.replaceChildren(el('p', { class: 'loading', role: 'status' }, 'Loading tasks…'));
  try {
    folders = await moduleFolders('tasks');
  } catch (error) {
    area.replaceChildren(message('error', `Your task lists could not be loaded: ${errorText(error)}`));
    return;
  }
  // the lists I may add to (folder bits ≥ 2: create objects)
  const writable = folders.filter((f) => (f.own_rights & 127) >= 2);
  folderSel.replaceChildren(...writable.map((f) => el('option', { value: f.id }, f.who ? `${f.title} (${f.who})` : f.title)));
  addForm.hidden = !writable.length;
  if (!folders.length) {
    area.replaceChildren(el('p', { class: 'empty' }, 'You have no task lists.'));
    return;
  }
  await load();
}
