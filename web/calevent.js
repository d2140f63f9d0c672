// SPDX-License-Identifier: MIT
// An event's dialog and its changes through /api/v1/events (docs/api.md "Events"): a whole
// object through the JSON form; one instance of a series ("this one") through the iCalendar
// form, as an override with RECURRENCE-ID or an EXDATE, since the JSON form has neither.
import { api, apiText } from './api.js';
import { addDays, apiTime, browserZone, DAY_MS, hm, icsDate, icsTime, parseApi, parseDate, ymd } from './caltime.js';
import { attendeeEditor, replyButtons } from './calinvite.js';
import { dialog, el } from './ui.js';

const REPEATS = [['', 'Does not repeat'], ['DAILY', 'Daily'], ['WEEKLY', 'Weekly'], ['MONTHLY', 'Monthly']];

// instance → {start, end} as Dates (all-day: local midnights, end exclusive)
export function instanceTimes(inst) {
  return { start: parseApi(inst.start), end: parseApi(inst.end || inst.start) };
}

// FREQ and UNTIL of a simple rule; anything else is kept as written
function parseRule(rrule) {
  const m = /^FREQ=(DAILY|WEEKLY|MONTHLY)(?:;UNTIL=(\d{8})(?:T\d{6}Z?)?)?$/.exec(rrule || '');
  if (!m) return { freq: rrule ? 'custom' : '', until: '' };
  return { freq: m[1], until: m[2] ? `${m[2].slice(0, 4)}-${m[2].slice(4, 6)}-${m[2].slice(6)}` : '' };
}

function makeRule(freq, until, allDay) {
  if (!freq) return undefined;
  if (!until) return `FREQ=${freq}`;
  const day = until.replace(/-/g, '');
  return `FREQ=${freq};UNTIL=${allDay ? day : icsTime(new Date(parseDate(until).getTime() + DAY_MS - 1000))}`;
}

function field(id, label, input) {
  return el('div', { class: 'field' }, el('label', { for: id }, label), input);
}

