// SPDX-License-Identifier: MIT
// Dates for the calendar and tasks views: local days, the API's UTC and zone-local forms
// (docs/api.md "Events"), and the iCalendar basic forms for overrides and EXDATEs.
export const DAY_MS = 86400000;

export function startOfDay(d) {
  return new Date(d.getFullYear(), d.getMonth(), d.getDate());
}

export function addDays(d, n) {
  return new Date(d.getFullYear(), d.getMonth(), d.getDate() + n, d.getHours(), d.getMinutes());
}

// Monday of d's week
export function startOfWeek(d) {
  const day = startOfDay(d);
  return addDays(day, -((day.getDay() + 6) % 7));
}

const pad = (n) => String(n).padStart(2, '0');

// 2026-03-02 in local time
export function ymd(d) {
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

// 09:30 in local time
export function hm(d) {
  return `${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

// 2026-03-02T09:00:00Z
export function utc(d) {
  return `${d.toISOString().slice(0, 19)}Z`;
}

// A date (2026-03-02) as local midnight
export function parseDate(s) {
  const [y, m, d] = s.slice(0, 10).split('-').map(Number);
  return new Date(y, m - 1, d);
}

// An API time: a date is a local day, a date-time is UTC
export function parseApi(s) {
  return s.length <= 10 ? parseDate(s) : new Date(s);
}

// The browser's zone, or null when it is UTC (times are then sent with Z)
export function browserZone() {
  const tz = Intl.DateTimeFormat().resolvedOptions().timeZone;
  return !tz || /^(Etc\/)?(UTC|GMT)$/.test(tz) ? null : tz;
}

// A time as the JSON form wants it: local time of zone tz, or UTC with Z without a zone
export function apiTime(d, tz) {
  if (!tz) return utc(d);
  const parts = {};
  for (const p of new Intl.DateTimeFormat('en-CA', {
    timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit',
    minute: '2-digit', second: '2-digit', hourCycle: 'h23',
  }).formatToParts(d)) parts[p.type] = p.value;
  return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}:${parts.second}`;
}

// iCalendar: 20260302T090000Z for a time, 20260302 (with VALUE=DATE) for a day
export function icsTime(d) {
  return `${utc(d).replace(/[-:]/g, '')}`;
}

export function icsDate(d) {
  return ymd(d).replace(/-/g, '');
}

export function dayLabel(d, long) {
  return d.toLocaleDateString(undefined, long
    ? { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric' }
    : { weekday: 'short', day: 'numeric' });
}
