// SPDX-License-Identifier: MIT
// The few vCard (RFC 6350, and 3.0) properties the contacts view edits, read from and written
// into the card's text. An edit replaces only the properties whose values changed and keeps
// every other line as stored (photos, labels, properties of other programs).

const escapeText = (v) => v.replace(/\\/g, '\\\\').replace(/\r?\n/g, '\\n').replace(/,/g, '\\,')
  .replace(/;/g, '\\;');
const unescapeText = (v) => v.replace(/\\([\\,;nN])/g, (m, c) => (c === 'n' || c === 'N' ? '\n' : c));

// The card's content lines, unfolded.
function contentLines(text) {
  return text.replace(/\r\n?/g, '\n').replace(/\n[ \t]/g, '').split('\n').filter((l) => l !== '');
}

// A line's property name in upper case (without a group such as "item1."), and its raw value
// (after the first colon outside a quoted parameter).
function parseLine(line) {
  const m = /^(?:[A-Za-z0-9-]+\.)?([A-Za-z0-9-]+)[;:]/.exec(line);
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    if (line[i] === '"') quoted = !quoted;
    else if (line[i] === ':' && !quoted) return { name: m ? m[1].toUpperCase() : '', value: line.slice(i + 1) };
  }
  return { name: '', value: '' };
}

// Components of a structured value (N, ORG): split at unescaped semicolons, unescaped.
function components(value) {
  return value.split(/(?<!\\);/).map(unescapeText);
}

// "19851210" and "1985-12-10" as 1985-12-10 (what <input type=date> takes); anything else
// (no year, a time) as ''.
function dateValue(v) {
  const m = /^(\d{4})-?(\d{2})-?(\d{2})$/.exec(v.trim());
  return m ? `${m[1]}-${m[2]}-${m[3]}` : '';
}

// What the form shows: {fn, given, family, emails, phones, org, birthday, note}.
export function readCard(text) {
  const f = { fn: '', given: '', family: '', emails: [], phones: [], org: '', birthday: '', note: '' };
  for (const line of contentLines(text)) {
    const { name, value } = parseLine(line);
    if (name === 'FN') f.fn = unescapeText(value);
    else if (name === 'N') [f.family = '', f.given = ''] = components(value);
    else if (name === 'EMAIL') f.emails.push(unescapeText(value));
    else if (name === 'TEL') f.phones.push(unescapeText(value).replace(/^tel:/i, ''));
    else if (name === 'ORG') [f.org = ''] = components(value);
    else if (name === 'BDAY') f.birthday = dateValue(value);
    else if (name === 'NOTE') f.note = unescapeText(value);
  }
  return f;
}

const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);

// The card's text with the form's values: `text` is the stored card (null for a new one, then
// a vCard 4.0 with `uid`). Lines end in CRLF.
export function writeCard(text, form, uid) {
  const old = text ? readCard(text) : readCard('');
  const lines = text ? contentLines(text) : ['BEGIN:VCARD', 'VERSION:4.0', `UID:${uid}`];
  const changed = {
    FN: form.fn !== old.fn,
    N: form.given !== old.given || form.family !== old.family,
    EMAIL: !same(form.emails, old.emails),
    TEL: !same(form.phones, old.phones),
    ORG: form.org !== old.org,
    BDAY: form.birthday !== old.birthday,
    NOTE: form.note !== old.note,
  };
  const kept = lines.filter((l) => l.toUpperCase() !== 'END:VCARD' && !changed[parseLine(l).name]);
  const added = [];
  if (changed.FN) added.push(`FN:${escapeText(form.fn)}`);
  if (changed.N) {
    const rest = (lines.map(parseLine).find((p) => p.name === 'N') || { value: ';;;;' }).value
      .split(/(?<!\\);/).slice(2);
    while (rest.length < 3) rest.push('');
    added.push(`N:${[escapeText(form.family), escapeText(form.given), ...rest].join(';')}`);
  }
  if (changed.EMAIL) for (const e of form.emails) added.push(`EMAIL:${escapeText(e)}`);
  if (changed.TEL) for (const t of form.phones) added.push(`TEL:${escapeText(t)}`);
  if (changed.ORG && form.org) added.push(`ORG:${escapeText(form.org)}`);
  if (changed.BDAY && form.birthday) added.push(`BDAY:${form.birthday.replace(/-/g, '')}`);
  if (changed.NOTE && form.note) added.push(`NOTE:${escapeText(form.note)}`);
  return [...kept, ...added, 'END:VCARD'].join('\r\n') + '\r\n';
}

// A new card's UID: urn:uuid: with a random (version 4) UUID; crypto.randomUUID needs a
// secure context, getRandomValues does not.
export function newUid() {
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  return `urn:uuid:${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