// The create/edit form. values: {summary, location, description, allDay, start, end, rrule,
// attendees, organizer, myStatus, status}; calendars (for a new event): [{id, label}] to choose
// from, the first preselected. Resolves to the values entered (with folder and, when I
// organise it, attendees), 'delete', {reply: PARTSTAT} (my answer to an invitation), or
// undefined when cancelled.
export function eventDialog(title, values, canDelete, calendars) {
  return dialog(title, (d, close) => {
    const { freq, until } = parseRule(values.rrule);
    const summary = el('input', { id: 'ev-summary', type: 'text', required: true, value: values.summary || '' });
    const allDay = el('input', { id: 'ev-allday', type: 'checkbox', checked: values.allDay });
    const lastDay = values.allDay ? addDays(values.end, -1) : values.end;
    const startDate = el('input', { id: 'ev-start-date', type: 'date', required: true, value: ymd(values.start) });
    const startTime = el('input', { id: 'ev-start-time', type: 'time', step: 300, value: hm(values.start) });
    const endDate = el('input', { id: 'ev-end-date', type: 'date', required: true, value: ymd(lastDay) });
    const endTime = el('input', { id: 'ev-end-time', type: 'time', step: 300, value: hm(values.end) });
    const location = el('input', { id: 'ev-location', type: 'text', value: values.location || '' });
    const description = el('textarea', { id: 'ev-description', rows: 3 }, values.description || '');
    const repeat = el('select', { id: 'ev-repeat' }, REPEATS.map(([v, t]) => el('option', { value: v, selected: v === freq }, t)),
      freq === 'custom' ? el('option', { value: 'custom', selected: true }, `Custom (${values.rrule}), kept`) : null);
    const repeatUntil = el('input', { id: 'ev-until', type: 'date', value: until });
    const untilField = field('ev-until', 'Repeat until (empty: no end)', repeatUntil);
    const calendar = calendars && calendars.length > 1
      ? el('select', { id: 'ev-calendar' }, calendars.map((c) => el('option', { value: c.id }, c.label))) : null;
    const problem = el('p', { class: 'msg msg-error', role: 'alert', hidden: true });
    const readTimes = () => {
      const all = allDay.checked;
      const start = all ? parseDate(startDate.value) : new Date(`${startDate.value}T${startTime.value || '00:00'}`);
      const end = all ? addDays(parseDate(endDate.value), 1) : new Date(`${endDate.value}T${endTime.value || '00:00'}`);
      return { all, start, end };
    };
    const validTimes = () => {
      const t = readTimes();
      return Number.isNaN(t.start.getTime()) || Number.isNaN(t.end.getTime()) || t.end < t.start ? null : t;
    };
    const mine = !values.myStatus;
    const invite = attendeeEditor(Object.assign({ mine }, values), validTimes);
    for (const input of [allDay, startDate, startTime, endDate, endTime]) input.addEventListener('change', () => invite.refresh());
    const cancelled = values.status === 'CANCELLED';
    const sync = () => {
      startTime.closest('.field').hidden = allDay.checked;
      endTime.closest('.field').hidden = allDay.checked;
      untilField.hidden = !repeat.value || repeat.value === 'custom';
    };
    allDay.addEventListener('change', sync);
    repeat.addEventListener('change', sync);
    const form = el('form', {
      class: 'event-form',
      onsubmit: (e) => {
        e.preventDefault();
        const { all, start, end } = readTimes();
        if (Number.isNaN(start.getTime()) || Number.isNaN(end.getTime())) {
          problem.textContent = 'Enter a start and an end.';
        } else if (end < start || (all && end <= start)) {
          problem.textContent = 'The end is before the start.';
        } else {
          close({
            summary: summary.value.trim(), location: location.value.trim(), description: description.value,
            allDay: all, start, end, folder: calendar ? Number(calendar.value) : calendars && calendars[0] && calendars[0].id,
            rrule: repeat.value === 'custom' ? values.rrule : makeRule(repeat.value, repeatUntil.value, all),
            attendees: mine ? invite.attendees() : undefined,
          });
          return;
        }
        problem.hidden = false;
      },
    },
    cancelled ? el('p', { class: 'msg msg-error cal-cancelled-note' }, 'Cancelled: the organiser called this event off.') : null,
    values.myStatus && !cancelled ? el('div', { class: 'invitation' },
      el('p', {}, `${values.organizer ? values.organizer.name || values.organizer.email : 'The organiser'} invited you.`),
      replyButtons(values.myStatus, (status) => close({ reply: status }))) : null,
    field('ev-summary', 'Title', summary),
    calendar ? field('ev-calendar', 'Calendar', calendar) : null,
    el('div', { class: 'check' }, allDay, el('label', { for: 'ev-allday' }, 'All day')),
    el('div', { class: 'field-row' },
      field('ev-start-date', 'Starts', startDate), field('ev-start-time', 'at', startTime)),
    el('div', { class: 'field-row' },
      field('ev-end-date', 'Ends', endDate), field('ev-end-time', 'at', endTime)),
    field('ev-location', 'Location', location),
    field('ev-description', 'Description', description),
    field('ev-repeat', 'Repeat', repeat),
    untilField,
    invite.node,
    problem,
    el('div', { class: 'actions' },
      canDelete ? el('button', { type: 'button', class: 'danger', onclick: () => close('delete') }, 'Delete') : null,
      el('button', { type: 'button', onclick: () => close(undefined) }, 'Cancel'),
      el('button', { type: 'submit', class: 'primary' }, 'Save')));
    sync();
    invite.refresh();
    // an invitation: focus on the answer
    queueMicrotask(() => (form.querySelector('.reply button') || summary).focus());
    return form;
  });
}

// "this one / all" for an instance of a series: resolves to 'one', 'all' or undefined
export function scopeDialog(title, verb) {
  return dialog(title, (d, close) => el('div', {},
    el('p', {}, 'This event is part of a series.'),
    el('div', { class: 'actions' },
      el('button', { type: 'button', onclick: () => close(undefined) }, 'Cancel'),
      el('button', { type: 'button', onclick: () => close('one') }, `${verb} only this one`),
      el('button', { type: 'button', class: 'primary', onclick: () => close('all') }, `${verb} all in the series`))));
}

// The JSON form of an event with these times and fields, keeping the zone of obj if it has one
function jsonForm(obj, v) {
  const tz = v.allDay ? null : (obj && obj.timezone) || browserZone();
  const body = {
    summary: v.summary, allDay: v.allDay,
    start: v.allDay ? ymd(v.start) : apiTime(v.start, tz),
    end: v.allDay ? ymd(v.end) : apiTime(v.end, tz),
  };
  if (tz) body.timezone = tz;
  // an empty text property is invalid iCalendar: left out
  if (v.location) body.location = v.location;
  if (v.description) body.description = v.description;
  if (v.rrule) body.rrule = v.rrule;
  if (v.rrule && obj && obj.exdates && obj.exdates.length && obj.allDay === v.allDay) body.exdates = obj.exdates;
  // the dialog's list when I organise it, else the object's as it is (answers are the server's)
  const attendees = v.attendees || (obj && obj.attendees) || [];
  if (attendees.length) body.attendees = attendees.map((a) => ({ email: a.email, name: a.name }));
  if (obj) body.uid = obj.uid;
  return body;
}

