// SPDX-License-Identifier: MIT
// The calendar view (docs/webui.md): day, week and month of the calendars I can see (mine,
// public and shared folders of module calendar), loaded only when the view is opened. Events
// are created, edited and deleted in a dialog; in the day and week views they move by drag
// (pointer events, so mouse, pen and touch) or with Alt+arrow keys. Invitations waiting for my
// answer are listed beside the calendars; cancelled events are struck through (calinvite.js).
import { api, moduleFolders } from './api.js';
import { addDays, DAY_MS, dayLabel, hm, startOfDay, startOfWeek, utc, ymd } from './caltime.js';
import { createEvent, deleteEvent, eventDialog, eventValues, instanceTimes, saveEvent, scopeDialog } from './calevent.js';
import { replyButtons, schedulingOf } from './calinvite.js';
import { confirmDialog, el, errorText, message } from './ui.js';

const HOUR_PX = 48;
const STEP_MIN = 15;
const state = { mode: window.innerWidth < 700 ? 'day' : 'week', day: startOfDay(new Date()), hidden: new Set() };
let calendars = null; // folders of module calendar

function range() {
  if (state.mode === 'day') return [state.day, addDays(state.day, 1)];
  if (state.mode === 'week') {
    const s = startOfWeek(state.day);
    return [s, addDays(s, 7)];
  }
  const first = new Date(state.day.getFullYear(), state.day.getMonth(), 1);
  const s = startOfWeek(first);
  return [s, addDays(s, 42)];
}

function title() {
  if (state.mode === 'day') return dayLabel(state.day, true);
  if (state.mode === 'month') return state.day.toLocaleDateString(undefined, { month: 'long', year: 'numeric' });
  const [s, e] = range();
  const last = addDays(e, -1);
  return `${s.toLocaleDateString(undefined, { day: 'numeric', month: 'short' })} – ${last.toLocaleDateString(undefined, { day: 'numeric', month: 'short', year: 'numeric' })}`;
}

function step(n) {
  if (state.mode === 'month') state.day = new Date(state.day.getFullYear(), state.day.getMonth() + n, 1);
  else state.day = addDays(state.day, n * (state.mode === 'week' ? 7 : 1));
}

async function loadInstances(start, end) {
  const shown = calendars.filter((c) => !state.hidden.has(c.id));
  const answers = await Promise.all(shown.map((c) =>
    api('GET', `/api/v1/events?folder=${c.id}&start=${utc(start)}&end=${utc(end)}`)));
  const all = [];
  answers.forEach((a, i) => {
    for (const inst of a.instances) all.push(Object.assign(inst, { folder: shown[i].id, color: Math.max(0, calendars.findIndex((c) => c.id === shown[i].id)) % 6 }, instanceTimes(inst)));
  });
  return all.sort((a, b) => a.start - b.start || b.end - a.end);
}

const REPLIED = { ACCEPTED: 'Accepted', TENTATIVE: 'Answered tentative', DECLINED: 'Declined' };

// An instance in a calendar of mine (not one shared with me: my answer there is not mine to give)
const own = (inst) => !(calendars.find((c) => c.id === inst.folder) || {}).who;

// Marks the event buttons of cancelled events and of invitations not answered yet (their
// scheduling fields come after the grid is drawn)
function markScheduling(area, instances, details) {
  const mine = new Set(instances.filter(own).map((i) => i.id));
  for (const b of area.querySelectorAll('.cal-ev[data-id]')) {
    const id = Number(b.dataset.id);
    const d = details.get(id);
    if (!d || b.dataset.marked) continue;
    b.dataset.marked = '1';
    const label = b.getAttribute('aria-label');
    if (d.status === 'CANCELLED') {
      b.classList.add('cal-cancelled');
      b.setAttribute('aria-label', `Cancelled: ${label}`);
      b.prepend(el('span', { class: 'cal-ev-flag', 'aria-hidden': 'true' }, 'Cancelled '));
    } else if (!mine.has(id)) {
      continue;
    } else if (d.myStatus === 'NEEDS-ACTION') {
      b.classList.add('cal-pending');
      b.setAttribute('aria-label', `${label}, invitation waiting for your answer`);
    } else if (d.myStatus) {
      b.setAttribute('aria-label', `${label}, ${REPLIED[d.myStatus] || d.myStatus}`);
      if (d.myStatus === 'DECLINED') b.classList.add('cal-declined');
    }
  }
}

