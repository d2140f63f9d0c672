// SPDX-License-Identifier: MIT
// The mail view's flows in a real browser, run by tests/integration/test_webui_mail.py against
// tandem-lb in front of two nodes with a private Dovecot. Environment: BASE_URL, OUT_DIR,
// CHROMIUM, ATTACH_FILE, BULK (messages in alice's "Bulk" folder), MAIL_SCRIPT and MAIL_DIR
// (scripts/mail-system.sh and its directory), FEATURES (JSON {html, send, attachments, reply,
// search, events}: which of issue 19's newer APIs the server has). A step whose API is missing
// prints "SKIP …" with the reason and does not fail. axe-core on every state, screenshots.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {
  BASE, OUT, TIMEOUT, check, clickText, failed, launch, login, newPage, report, view, waitText,
} from './lib.mjs';

const FEATURES = JSON.parse(process.env.FEATURES || '{}');
const BULK = Number(process.env.BULK || 0);
const bulkSubject = (i) => `Bulk message ${String(i).padStart(Math.max(4, String(BULK - 1).length), '0')}`;
const REMOTE_HOST = 'images.example.invalid';
const skipped = [];
let smtpDown = false; // while the flow has stopped Postfix, /send's 502/503 is expected

function skip(step, feature) {
  const line = `SKIP mail flow “${step}”: the server has no ${feature} API yet (another part of issue 19); it runs once that is merged`;
  skipped.push(line);
  console.log(line);
}

// Refusals of APIs the server lacks (FEATURES false) are expected; so are the remote image's
// failures after "Show" (its host does not exist).
const MISSING = {
  events: '/api/v1/mail/events', send: '/api/v1/mail/send', attachments: '/api/v1/mail/attachments',
};
function expected(res, text, msg) {
  const url = res ? res.url() : (msg && msg.location() && msg.location().url) || '';
  if (url.includes(REMOTE_HOST) || (text && text.includes(REMOTE_HOST))) return true;
  if (smtpDown && url.includes('/api/v1/mail/send')) return true;
  return Object.entries(MISSING).some(([f, path]) => !FEATURES[f] && url.includes(path));
}