export function createEvent(folder, v) {
  return api('POST', `/api/v1/events?folder=${folder}`, jsonForm(null, v));
}

const escapeText = (s) => s.replace(/\\/g, '\\\\').replace(/;/g, '\\;').replace(/,/g, '\\,').replace(/\r?\n/g, '\\n');

// 'RECURRENCE-ID:20260302T090000Z' (or ;VALUE=DATE:20260302) for an instance's original start
function ridValue(rid) {
  return rid.length <= 10 ? `;VALUE=DATE:${icsDate(parseDate(rid))}` : `:${icsTime(new Date(rid))}`;
}

// The object's components (VEVENT blocks) with the override of rid removed; change(lines of the
// master) may add to the master.
function withoutOverride(text, rid, changeMaster) {
  const lines = text.split(/\r?\n/);
  const out = [];
  let block = null;
  for (const line of lines) {
    if (line === 'BEGIN:VEVENT') block = [];
    if (block) block.push(line);
    else if (line !== '') out.push(line);
    if (line === 'END:VEVENT' && block) {
      const r = block.find((l) => /^RECURRENCE-ID[;:]/.test(l));
      if (!r) {
        changeMaster(block);
        out.splice(out.length, 0, ...block);
      } else if (!r.endsWith(ridValue(rid).replace(/^.*:/, ':'))) {
        out.splice(out.length, 0, ...block);
      }
      block = null;
    }
  }
  return out;
}

async function putIcs(id, edit) {
  const { text, etag } = await apiText('GET', `/api/v1/events/${id}?format=ics`);
  const lines = edit(text);
  await apiText('PUT', `/api/v1/events/${id}`, `${lines.join('\r\n')}\r\n`, 'text/calendar', etag);
}

function uidOf(text) {
  const m = /^UID:(.*)$/m.exec(text);
  return m ? m[1].replace(/\r$/, '') : '';
}

// Changes one instance of a series only: an override component with its RECURRENCE-ID
function overrideOne(inst, v) {
  return putIcs(inst.id, (text) => {
    const lines = withoutOverride(text, inst.recurrenceId, () => {});
    const times = v.allDay
      ? [`DTSTART;VALUE=DATE:${icsDate(v.start)}`, `DTEND;VALUE=DATE:${icsDate(v.end)}`]
      : [`DTSTART:${icsTime(v.start)}`, `DTEND:${icsTime(v.end)}`];
    const override = ['BEGIN:VEVENT', `UID:${uidOf(text)}`, `DTSTAMP:${icsTime(new Date())}`,
      `RECURRENCE-ID${ridValue(inst.recurrenceId)}`, ...times, `SUMMARY:${escapeText(v.summary)}`];
    if (v.location) override.push(`LOCATION:${escapeText(v.location)}`);
    if (v.description) override.push(`DESCRIPTION:${escapeText(v.description)}`);
    override.push('END:VEVENT');
    const end = lines.lastIndexOf('END:VCALENDAR');
    lines.splice(end, 0, ...override);
    return lines;
  });
}

// Saves the changed values of an instance: scope 'one' (an override) or 'all' (the series
// moves by as much as this instance did).
export async function saveEvent(inst, v, scope) {
  if (scope === 'one') return overrideOne(inst, v);
  const obj = await api('GET', `/api/v1/events/${inst.id}`);
  const was = instanceTimes(inst);
  const first = parseApi(obj.start);
  const start = new Date(first.getTime() + (v.start - was.start));
  const end = new Date(start.getTime() + (v.end - v.start));
  return api('PUT', `/api/v1/events/${inst.id}`, jsonForm(obj, Object.assign({}, v, { start, end })));
}

// Deletes the whole object, or (scope 'one') only this instance: an EXDATE in the series
export function deleteEvent(inst, scope) {
  if (scope !== 'one') return api('DELETE', `/api/v1/events/${inst.id}`);
  return putIcs(inst.id, (text) => withoutOverride(text, inst.recurrenceId, (master) => {
    master.splice(master.length - 1, 0, `EXDATE${ridValue(inst.recurrenceId)}`);
  }));
}

// The object's fields for the dialog of an instance
export async function eventValues(inst) {
  const obj = await api('GET', `/api/v1/events/${inst.id}`);
  const t = instanceTimes(inst);
  return {
    summary: inst.summary, location: obj.location, description: obj.description, allDay: inst.allDay,
    start: t.start, end: t.end, rrule: obj.rrule, original: t,
    // shown in the dialog; a move (which saves these values) sends the object's own list
    attendees: obj.attendees, organizer: obj.organizer, myStatus: obj.myStatus, status: obj.status,
  };
}