const timeText = (inst) => (inst.allDay ? 'all day' : `${hm(inst.start)}–${hm(inst.end)}`);

function eventButton(inst, extra) {
  return el('button', Object.assign({
    type: 'button', class: `cal-ev cal-c${inst.color}`, 'data-id': inst.id,
    'aria-label': `${inst.summary || '(no title)'}, ${dayLabel(inst.start, true)}, ${timeText(inst)}${inst.recurrenceId ? ', repeats' : ''}`,
  }, extra), el('span', { class: 'cal-ev-time', 'aria-hidden': 'true' }, inst.allDay ? '' : hm(inst.start)),
  ' ', // where a narrow event wraps
  el('span', { class: 'cal-ev-title', 'aria-hidden': 'true' }, inst.summary || '(no title)'));
}

// Overlapping events side by side: lane and lanes of each, per cluster of overlaps
function lanes(events) {
  let cluster = [];
  let clusterEnd = 0;
  const flush = () => {
    const n = Math.max(1, ...cluster.map((e) => e.lane + 1));
    for (const e of cluster) e.lanes = n;
    cluster = [];
  };
  for (const e of events) {
    if (cluster.length && e.start >= clusterEnd) flush();
    const used = new Set(cluster.filter((c) => c.end > e.start).map((c) => c.lane));
    let lane = 0;
    while (used.has(lane)) lane++;
    e.lane = lane;
    cluster.push(e);
    clusterEnd = Math.max(clusterEnd, e.end.getTime());
  }
  flush();
}

function timeGrid(days, instances, ctx) {
  const allDayRow = el('div', { class: 'cal-allday' }, el('div', { class: 'cal-gutter' }, el('span', { class: 'visually-hidden' }, 'All day')));
  const head = el('div', { class: 'cal-head' }, el('div', { class: 'cal-gutter' }));
  const body = el('div', { class: 'cal-body' });
  const hours = el('div', { class: 'cal-gutter cal-hours', 'aria-hidden': 'true' });
  for (let h = 0; h < 24; h++) hours.append(el('div', { class: 'cal-hour' }, `${String(h).padStart(2, '0')}:00`));
  body.append(hours);
  const today = ymd(new Date());
  for (const day of days) {
    const next = addDays(day, 1);
    const label = dayLabel(day, true);
    head.append(el('div', { class: ymd(day) === today ? 'cal-dayname today' : 'cal-dayname' },
      el('button', { type: 'button', class: 'link', 'aria-label': `Show ${label}`, onclick: () => ctx.goDay(day) }, dayLabel(day, false))));
    allDayRow.append(el('div', { class: 'cal-allday-cell' }, instances
      .filter((i) => i.allDay && i.start < next && i.end > day)
      .map((i) => eventButton(i, { onclick: () => ctx.open(i) }))));
    const col = el('div', { class: 'cal-col', role: 'group', 'aria-label': label, 'data-day': ymd(day) });
    col.dayStart = day;
    col.addEventListener('dblclick', (e) => {
      if (e.target !== col) return;
      const min = Math.floor((e.offsetY / HOUR_PX) * 60 / 30) * 30;
      ctx.create(new Date(day.getTime() + min * 60000));
    });
    const timed = instances.filter((i) => !i.allDay && i.start < next && i.end > day);
    lanes(timed);
    for (const i of timed) {
      const from = Math.max(0, (i.start - day) / 60000);
      const to = Math.min(1440, (i.end - day) / 60000);
      const b = eventButton(i, { onclick: () => ctx.open(i), onkeydown: (e) => ctx.key(e, i) });
      b.style.top = `${(from / 60) * HOUR_PX}px`;
      b.style.height = `${Math.max(18, ((to - from) / 60) * HOUR_PX - 2)}px`;
      b.style.left = `${(i.lane / i.lanes) * 100}%`;
      b.style.width = `${100 / i.lanes}%`;
      b.addEventListener('pointerdown', (e) => ctx.drag(e, i, b));
      col.append(b);
    }
    body.append(col);
  }
  const scroller = el('div', { class: 'cal-scroll', role: 'region', tabindex: 0, 'aria-label': 'Hours' }, body);
  const grid = el('div', { class: `cal-grid cal-${days.length === 1 ? 'day' : 'week'}` }, head, allDayRow, scroller);
  return grid;
}

