// SPDX-License-Identifier: MIT
// Invitations in the event dialog (docs/webui.md "Calendar", docs/api.md "Scheduling"): the
// attendee picker (users of my context through directorySearch(), resources through GET
// /api/v1/resources), each attendee's answer and delivery in words, the free/busy strip of
// the attendees over the event's day (GET /api/v1/freebusy), and my own answer.
import { api, directorySearch } from './api.js';
import { addDays, hm, startOfDay, utc } from './caltime.js';
import { el } from './ui.js';

const ANSWERS = { ACCEPTED: 'Accepted', DECLINED: 'Declined', TENTATIVE: 'Tentative', 'NEEDS-ACTION': 'No answer yet', DELEGATED: 'Delegated' };
const DELIVERY = { '1.2': 'invitation delivered', '2.0': 'answer received', '5.1': 'not delivered (outside this context)' };
export const REPLIES = [['ACCEPTED', 'Accept'], ['TENTATIVE', 'Tentative'], ['DECLINED', 'Decline']];

const same = (a, b) => Boolean(a && b) && a.toLowerCase() === b.toLowerCase();

// An attendee's answer in words; a declined room says why it declines
export function answerText(a, isResource) {
  const s = a.status || 'NEEDS-ACTION';
  const words = ANSWERS[s] || s;
  if (s === 'DECLINED' && isResource) return 'Declined: the room or resource is booked or not available';
  return words;
}

function deliveryText(code) {
  if (!code) return '';
  const known = DELIVERY[code.slice(0, 3)];
  return known || `delivery status ${code}`;
}

let resourcesOnce = null;
// The resources of my context (loaded once per page)
function resources() {
  if (!resourcesOnce) {
    resourcesOnce = api('GET', '/api/v1/resources').then((r) => r.resources.filter((x) => x.email))
      .catch((error) => {
        resourcesOnce = null;
        throw error;
      });
  }
  return resourcesOnce;
}

// The free/busy key of an attendee: {users: login} or {resources: name}, found by e-mail
// (and kept in a.login or a.resource)
async function freebusyKey(a) {
  if (!a.login && !a.resource) {
    const room = (await resources()).find((r) => same(r.email, a.email));
    if (room) {
      a.resource = room.name;
    } else {
      const local = a.email.split('@')[0];
      const person = (local ? await directorySearch(local) : []).find((p) => same(p.email, a.email));
      if (person) a.login = person.login;
    }
  }
  if (a.login) return { users: a.login };
  return a.resource ? { resources: a.resource } : null;
}

function overlaps(p, from, to) {
  return new Date(p.start) < to && new Date(p.end) > from;
}