// A call of the API from inside the page, as that page's user.
function apiAs(page, method, path, body) {
  return page.evaluate(async (m, p, b) => {
    const res = await fetch(p, {
      method: m,
      headers: { 'X-Session': sessionStorage.getItem('tandem.session'), 'Content-Type': 'application/json' },
      body: b === null ? undefined : JSON.stringify(b),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  }, method, path, body === undefined ? null : body);
}

async function messagesIn(page, folder) {
  const r = await apiAs(page, 'GET', `/api/v1/mail/messages?folder=${encodeURIComponent(folder)}&limit=100`);
  check(r.status === 200, `list ${folder}: ${r.status}`);
  return r.body.messages;
}

// Postfix delivers in the background: polls page's user's INBOX until subject is there.
async function delivered(page, subject) {
  const deadline = Date.now() + TIMEOUT;
  while (!(await messagesIn(page, 'INBOX')).some((m) => m.subject === subject)) {
    check(Date.now() < deadline, `${subject} delivered within ${TIMEOUT} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

// Polls page's user's folder until a message with subject is there: that message.
async function arrived(page, folder, subject) {
  const deadline = Date.now() + TIMEOUT;
  for (;;) {
    const m = (await messagesIn(page, folder)).find((x) => x.subject === subject);
    if (m) return m;
    check(Date.now() < deadline, `${subject} in ${folder} within ${TIMEOUT} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

// {filename: text} of the attachments of a message, fetched as page's user.
async function attachmentTexts(page, folder, uid) {
  const m = await apiAs(page, 'GET', `/api/v1/mail/messages/${encodeURIComponent(folder)}/${uid}`);
  check(m.status === 200, `read ${folder}/${uid}: ${m.status}`);
  const out = {};
  for (const a of m.body.attachments || []) {
    out[a.filename] = await page.evaluate(async (p) => (await fetch(p, {
      headers: { 'X-Session': sessionStorage.getItem('tandem.session') },
    })).text(), `/api/v1/mail/messages/${encodeURIComponent(folder)}/${uid}/attachments/${encodeURIComponent(a.part)}`);
  }
  return out;
}

function deliverTo(user, text) {
  execFileSync(process.env.MAIL_SCRIPT, ['deliver', process.env.MAIL_DIR, user], { input: text });
}

// Polls dir until the browser has finished downloading name into it: its bytes.
async function downloaded(dir, name) {
  const deadline = Date.now() + TIMEOUT;
  const file = path.join(dir, name);
  while (!fs.existsSync(file)) {
    check(Date.now() < deadline, `${name} downloaded within ${TIMEOUT} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return fs.readFileSync(file);
}

// The mail view, loaded afresh (a page already there is reloaded: a goto to the same fragment
// would not). Not networkidle0: the view keeps its new-mail stream open.
async function openMail(page) {
  if (page.url().endsWith('#mail')) await page.reload({ waitUntil: 'load' });
  else await page.goto(`${BASE}#mail`, { waitUntil: 'load' });
  await page.waitForSelector('.mail-folder[data-folder="INBOX"]');
}

async function rowFor(page, subject) {
  await waitText(page, '.mail-row', subject);
  for (const h of await page.$$('.mail-row')) {
    if ((await h.evaluate((e) => e.textContent)).includes(subject)) return h;
  }
  throw new Error(`no row ${subject}`);
}

// Clicks the list row showing subject, found and clicked in one step in the page: the list
// redraws its rows as pages arrive and new mail comes, so a handle may be gone by its click.
async function openRow(page, subject) {
  await page.waitForFunction((want) => {
    const row = [...document.querySelectorAll('.mail-row')].find((r) => r.textContent.includes(want));
    if (row) row.click();
    return !!row;
  }, { timeout: TIMEOUT }, subject);
}

// clickText in one step in the page, for the parts the view redraws (the folder list).
async function clickNow(page, selector, wanted) {
  await page.waitForFunction((sel, want) => {
    const b = [...document.querySelectorAll(sel)].find((e) => e.textContent.includes(want));
    if (b) b.click();
    return !!b;
  }, { timeout: TIMEOUT }, selector, wanted);
}

async function unreadCount(page, folder) {
  return page.$eval(`.mail-folder[data-folder="${folder}"]`, (b) => {
    const c = b.querySelector('.mail-count');
    return c ? Number(c.lastChild.textContent) : 0;
  });
}

async function waitUnread(page, folder, n) {
  await page.waitForFunction((f, want) => {
    const b = document.querySelector(`.mail-folder[data-folder="${f}"]`);
    const c = b && b.querySelector('.mail-count');
    return (c ? Number(c.lastChild.textContent) : 0) === want;
  }, { timeout: TIMEOUT }, folder, n);
}

async function chooseFolder(page, folder) {
  await page.waitForFunction((f) => { // in one step: the folder list is redrawn as counts change
    const b = document.querySelector(`.mail-folder[data-folder="${f}"]`);
    if (b) b.click();
    return !!b;
  }, { timeout: TIMEOUT }, folder);
  await page.waitForFunction((f) => document.querySelector(`.mail-folder[data-folder="${f}"]`)
    .getAttribute('aria-current') === 'true', {}, folder);
}

async function submitDialog(page, button) {
  await clickText(page, 'dialog button', button);
  await page.waitForFunction(() => !document.querySelector('dialog'));
}

// Composes from the open dialog: Send, the dialog gone.
async function sendNow(page) {
  await clickText(page, 'dialog button', 'Send');
  await page.waitForFunction(() => !document.querySelector('dialog'), { timeout: TIMEOUT });
}

const SLIDES = 'slide one\nslide two\n';
const MINUTES = 'Minutes: ünïcödé, and a last line\n';

// Forward with the original's attachments, a file from alice's files attached, a draft saved,
// reopened from Drafts and sent, and reply all's recipients; bob receives what was sent.
async function moreFlows(alice, bob) {
  deliverTo('alice', 'From: Carol <carol@example.org>\r\nTo: alice@example.com\r\nSubject: Slides for review\r\n'
    + 'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="s"\r\n\r\n'
    + '--s\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nSee attached.\r\n'
    + '--s\r\nContent-Type: text/plain; name="slides.txt"\r\nContent-Disposition: attachment; filename="slides.txt"\r\n'
    + `Content-Transfer-Encoding: base64\r\n\r\n${Buffer.from(SLIDES).toString('base64')}\r\n--s--\r\n`);
  deliverTo('alice', 'From: Carol <carol@example.org>\r\nTo: Alice <alice@example.com>, Bob <bob@example.com>\r\n'
    + 'Cc: Dan <dan@example.org>\r\nSubject: Team sync\r\n\r\nAll of us on Friday?\r\n');
  await arrived(alice, 'INBOX', 'Team sync');
  await openMail(alice);

  // --- forward: the original's attachment goes along
  await openRow(alice, 'Slides for review');
  await waitText(alice, '.mail-attachment', 'slides.txt');
  await clickText(alice, '.mail-actions button', 'Forward');
  await alice.waitForFunction(() => document.querySelector('#mc-subject')?.value === 'Fwd: Slides for review');
  await waitText(alice, 'dialog .mail-attachments li', 'slides.txt');
  await alice.type('#mc-to', 'bob@example.com');
  await view(alice, 'mail-forward');
  await sendNow(alice);
  const fwd = await arrived(bob, 'INBOX', 'Fwd: Slides for review');
  const got = await attachmentTexts(bob, 'INBOX', fwd.uid);
  check(got['slides.txt'] === SLIDES, `bob receives the forwarded attachment: ${JSON.stringify(got)}`);

  // --- reply all: the sender in To, the other recipients in Cc, alice herself in neither
  await openRow(alice, 'Team sync');
  await waitText(alice, '.mail-text', 'All of us on Friday?');
  await clickText(alice, '.mail-actions button', 'Reply all');
  await alice.waitForFunction(() => document.querySelector('#mc-subject')?.value === 'Re: Team sync');
  const to = await alice.$eval('#mc-to', (e) => e.value);
  const cc = await alice.$eval('#mc-cc', (e) => e.value);
  check(to.includes('carol@example.org'), `reply all: To has the sender: ${to}`);
  check(`${to},${cc}`.includes('bob@example.com') && `${to},${cc}`.includes('dan@example.org'),
    `reply all: the other recipients are kept: To ${to}; Cc ${cc}`);
  check(!`${to},${cc}`.includes('alice@example.com'), `reply all: not to alice herself: To ${to}; Cc ${cc}`);
  await view(alice, 'mail-reply-all');
  await clickText(alice, 'dialog button', 'Close');
  await alice.waitForFunction(() => !document.querySelector('dialog'));

  // --- attach from my files: a file alice uploaded through the files API
  const myFiles = (await apiAs(alice, 'GET', '/api/v1/folders?parent=4')).body.folders.find((f) => f.default);
  const put = await alice.evaluate(async (p, b) => (await fetch(p, {
    method: 'PUT', headers: { 'X-Session': sessionStorage.getItem('tandem.session'), 'Content-Type': 'text/plain' }, body: b,
  })).status, `/api/v1/files?folder=${myFiles.id}&name=minutes.txt`, MINUTES);
  check(put === 201, `minutes.txt uploaded: ${put}`);
  await clickText(alice, '.mail-head button', 'New message');
  await alice.waitForSelector('#mc-to');
  await alice.type('#mc-to', 'bob@example.com');
  await alice.type('#mc-subject', 'Minutes from my files');
  await clickText(alice, 'dialog button', 'Attach from my files');
  await clickText(alice, 'dialog:last-of-type label', myFiles.title);
  await clickText(alice, 'dialog:last-of-type button', 'Open');
  await clickText(alice, 'dialog:last-of-type label', 'minutes.txt');
  await view(alice, 'mail-attach-from-files');
  await clickText(alice, 'dialog:last-of-type button', 'Attach');
  await waitText(alice, 'dialog .mail-attachments li', 'minutes.txt');
  await sendNow(alice);
  const minutes = await arrived(bob, 'INBOX', 'Minutes from my files');
  const mine = await attachmentTexts(bob, 'INBOX', minutes.uid);
  check(mine['minutes.txt'] === MINUTES, `bob receives the file's bytes: ${JSON.stringify(mine)}`);

  // --- a draft with an attachment saved, closed, reopened from Drafts and sent: it leaves
  // Drafts, bob gets its text and attachment
  await clickText(alice, '.mail-head button', 'New message');
  await alice.waitForSelector('#mc-to');
  await alice.type('#mc-to', 'bob@example.com');
  await alice.type('#mc-subject', 'Draft to finish');
  await alice.type('#mc-text', 'First words.');
  await (await alice.$('#mc-upload')).uploadFile(process.env.ATTACH_FILE);
  await waitText(alice, 'dialog .mail-attachments li', 'agenda.txt');
  await clickText(alice, 'dialog button', 'Save draft');
  await waitText(alice, 'dialog', 'Saved as a draft in Drafts.');
  await clickText(alice, 'dialog button', 'Close');
  await alice.waitForFunction(() => !document.querySelector('dialog'));
  await chooseFolder(alice, 'Drafts');
  await openRow(alice, 'Draft to finish');
  await waitText(alice, '.mail-text', 'First words.');
  await clickText(alice, '.mail-actions button', 'Edit draft');
  await alice.waitForFunction(() => document.querySelector('#mc-subject')?.value === 'Draft to finish');
  check((await alice.$eval('#mc-to', (e) => e.value)).includes('bob@example.com'), 'the draft reopens with its recipient');
  check((await alice.$eval('#mc-text', (e) => e.value)).includes('First words.'), 'the draft reopens with its text');
  await waitText(alice, 'dialog .mail-attachments li', 'agenda.txt');
  await view(alice, 'mail-draft-reopened');
  await sendNow(alice);
  check(!(await messagesIn(alice, 'Drafts')).some((m) => m.subject === 'Draft to finish'), 'the sent draft left Drafts');
  const finished = await arrived(bob, 'INBOX', 'Draft to finish');
  const read = await apiAs(bob, 'GET', `/api/v1/mail/messages/INBOX/${finished.uid}`);
  check(read.body.text.includes('First words.'), `bob receives the draft's text: ${read.body.text}`);
  const kept = (await attachmentTexts(bob, 'INBOX', finished.uid))['agenda.txt'];
  check(kept === fs.readFileSync(process.env.ATTACH_FILE, 'utf8'), `bob receives the draft's attachment: ${kept}`);
}

const browser = await launch();
const remoteRequests = [];
try {
  const alice = await newPage(browser.defaultBrowserContext(), 'alice', 1400, expected);
  alice.on('request', (r) => {
    if (r.url().includes(REMOTE_HOST)) remoteRequests.push(r.url());
  });
  await login(alice, 'alice', 'alice_pw');
  check(await alice.$('.appnav a[href="#mail"]'), 'the Mail view is in the navigation');

  // --- the INBOX with the delivered messages, two unread
  await openMail(alice);
  await rowFor(alice, 'Quarterly report');
  await rowFor(alice, 'Newsletter');
  check(await unreadCount(alice, 'INBOX') === 2, 'INBOX shows 2 unread');
  check(await alice.$eval('.mail-rows', (b) => b.getAttribute('role') === 'listbox'), 'the list is a listbox');
  await view(alice, 'mail-inbox');

  // --- open one: its text, marked read (the count and the server say so)
  await openRow(alice, 'Quarterly report');
  await waitText(alice, '.mail-text', 'The numbers are in.');
  await waitUnread(alice, 'INBOX', 1);
  const report = (await messagesIn(alice, 'INBOX')).find((m) => m.subject === 'Quarterly report');
  check(report.flags.includes('seen'), `opened message is seen: ${report.flags}`);
  await waitText(alice, '.mail-hline', 'carol@example.org');
  await view(alice, 'mail-read');

  // --- flag it
  await clickText(alice, '.mail-actions button', 'Flag');
  await waitText(alice, '.mail-actions button', 'Unflag');
  await alice.waitForSelector('.mail-row .mail-flag');
  check((await messagesIn(alice, 'INBOX')).find((m) => m.uid === report.uid).flags.includes('flagged'), 'flagged on the server');
  await view(alice, 'mail-flagged');

  // --- a new folder, and the message dragged onto it
  await clickNow(alice, '.mail-folder-actions button', 'New folder');
  await alice.waitForSelector('#prompt-field');
  await alice.type('#prompt-field', 'Projects');
  await submitDialog(alice, 'Create');
  await alice.waitForSelector('.mail-folder[data-folder="Projects"]');
  await view(alice, 'mail-folder-new');
  await alice.setDragInterception(true);
  await (await rowFor(alice, 'Quarterly report')).dragAndDrop(await alice.$('.mail-folder[data-folder="Projects"]'));
  await alice.setDragInterception(false);
  await waitText(alice, '.mail-status', 'Moved to Projects.');
  await alice.waitForFunction(() => ![...document.querySelectorAll('.mail-row')].some((r) => r.textContent.includes('Quarterly report')));
  check((await messagesIn(alice, 'Projects')).some((m) => m.subject === 'Quarterly report'), 'the dragged message is in Projects');
  await view(alice, 'mail-moved');

  // --- back with the move dialog; Projects is then empty, renamed and deleted
  await chooseFolder(alice, 'Projects');
  await openRow(alice, 'Quarterly report');
  await waitText(alice, '.mail-text', 'The numbers are in.');
  await clickText(alice, '.mail-actions button', 'Move…');
  await alice.waitForSelector('dialog input[value="INBOX"]');
  await view(alice, 'mail-move-dialog');
  await alice.click('dialog input[value="INBOX"]');
  await submitDialog(alice, 'Move');
  await waitText(alice, '.mail-list-state', 'No messages in this folder.');
  check((await messagesIn(alice, 'INBOX')).some((m) => m.subject === 'Quarterly report'), 'moved back to INBOX');
  await view(alice, 'mail-empty');
  await clickNow(alice, '.mail-folder-actions button', 'Rename');
  await alice.waitForSelector('#prompt-field');
  await alice.$eval('#prompt-field', (e) => { e.value = ''; });
  await alice.type('#prompt-field', 'Old projects');
  await submitDialog(alice, 'Rename');
  await alice.waitForSelector('.mail-folder[data-folder="Old projects"][aria-current="true"]');
  await clickNow(alice, '.mail-folder-actions button', 'Delete');
  await submitDialog(alice, 'Delete');
  await alice.waitForFunction(() => !document.querySelector('.mail-folder[data-folder="Old projects"]'));
  await alice.waitForSelector('.mail-folder[data-folder="INBOX"][aria-current="true"]');

  // --- a folder of BULK messages: only the rows in sight are in the page, the end is reached
  // by scrolling (pages fetched by offset) and by the End key
  await chooseFolder(alice, 'Bulk');
  await rowFor(alice, 'Bulk message');
  await alice.select('#mail-sort', 'subject');
  await waitText(alice, '.mail-row', bulkSubject(BULK - 1));
  const setsize = await alice.$eval('.mail-row', (r) => Number(r.getAttribute('aria-setsize')));
  check(setsize === BULK, `aria-setsize ${setsize} is ${BULK}`);
  const started = Date.now();
  await alice.$eval('.mail-rows', (b) => { b.scrollTop = b.scrollHeight; });
  await waitText(alice, '.mail-row', bulkSubject(0));
  console.log(`mail: scrolled to the end of ${BULK} messages and drew it in ${Date.now() - started} ms`);
  const inDom = await alice.$$eval('.mail-row', (r) => r.length);
  check(inDom < 60, `${inDom} rows in the DOM for ${BULK} messages`);
  await alice.focus('.mail-rows');
  await alice.keyboard.press('Home');
  await alice.waitForFunction(() => document.querySelector('.mail-rows').getAttribute('aria-activedescendant') === 'mail-row-0');
  await alice.keyboard.press('End');
  await alice.waitForFunction((n) => document.querySelector('.mail-rows').getAttribute('aria-activedescendant') === `mail-row-${n - 1}`, {}, BULK);
  await alice.keyboard.press('Enter');
  await waitText(alice, '#mail-subject', bulkSubject(0));
  await view(alice, 'mail-virtual-list');

  // --- HTML in a sandboxed frame, the remote image out until "Show"
  await chooseFolder(alice, 'INBOX');
  await openRow(alice, 'Newsletter');
  if (!FEATURES.html) {
    await waitText(alice, '.mail-text', 'text part');
    skip('HTML in a sandboxed iframe, remote images blocked until Show', 'message "html"');
  } else {
    await alice.waitForSelector('iframe.mail-html');
    const frame = await alice.$eval('iframe.mail-html', (f) => ({ sandbox: f.getAttribute('sandbox'), srcdoc: f.srcdoc }));
    check(!/allow-scripts|allow-same-origin/.test(frame.sandbox), `sandbox ${frame.sandbox}`);
    check(frame.srcdoc.includes("default-src 'none'") && !frame.srcdoc.includes('https:;'), 'the frame CSP allows no remote image');
    check(!/<img[^>]* src="https:/.test(frame.srcdoc), 'no remote image src before Show');
    await waitText(alice, '.mail-remote', 'Remote images blocked');
    await new Promise((r) => setTimeout(r, 500));
    check(remoteRequests.length === 0, `remote image requested before Show: ${remoteRequests}`);
    await view(alice, 'mail-html-blocked');
    await clickText(alice, '.mail-remote button', 'Show');
    await alice.waitForFunction(() => /<img[^>]* src="https:\/\/images\.example\.invalid/.test(document.querySelector('iframe.mail-html').srcdoc));
    check(await alice.$eval('iframe.mail-html', (f) => f.srcdoc.includes('https:')), 'CSP allows https: images after Show');
    await view(alice, 'mail-html-shown');
  }

  // --- search (q=, in=), threads (thread=1), a copy, and reply prefilled from the server
  if (!FEATURES.search) skip('search, threads and copy', 'q=/thread=/copy');
  else {
    await alice.type('#mail-search', 'Quarterly');
    await alice.waitForFunction(() => {
      const rows = [...document.querySelectorAll('.mail-row')];
      return rows.length === 1 && rows[0].textContent.includes('Quarterly report');
    });
    await alice.select('#mail-search-in', 'from');
    await waitText(alice, '.mail-list-state', 'No message matches “Quarterly”.');
    await view(alice, 'mail-search');
    await alice.$eval('#mail-search', (e) => { e.value = ''; });
    await alice.select('#mail-search-in', 'all');
    await alice.click('#mail-thread');
    await rowFor(alice, 'Newsletter');
    await rowFor(alice, 'Quarterly report');
    check(decodeURIComponent(await alice.evaluate(() => performance.getEntriesByType('resource')
      .map((e) => e.name).filter((n) => n.includes('/api/v1/mail/messages?')).pop())).includes('thread=1'), 'the list asks for threads');
    await alice.click('#mail-thread');
    await openRow(alice, 'Quarterly report');
    await waitText(alice, '.mail-text', 'The numbers are in.');
    await clickText(alice, '.mail-actions button', 'Copy…');
    await alice.waitForSelector('dialog input[value="Bulk"]');
    await alice.click('dialog input[value="Bulk"]');
    await submitDialog(alice, 'Copy');
    await waitText(alice, '.mail-status', 'Copied to Bulk.');
    const bulk = await apiAs(alice, 'GET', '/api/v1/mail/messages?folder=Bulk&limit=1&sort=subject&order=desc');
    check(bulk.body.messages[0].subject === 'Quarterly report' && bulk.body.total === BULK + 1, 'the copy is in Bulk');
  }
  if (!FEATURES.reply) skip('reply prefilled', 'GET …/reply');
  else {
    await openRow(alice, 'Quarterly report');
    await waitText(alice, '.mail-text', 'The numbers are in.');
    await clickText(alice, '.mail-actions button', 'Reply all');
    await alice.waitForFunction(() => document.querySelector('#mc-subject')?.value === 'Re: Quarterly report');
    const pre = await alice.$eval('#mc-to', (e) => e.value);
    check(pre.includes('carol@example.org'), `reply goes to the sender: ${pre}`);
    check((await alice.$eval('#mc-text', (e) => e.value)).includes('> The numbers are in.'), 'the text is quoted');
    await view(alice, 'mail-reply');
    await clickText(alice, 'dialog button', 'Close');
    await alice.waitForFunction(() => !document.querySelector('dialog'));
  }

  // --- a message delivered now shows without a reload, and the unread count follows
  if (!FEATURES.events) skip('new mail without reload (alice)', 'GET /api/v1/mail/events');
  else {
    const unread = await unreadCount(alice, 'INBOX');
    const navs = await alice.evaluate(() => performance.getEntriesByType('navigation').length);
    execFileSync(process.env.MAIL_SCRIPT, ['deliver', process.env.MAIL_DIR, 'alice'], {
      input: 'From: Dan <dan@example.org>\r\nTo: alice@example.com\r\nSubject: Fresh delivery\r\n\r\nnew\r\n',
    });
    await rowFor(alice, 'Fresh delivery');
    await waitUnread(alice, 'INBOX', unread + 1);
    check(await alice.evaluate(() => performance.getEntriesByType('navigation').length) === navs, 'no reload');
    await view(alice, 'mail-new-arrived');
  }

  // --- compose to bob with an attachment; address suggestions from the directory
  await clickText(alice, '.mail-head button', 'New message');
  await alice.waitForSelector('#mc-to');
  await alice.type('#mc-to', 'bo');
  await alice.waitForFunction(() => [...document.querySelectorAll('#mc-to-list option')].some((o) => o.value.includes('bob@example.com')));
  await alice.$eval('#mc-to', (e) => { e.value = 'bob <bob@example.com>'; });
  await alice.type('#mc-subject', 'Agenda for Monday');
  await alice.type('#mc-text', 'Hi Bob,\nthe agenda is attached.\nAlice');
  if (FEATURES.attachments) {
    const input = await alice.$('#mc-upload');
    await input.uploadFile(process.env.ATTACH_FILE);
    await waitText(alice, 'dialog .mail-attachments li', 'agenda.txt');
  } else {
    skip('attach an uploaded file', 'POST /api/v1/mail/attachments');
  }
  await view(alice, 'mail-compose');
  let sent = false;
  if (FEATURES.send) {
    // the SMTP server down: the failure in words, the message kept as a draft
    execFileSync(process.env.MAIL_SCRIPT, ['smtp-stop', process.env.MAIL_DIR]);
    smtpDown = true;
    await clickText(alice, 'dialog button', 'Send');
    await waitText(alice, 'dialog .msg-error', 'Your message was kept as a draft in Drafts.');
    const failure = await alice.$eval('dialog .msg-error', (e) => e.textContent);
    console.log(`mail: a send with SMTP down says: ${failure}`);
    check((await messagesIn(alice, 'Drafts')).some((m) => m.subject === 'Agenda for Monday'), 'the draft is in Drafts');
    await view(alice, 'mail-send-failed');
    smtpDown = false;
    execFileSync(process.env.MAIL_SCRIPT, ['smtp-start', process.env.MAIL_DIR]);
    await clickText(alice, 'dialog button', 'Send');
    await alice.waitForFunction(() => !document.querySelector('dialog'));
    await waitText(alice, '.mail-status', 'Your message was sent.');
    check(!(await messagesIn(alice, 'Drafts')).some((m) => m.subject === 'Agenda for Monday'), 'the draft went once sent');
    sent = true;
  } else {
    await clickText(alice, 'dialog button', 'Close');
    skip('send to bob, bob sees it without reload, reads and replies, alice gets the reply', 'POST /api/v1/mail/send');
  }

  // --- bob, in a second browser context: it arrives without a reload, he reads and replies
  const bob = await newPage(await browser.createBrowserContext(), 'bob', 1280, expected);
  await login(bob, 'bob', 'bob_pw');
  if (sent) {
    await openMail(bob);
    if (!FEATURES.events) skip('new mail without reload (bob)', 'GET /api/v1/mail/events');
    else {
      const before = await bob.evaluate(() => performance.getEntriesByType('navigation').length);
      await rowFor(bob, 'Agenda for Monday');
      check(await bob.evaluate(() => performance.getEntriesByType('navigation').length) === before, 'no reload');
    }
    if (!FEATURES.events) { // without events: a reload shows it
      await delivered(bob, 'Agenda for Monday');
      await openMail(bob);
    }
    await openRow(bob, 'Agenda for Monday');
    await waitText(bob, '.mail-text', 'the agenda is attached');
    if (FEATURES.attachments) await waitText(bob, '.mail-attachment', 'agenda.txt');
    await view(bob, 'mail-received-as-bob');
    if (FEATURES.attachments) { // saved from the reading pane: the bytes alice attached
      const dir = path.join(OUT, 'downloads');
      fs.mkdirSync(dir, { recursive: true });
      const cdp = await browser.target().createCDPSession();
      await cdp.send('Browser.setDownloadBehavior', {
        behavior: 'allow', downloadPath: dir, browserContextId: bob.browserContext().id,
      });
      await clickText(bob, '.mail-attachment', 'agenda.txt');
      check((await downloaded(dir, 'agenda.txt')).equals(fs.readFileSync(process.env.ATTACH_FILE)),
        'the attachment downloaded from the reading pane has the bytes sent');
    }
    if (!FEATURES.reply) skip('bob replies', 'GET …/reply');
    else {
      await clickText(bob, '.mail-actions button', 'Reply');
      await bob.waitForFunction(() => document.querySelector('#mc-subject') && document.querySelector('#mc-subject').value.startsWith('Re: '));
      await bob.type('#mc-text', 'Thanks!\n');
      await view(bob, 'mail-reply-as-bob');
      await clickText(bob, 'dialog button', 'Send');
      await waitText(bob, '.mail-status', 'Your message was sent.');
      if (!FEATURES.events) {
        await delivered(alice, 'Re: Agenda for Monday');
        await openMail(alice);
      }
      await rowFor(alice, 'Re: Agenda for Monday');
      await view(alice, 'mail-reply-received');
    }
  }
  if (!sent || !FEATURES.reply || !FEATURES.attachments) {
    skip('forward, attach from my files, draft reopened, reply all', 'send/reply/attachments');
  } else {
    await moreFlows(alice, bob);
  }
  // carol's access has no mail module: no Mail view, and #mail shows her first view instead
  const carol = await newPage(await browser.createBrowserContext(), 'carol', 1280, expected);
  await login(carol, 'carol', 'carol_pw');
  check(!(await carol.$('.appnav a[href="#mail"]')), 'no Mail view without the mail module');
  await carol.goto(`${BASE}#mail`, { waitUntil: 'networkidle0' });
  await carol.waitForSelector('#folder-title');
  check(!(await carol.$('.mail')), 'no mail view at #mail without the mail module');
  check(!(await carol.evaluate(() => performance.getEntriesByType('resource').some((e) => /\/mail\.[0-9a-f]+\.js$/.test(e.name)))),
    'the mail module is not loaded');

  // the mail view at phone width
  const phone = await newPage(await browser.createBrowserContext(), 'phone', 360, expected);
  await login(phone, 'alice', 'alice_pw');
  await openMail(phone);
  await rowFor(phone, 'Newsletter');
  await view(phone, 'mail-360px');
} catch (error) {
  await failed(error);
} finally {
  await browser.close();
}
if (skipped.length) console.log(`mail flows: ${skipped.length} step(s) SKIPPED:\n${skipped.join('\n')}`);
report('mail flows');