function monthGrid(instances, ctx) {
  const [s] = range();
  const month = state.day.getMonth();
  const today = ymd(new Date());
  const rows = [];
  for (let w = 0; w < 6; w++) {
    const cells = [];
    for (let d = 0; d < 7; d++) {
      const day = addDays(s, w * 7 + d);
      const next = addDays(day, 1);
      const items = instances.filter((i) => i.start < next && (i.end > day || (i.end.getTime() === i.start.getTime() && i.start >= day)));
      const shown = items.slice(0, 3);
      cells.push(el('td', { class: [day.getMonth() !== month ? 'other' : '', ymd(day) === today ? 'today' : ''].join(' ').trim() || null },
        el('button', { type: 'button', class: 'link cal-daynum', 'aria-label': `Show ${dayLabel(day, true)}`, onclick: () => ctx.goDay(day) }, String(day.getDate())),
        shown.map((i) => eventButton(i, { onclick: () => ctx.open(i) })),
        items.length > 3 ? el('button', { type: 'button', class: 'link', onclick: () => ctx.goDay(day) }, `${items.length - 3} more`) : null));
    }
    rows.push(el('tr', {}, cells));
  }
  const names = [];
  for (let d = 0; d < 7; d++) names.push(el('th', { scope: 'col' }, addDays(s, d).toLocaleDateString(undefined, { weekday: 'short' })));
  return el('table', { class: 'cal-month' }, el('caption', { class: 'visually-hidden' }, title()), el('thead', {}, el('tr', {}, names)), el('tbody', {}, rows));
}

