// SPDX-License-Identifier: MIT
// The mail view on a large INBOX, measured in a real browser (bench/webmail-list.sh, not CI):
// time from loading the app at #mail to the first rows, to the rows in the middle and at the
// end after scrolling there, and to a message far down opened; the rows in the page stay
// bounded (a virtual list). Environment: BASE_URL, OUT_DIR, CHROMIUM, LOGIN, PASSWORD, COUNT
// (messages in the INBOX), ROUNDS (default 5). Prints one "webmail: …" line a measure: the
// median and the maximum over the rounds.
import {
  BASE, TIMEOUT, check, failed, launch, login, newPage, report, shot,
} from './lib.mjs';

const COUNT = Number(process.env.COUNT);
const MAX_ROWS = 100; // in the DOM whatever the folder's size
const ROUNDS = Number(process.env.ROUNDS || 5); // each from a fresh page load

// ms until row i of the list shows its message (a row not yet fetched says "Loading…").
async function untilDrawn(page, i, started) {
  await page.waitForSelector(`#mail-row-${i} .mail-subject`, { timeout: TIMEOUT * 3 });
  return Date.now() - started;
}

async function rowsInDom(page) {
  return page.$$eval('.mail-row', (r) => r.length);
}

// Scrolls the list to fraction f of its height: the index of the first row then in sight.
async function scrollTo(page, f) {
  return page.$eval('.mail-rows', (box, frac) => {
    box.scrollTop = (box.scrollHeight - box.clientHeight) * frac;
    return Math.min(Math.floor(box.scrollTop / document.querySelector('.mail-row').offsetHeight),
      Number(document.querySelector('.mail-row').getAttribute('aria-setsize')) - 1);
  }, f);
}

// One round: {measure: ms}; the checks on the way.
async function round(page) {
  const out = {};
  let t = Date.now();
  if (page.url().endsWith('#mail')) await page.reload({ waitUntil: 'load' }); // goto would not
  else await page.goto(`${BASE}#mail`, { waitUntil: 'load' });
  out['app loaded at #mail to the first rows'] = await untilDrawn(page, 0, t);
  const setsize = await page.$eval('.mail-row', (r) => Number(r.getAttribute('aria-setsize')));
  check(setsize === COUNT, `aria-setsize ${setsize} is ${COUNT}`);
  for (const [name, f] of [['the middle', 0.5], ['the end', 1]]) {
    t = Date.now();
    const i = await scrollTo(page, f);
    const ms = await untilDrawn(page, i, t);
    const rows = await rowsInDom(page);
    check(rows <= MAX_ROWS, `${rows} rows in the DOM at ${name}`);
    out[`scrolled to ${name} (row ${i + 1}), drawn; ${rows} rows in the DOM`] = ms;
  }
  const last = COUNT - 1;
  await untilDrawn(page, last, Date.now());
  const subject = await page.$eval(`#mail-row-${last} .mail-subject`, (e) => e.textContent);
  t = Date.now();
  await page.click(`#mail-row-${last}`);
  await page.waitForFunction((s) => document.querySelector('#mail-subject')?.textContent === s,
    { timeout: TIMEOUT }, subject);
  await page.waitForSelector('.mail-text');
  out[`message ${COUNT} of ${COUNT} opened`] = Date.now() - t;
  out['of which GET …/{uid} (request to response end)'] = Math.round(await page.evaluate(() => performance
    .getEntriesByType('resource').filter((e) => /\/api\/v1\/mail\/messages\/INBOX\/[0-9]+$/.test(e.name))
    .pop().duration));
  return out;
}

const browser = await launch();
try {
  const page = await newPage(browser.defaultBrowserContext(), 'user', 1400);
  await login(page, process.env.LOGIN, process.env.PASSWORD);
  const runs = [];
  for (let r = 0; r < ROUNDS; r++) runs.push(await round(page));
  for (const name of Object.keys(runs[0])) {
    const ms = runs.map((x) => x[name]).sort((a, b) => a - b);
    console.log(`webmail: ${COUNT} messages: ${name}: median ${ms[Math.floor(ms.length / 2)]} ms, max ${ms[ms.length - 1]} ms (${ROUNDS} rounds)`);
  }
  await shot(page, 'webmail-bulk');
} catch (error) {
  await failed(error);
} finally {
  await browser.close();
}
report('webmail bulk');