// The attendee editor. values: {attendees, organizer, mine (I organise or it is new)},
// times(): the form's {start, end} (Dates, or null when invalid), onError(text).
// Returns {node, attendees(), refresh()}: attendees() is the list to save as [{email, name}].
export function attendeeEditor(values, times) {
  const list = (values.attendees || []).map((a) => Object.assign({}, a));
  const ul = el('ul', { class: 'att-list', 'aria-label': 'Attendees' });
  const query = el('input', { id: 'att-search', type: 'search', autocomplete: 'off', 'aria-describedby': 'att-hint' });
  const found = el('ul', { class: 'share-results att-results', 'aria-label': 'People and resources found' });
  const status = el('p', { class: 'hint', role: 'status', id: 'att-hint' },
    'Type part of a name or login, then choose a person or a room.');
  const strip = el('div', { class: 'fb', role: 'region', 'aria-label': 'Free and busy times of the attendees' });

  const drawList = () => {
    ul.replaceChildren(...list.map((a, i) => {
      const isResource = Boolean(a.resource);
      const answer = answerText(a, isResource);
      const delivery = deliveryText(a.scheduleStatus);
      return el('li', { class: `att att-${(a.status || 'NEEDS-ACTION').toLowerCase()}` },
        el('span', { class: 'att-name' }, a.name || a.email, isResource ? ' (room/resource)' : ''),
        el('span', { class: 'att-status' }, [answer, delivery].filter(Boolean).join(', ')),
        values.mine ? el('button', {
          type: 'button', class: 'link', 'aria-label': `Remove ${a.name || a.email}`,
          onclick: () => {
            list.splice(i, 1);
            drawList();
            refresh();
            query.focus();
          },
        }, 'Remove') : null);
    }));
    if (!list.length) ul.replaceChildren(el('li', { class: 'empty' }, 'Nobody invited.'));
  };

  const add = (a) => {
    if (!list.some((x) => same(x.email, a.email))) list.push(a);
    query.value = '';
    found.replaceChildren();
    status.textContent = `${a.name} added.`;
    drawList();
    refresh();
    query.focus();
  };

  let searchGen = 0;
  const search = async () => {
    const q = query.value.trim();
    const gen = ++searchGen;
    if (!q) {
      found.replaceChildren();
      return;
    }
    let people;
    let rooms;
    try {
      [people, rooms] = await Promise.all([directorySearch(q), resources()]);
    } catch (error) {
      if (gen === searchGen) status.textContent = `The search failed: ${error.message}`;
      return;
    }
    if (gen !== searchGen) return;
    const lq = q.toLowerCase();
    const items = [
      ...people.map((p) => ({ email: p.email, name: p.name, login: p.login, what: p.login })),
      ...rooms.filter((r) => `${r.name} ${r.display_name || ''}`.toLowerCase().includes(lq))
        .map((r) => ({ email: r.email, name: r.display_name || r.name, resource: r.name, what: r.description || 'room/resource' })),
    ];
    found.replaceChildren(...items.map((a) => el('li', {},
      a.email
        ? el('button', { type: 'button', onclick: () => add({ email: a.email, name: a.name, login: a.login, resource: a.resource }) },
          `Invite ${a.name}`, el('span', { class: 'muted' }, ` (${a.what})`))
        : el('span', { class: 'muted' }, `${a.name}: no e-mail address, cannot be invited`))));
    status.textContent = items.length ? `${items.length} found.` : `Nobody and no room matches “${q}”.`;
  };
  query.addEventListener('input', search);
  query.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') {
      e.preventDefault();
      const first = found.querySelector('button');
      if (first) first.click();
    }
  });

  // The strip: one row per attendee over the event's day, the event's own time outlined
  let fbGen = 0;
  async function refresh() {
    const gen = ++fbGen;
    const t = times();
    if (!list.length || !t) {
      strip.replaceChildren();
      return;
    }
    const day = startOfDay(t.start);
    const next = addDays(day, 1);
    strip.replaceChildren(el('p', { class: 'loading' }, 'Loading free/busy times…'));
    let rows;
    try {
      const keys = await Promise.all(list.map((a) => freebusyKey(a).catch(() => null)));
      const users = keys.filter((k) => k && k.users).map((k) => k.users);
      const rooms = keys.filter((k) => k && k.resources).map((k) => k.resources);
      const q = [users.length ? `users=${encodeURIComponent(users.join(','))}` : '',
        rooms.length ? `resources=${encodeURIComponent(rooms.join(','))}` : ''].filter(Boolean).join('&');
      const fb = q ? (await api('GET', `/api/v1/freebusy?${q}&start=${utc(day)}&end=${utc(next)}`)).freebusy : [];
      rows = list.map((a, i) => {
        const k = keys[i];
        const f = k && fb.find((x) => (k.users ? x.login === k.users : x.name === k.resources));
        return { a, busy: f ? f.busy : null };
      });
    } catch (error) {
      if (gen === fbGen) strip.replaceChildren(el('p', { class: 'msg msg-error', role: 'alert' }, `Free/busy times could not be loaded: ${error.message}`));
      return;
    }
    if (gen !== fbGen) return;
    const pct = (d) => `${Math.max(0, Math.min(100, ((d - day) / (next - day)) * 100))}%`;
    const own = values.original;
    const isOwn = (p) => own && +new Date(p.start) === +own.start && +new Date(p.end) === +own.end;
    strip.replaceChildren(
      el('p', { class: 'fb-title' }, `Free/busy on ${day.toLocaleDateString(undefined, { weekday: 'long', day: 'numeric', month: 'long' })}`),
      el('div', { class: 'fb-scale', 'aria-hidden': 'true' }, ['0', '6', '12', '18', '24'].map((h) => el('span', {}, `${h}:00`))),
      ...rows.map(({ a, busy }) => {
        const name = a.name || a.email;
        if (!busy) return el('div', { class: 'fb-row' }, el('span', { class: 'fb-name' }, name), el('span', { class: 'muted' }, 'no free/busy (not in this context)'));
        const others = busy.filter((p) => !isOwn(p));
        const clash = others.filter((p) => overlaps(p, t.start, t.end));
        const words = others.length
          ? others.map((p) => `${p.type === 'BUSY-TENTATIVE' ? 'tentative' : 'busy'} ${hm(new Date(p.start))}–${hm(new Date(p.end))}`).join(', ')
          : 'free all day';
        const bar = el('div', { class: 'fb-bar', 'aria-hidden': 'true' },
          el('span', { class: 'fb-event' }),
          ...others.map((p) => el('span', { class: `fb-busy${p.type === 'BUSY-TENTATIVE' ? ' fb-tentative' : ''}` })));
        // positions set through the CSSOM (the Content-Security-Policy forbids style attributes)
        const [ev, ...blocks] = bar.children;
        ev.style.left = pct(t.start);
        ev.style.width = `calc(${pct(t.end)} - ${pct(t.start)})`;
        others.forEach((p, j) => {
          blocks[j].style.left = pct(new Date(p.start));
          blocks[j].style.width = `calc(${pct(new Date(p.end))} - ${pct(new Date(p.start))})`;
        });
        return el('div', { class: `fb-row${clash.length ? ' fb-clash' : ''}` },
          el('span', { class: 'fb-name' }, name),
          bar,
          el('span', { class: 'fb-words' }, clash.length ? `Conflict: ${words}` : words));
      }));
  }

  drawList();
  // which of the attendees already there are rooms or resources (their answers read differently)
  resources().then((rs) => {
    for (const a of list) {
      const r = rs.find((x) => same(x.email, a.email));
      if (r) a.resource = r.name;
    }
    drawList();
  }, () => {});
  const node = el('fieldset', { class: 'attendees' },
    el('legend', {}, 'Attendees'),
    values.organizer ? el('p', { class: 'hint' }, `Organiser: ${values.organizer.name || values.organizer.email}`) : null,
    ul,
    values.mine ? el('div', { class: 'field' }, el('label', { for: 'att-search' }, 'Invite people or rooms'), query, status, found) : null,
    strip);
  return {
    node,
    attendees: () => list.map((a) => (a.name ? { email: a.email, name: a.name } : { email: a.email })),
    refresh,
  };
}