// Renders the view into main; resolves when its events are shown
export async function renderCalendar(main) {
  const status = el('div', { class: 'cal-status', 'aria-live': 'polite' });
  const area = el('div', { class: 'cal-area' });
  const heading = el('h1', { id: 'cal-title' });
  const list = el('div', { class: 'cal-list' });
  const invitations = el('div', { class: 'cal-invitations', 'aria-live': 'polite' });
  const modes = el('div', { class: 'cal-modes', role: 'group', 'aria-label': 'View' });
  const toolbar = el('div', { class: 'toolbar' },
    el('button', { type: 'button', class: 'primary', onclick: () => create(null) }, 'New event'),
    el('button', { type: 'button', onclick: () => { state.day = startOfDay(new Date()); draw(); } }, 'Today'),
    el('button', { type: 'button', id: 'cal-prev', onclick: () => { step(-1); draw(); } }, '‹ Previous'),
    el('button', { type: 'button', id: 'cal-next', onclick: () => { step(1); draw(); } }, 'Next ›'),
    modes);
  main.replaceChildren(el('div', { class: 'calendar' },
    el('aside', { class: 'cal-side' }, el('h2', { class: 'tree-heading' }, 'Calendars'), list,
      el('h2', { class: 'tree-heading', id: 'cal-inv-title' }, 'Invitations'), invitations),
    el('section', { class: 'cal-main', 'aria-labelledby': 'cal-title' }, heading, toolbar, status, area)));

  const say = (kind, text) => status.replaceChildren(message(kind, text));
  let generation = 0;

  async function draw(focusId) {
    const gen = ++generation;
    heading.textContent = title();
    modes.replaceChildren(...[['day', 'Day'], ['week', 'Week'], ['month', 'Month']].map(([m, t]) =>
      el('button', { type: 'button', 'aria-pressed': String(state.mode === m), onclick: () => { state.mode = m; draw(); } }, t)));
    area.setAttribute('aria-busy', 'true');
    if (!area.firstChild) area.replaceChildren(el('p', { class: 'loading', role: 'status' }, 'Loading events…'));
    const [s, e] = range();
    let instances;
    try {
      instances = await loadInstances(s, e);
    } catch (error) {
      if (gen !== generation) return;
      area.removeAttribute('aria-busy');
      area.replaceChildren(message('error', `The events could not be loaded: ${errorText(error)}`),
        el('button', { type: 'button', onclick: () => draw() }, 'Try again'));
      return;
    }
    if (gen !== generation) return;
    const t0 = performance.now();
    const days = state.mode === 'day' ? [s] : Array.from({ length: 7 }, (_, i) => addDays(s, i));
    const grid = state.mode === 'month' ? monthGrid(instances, ctx) : timeGrid(days, instances, ctx);
    const empty = instances.length ? null
      : el('p', { class: 'empty' }, `No events this ${state.mode}. Use “New event”${state.mode === 'month' ? '' : ' or double-click a time'} to add one.`);
    area.replaceChildren(...[empty, grid, state.mode !== 'month' ? el('p', { class: 'hint' },
      'Drag an event to move it, or focus it and press Alt with the arrow keys (a day left or right, 15 minutes up or down).') : null].filter(Boolean));
    area.removeAttribute('aria-busy');
    const scroller = area.querySelector('.cal-scroll');
    if (scroller && !focusId) scroller.scrollTop = 7 * HOUR_PX;
    void area.offsetHeight; // layout, measured with the rest
    window.tandemCalendarRender = { ms: performance.now() - t0, events: instances.length, mode: state.mode };
    if (focusId) {
      const b = area.querySelector(`.cal-ev[data-id="${focusId}"]`);
      if (b) b.focus();
    }
    const details = await schedulingOf(instances);
    if (gen === generation) markScheduling(area, instances, details);
  }

  // The invitations of the next 31 days (and earlier ones still shown) waiting for my answer
  async function drawInvitations() {
    const from = startOfDay(new Date());
    let pending;
    try {
      const instances = await loadInstances(from, addDays(from, 31));
      const details = await schedulingOf(instances);
      const seen = new Set();
      pending = instances.filter((i) => {
        const d = details.get(i.id);
        if (!d || !own(i) || d.myStatus !== 'NEEDS-ACTION' || d.status === 'CANCELLED' || seen.has(i.id)) return false;
        seen.add(i.id);
        return true;
      });
    } catch (error) {
      invitations.replaceChildren(message('error', `Invitations could not be loaded: ${errorText(error)}`));
      return;
    }
    invitations.replaceChildren(pending.length ? el('ul', { class: 'cal-inv-list', 'aria-labelledby': 'cal-inv-title' }, pending.map((i) =>
      el('li', {},
        el('button', { type: 'button', class: 'link', onclick: () => open(i) }, i.summary || '(no title)'),
        el('span', { class: 'muted' }, ` ${dayLabel(i.start, true)}, ${timeText(i)}`),
        replyButtons('NEEDS-ACTION', (status) => answer(i, status)))))
      : el('p', { class: 'empty' }, 'No invitations waiting.'));
  }

  async function answer(inst, status) {
    try {
      await api('POST', `/api/v1/events/${inst.id}/reply`, { status });
      say('info', `${REPLIED[status]} “${inst.summary}”.`);
    } catch (error) {
      say('error', `Your answer to “${inst.summary}” was not sent: ${errorText(error)}`);
    }
    await Promise.all([draw(inst.id), drawInvitations()]);
  }

  // saves a change; scope asked for an instance of a series
  async function change(inst, values, verb) {
    let scope = 'all';
    if (inst.recurrenceId) {
      scope = await scopeDialog(`${verb} a repeating event`, verb);
      if (!scope) return draw(inst.id);
    }
    try {
      await saveEvent(inst, values, scope);
      say('info', `Saved “${values.summary}”.`);
    } catch (error) {
      say('error', `“${values.summary}” was not saved: ${errorText(error)}`);
    }
    return draw(inst.id);
  }

  async function create(start) {
    // the calendars I may add to (folder bits ≥ 2: create objects), my default one first
    const writable = calendars.filter((c) => (c.own_rights & 127) >= 2)
      .map((c) => ({ id: c.id, label: c.who ? `${c.title} (${c.who})` : c.title }));
    if (!writable.length) {
      say('error', 'You have no calendar you may add events to.');
      return;
    }
    let from = start;
    if (!from) {
      from = new Date(state.day);
      from.setHours(new Date().getHours() + 1, 0, 0, 0);
    }
    const v = await eventDialog('New event', { allDay: false, start: from, end: new Date(from.getTime() + 3600000) }, false, writable);
    if (!v) return;
    try {
      await createEvent(v.folder, v);
      say('info', `Added “${v.summary}”.`);
    } catch (error) {
      say('error', `“${v.summary}” was not added: ${errorText(error)}`);
    }
    await draw();
  }

  async function open(inst) {
    let values;
    try {
      values = await eventValues(inst);
      if (!own(inst)) delete values.myStatus;
    } catch (error) {
      say('error', `The event could not be opened: ${errorText(error)}`);
      return;
    }
    const v = await eventDialog(values.myStatus ? 'Invitation' : 'Edit event', values, true);
    if (v && v.reply) {
      await answer(inst, v.reply);
    } else if (v === 'delete') {
      await remove(inst);
    } else if (v) {
      await change(inst, v, 'Change');
    }
  }

  async function remove(inst) {
    let scope = 'all';
    if (inst.recurrenceId) {
      scope = await scopeDialog('Delete a repeating event', 'Delete');
    } else if (!(await confirmDialog('Delete event', `Delete “${inst.summary}”?`, 'Delete'))) {
      scope = undefined;
    }
    if (!scope) return;
    try {
      await deleteEvent(inst, scope);
      say('info', `Deleted “${inst.summary}”${scope === 'one' ? ' (this one)' : ''}.`);
    } catch (error) {
      say('error', `“${inst.summary}” was not deleted: ${errorText(error)}`);
    }
    await draw();
  }

  async function move(inst, ms) {
    if (!ms) return draw(inst.id);
    let v;
    try {
      v = await eventValues(inst);
    } catch (error) {
      say('error', `“${inst.summary}” was not moved: ${errorText(error)}`);
      return draw(inst.id);
    }
    v.start = new Date(v.start.getTime() + ms);
    v.end = new Date(v.end.getTime() + ms);
    return change(inst, v, 'Move');
  }

  function key(e, inst) {
    if (!e.altKey) return;
    const moves = { ArrowLeft: -DAY_MS, ArrowRight: DAY_MS, ArrowUp: -STEP_MIN * 60000, ArrowDown: STEP_MIN * 60000 };
    if (!(e.key in moves)) return;
    e.preventDefault();
    move(inst, moves[e.key]);
  }

  function drag(e, inst, button) {
    if (e.button !== 0) return;
    const grid = button.closest('.cal-body');
    const cols = [...grid.querySelectorAll('.cal-col')];
    const x0 = e.clientX;
    const y0 = e.clientY;
    let moved = false;
    let target = null;
    const onMove = (ev) => {
      if (!moved && Math.abs(ev.clientX - x0) + Math.abs(ev.clientY - y0) < 5) return;
      moved = true;
      button.classList.add('dragging');
      const col = cols.find((c) => {
        const r = c.getBoundingClientRect();
        return ev.clientX >= r.left && ev.clientX < r.right;
      }) || button.parentElement;
      const dyMin = Math.round(((ev.clientY - y0) / HOUR_PX) * 60 / STEP_MIN) * STEP_MIN;
      const dayShift = Math.round((col.dayStart - button.parentElement.dayStart) / DAY_MS);
      target = dayShift * DAY_MS + dyMin * 60000;
      const r0 = button.parentElement.getBoundingClientRect();
      const r1 = col.getBoundingClientRect();
      button.style.transform = `translate(${r1.left - r0.left}px, ${(dyMin / 60) * HOUR_PX}px)`;
    };
    const onUp = () => {
      button.removeEventListener('pointermove', onMove);
      button.removeEventListener('pointerup', onUp);
      button.removeEventListener('pointercancel', onUp);
      if (!moved) return;
      // the click that ends a drag opens nothing
      button.addEventListener('click', (c) => c.stopImmediatePropagation(), { capture: true, once: true });
      move(inst, target);
    };
    button.setPointerCapture(e.pointerId);
    button.addEventListener('pointermove', onMove);
    button.addEventListener('pointerup', onUp);
    button.addEventListener('pointercancel', onUp);
  }

  const goDay = (day) => {
    state.day = day;
    state.mode = 'day';
    draw();
  };
  const ctx = { open, create, key, drag, goDay };

  area.replaceChildren(el('p', { class: 'loading', role: 'status' }, 'Loading calendars…'));
  try {
    calendars = await moduleFolders('calendar');
  } catch (error) {
    area.replaceChildren(message('error', `Your calendars could not be loaded: ${errorText(error)}`));
    return;
  }
  list.replaceChildren(calendars.length ? el('ul', { class: 'cal-folders' }, calendars.map((c, i) => {
    const id = `cal-show-${c.id}`;
    return el('li', { class: 'check' },
      el('input', { type: 'checkbox', id, checked: !state.hidden.has(c.id), onchange: (e) => {
        if (e.target.checked) state.hidden.delete(c.id);
        else state.hidden.add(c.id);
        draw();
      } }),
      el('span', { class: `cal-swatch cal-c${i % 6}`, 'aria-hidden': 'true' }),
      el('label', { for: id }, c.who ? `${c.title} (${c.who})` : c.title));
  })) : el('p', { class: 'empty' }, 'No calendars.'));
  invitations.replaceChildren(el('p', { class: 'loading' }, 'Loading invitations…'));
  await Promise.all([draw(), drawInvitations()]);
}
