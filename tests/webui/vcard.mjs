// SPDX-License-Identifier: MIT
// web/vcard.js without a browser (run by tests/integration/test_webui.py): the form's
// properties read from cards of other programs (folded lines, groups, escapes, 3.0 dates) and
// written back changing only what changed.
import assert from 'node:assert/strict';
import { newUid, readCard, writeCard } from '../../web/vcard.js';

const card = [
  'BEGIN:VCARD', 'VERSION:3.0', 'UID:x-1', 'FN:Ada King\\, Countess', 'N:King;Ada;Augusta;Lady;',
  'item1.EMAIL;TYPE=INTERNET:ada@example.com', 'item1.X-ABLabel:work',
  'TEL;TYPE="voice,cell":+44 20', 'ORG:Engines\\; Ltd;Research', 'BDAY:1815-12-10',
  'NOTE:first line\\nsecond\\, with comma and a long line folded he', ' re', 'PHOTO;ENCODING=b;TYPE=JPEG:AAAA',
  'END:VCARD',
].join('\r\n') + '\r\n';

const f = readCard(card);
assert.deepEqual(f, {
  fn: 'Ada King, Countess', given: 'Ada', family: 'King', emails: ['ada@example.com'],
  phones: ['+44 20'], org: 'Engines; Ltd', birthday: '1815-12-10',
  note: 'first line\nsecond, with comma and a long line folded here',
});
// nothing changed: the same lines (unfolded)
assert.equal(writeCard(card, f), card.replace('folded he\r\n re', 'folded here'));
// a changed organisation and note: only those lines are replaced, the rest stays in place
const out = writeCard(card, { ...f, org: 'Navy', note: 'a; b, c\nd' }).split('\r\n');
assert.deepEqual(out.slice(0, 9), ['BEGIN:VCARD', 'VERSION:3.0', 'UID:x-1', 'FN:Ada King\\, Countess',
  'N:King;Ada;Augusta;Lady;', 'item1.EMAIL;TYPE=INTERNET:ada@example.com', 'item1.X-ABLabel:work',
  'TEL;TYPE="voice,cell":+44 20', 'BDAY:1815-12-10']);
assert.deepEqual(out.slice(9), ['PHOTO;ENCODING=b;TYPE=JPEG:AAAA', 'ORG:Navy', 'NOTE:a\\; b\\, c\\nd',
  'END:VCARD', '']);
// a new name keeps N's further components; emptied fields go
const renamed = writeCard(card, { ...f, given: 'Augusta', org: '', birthday: '', note: '' });
assert.match(renamed, /\r\nN:King;Augusta;Augusta;Lady;\r\n/);
assert.doesNotMatch(renamed, /ORG|BDAY|NOTE/);
// 3.0's basic date and 4.0's date without a year
assert.equal(readCard('BEGIN:VCARD\r\nBDAY:19851210\r\nEND:VCARD\r\n').birthday, '1985-12-10');
assert.equal(readCard('BEGIN:VCARD\r\nBDAY:--1210\r\nEND:VCARD\r\n').birthday, '');
// a new card: vCard 4.0 with its UID, lines in CRLF
const uid = newUid();
assert.match(uid, /^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
assert.equal(writeCard(null, { fn: 'Bo', given: 'Bo', family: '', emails: ['bo@x', 'b@y'], phones: [], org: '', birthday: '2000-01-02', note: '' }, uid),
  ['BEGIN:VCARD', 'VERSION:4.0', `UID:${uid}`, 'FN:Bo', 'N:;Bo;;;', 'EMAIL:bo@x', 'EMAIL:b@y', 'BDAY:20000102', 'END:VCARD', ''].join('\r\n'));
console.log('vcard.js: all passed');