// My answer to an invitation: a group of three buttons, the current one pressed
export function replyButtons(myStatus, onReply) {
  return el('div', { class: 'reply', role: 'group', 'aria-label': `Your answer (now: ${answerText({ status: myStatus })})` },
    REPLIES.map(([s, label]) => el('button', {
      type: 'button', 'aria-pressed': String(myStatus === s), class: myStatus === s ? 'primary' : null,
      onclick: () => onReply(s),
    }, label)));
}

// The scheduling fields of events ({status, myStatus}) that range queries do not carry, by id,
// cached per ETag; at most 6 requests at a time. Resolves to a Map id → {status, myStatus}.
const details = new Map();
export async function schedulingOf(instances) {
  const todo = [...new Map(instances.map((i) => [i.id, i.etag])).entries()]
    .filter(([id, etag]) => !details.has(id) || details.get(id).etag !== etag);
  const worker = async () => {
    for (let next = todo.shift(); next; next = todo.shift()) {
      const [id, etag] = next;
      try {
        const obj = await api('GET', `/api/v1/events/${id}`);
        details.set(id, { etag, status: obj.status, myStatus: obj.myStatus, organizer: obj.organizer });
      } catch (error) {
        // gone since the range was read: nothing to show
      }
    }
  };
  await Promise.all(Array.from({ length: 6 }, worker));
  return details;
}
