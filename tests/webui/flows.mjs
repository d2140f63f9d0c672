// SPDX-License-Identifier: MIT
// The web UI's flows in a real browser (Debian's chromium driven by puppeteer-core), run by
// tests/integration/test_webui.py against tandem-lb in front of two nodes. Every view is
// checked with axe-core (no serious or critical violation) and saved as a screenshot; any
// console error or uncaught exception fails the run. Configuration comes from the
// environment: BASE_URL, OUT_DIR, UPLOAD_FILE, CHROMIUM.
import { readFileSync, existsSync, readdirSync, mkdirSync } from 'node:fs';
import { join, basename } from 'node:path';
import { createRequire } from 'node:module';
import puppeteer from 'puppeteer-core';

const require = createRequire(import.meta.url);
const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const BASE = process.env.BASE_URL;
const OUT = process.env.OUT_DIR;
const UPLOAD = process.env.UPLOAD_FILE;
const TIMEOUT = 20000;
mkdirSync(join(OUT, 'screenshots'), { recursive: true });
mkdirSync(join(OUT, 'downloads'), { recursive: true });

const problems = [];
function check(ok, what) {
  if (!ok) throw new Error(`check failed: ${what}`);
}

// API refusals the flows provoke on purpose (a wrong password, a throttled login, a session
// that was ended) show in the console as "Failed to load resource: … 401" (or 429); anything
// else is an error.
function watch(page, name) {
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    const text = msg.text();
    if (/^Failed to load resource: the server responded with a status of (401|429)/.test(text)) return;
    problems.push(`${name}: console error: ${text}`);
  });
  page.on('pageerror', (err) => problems.push(`${name}: uncaught: ${err.message}`));
  page.on('response', (res) => {
    const provoked = res.status() === 401 || (res.status() === 429 && res.url().endsWith('/api/v1/login'));
    if (res.status() >= 400 && !provoked) {
      problems.push(`${name}: ${res.request().method()} ${res.url()} answered ${res.status()}`);
    }
  });
}

async function axe(page, view) {
  await page.evaluate(AXE);
  const result = await page.evaluate(() => window.axe.run(document, {
    resultTypes: ['violations'],
  }));
  for (const v of result.violations) {
    if (v.impact === 'serious' || v.impact === 'critical') {
      problems.push(`${view}: axe ${v.impact} ${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`);
    }
  }
}

async function shot(page, name) {
  await page.screenshot({ path: join(OUT, 'screenshots', `${name}.png`), fullPage: true });
}

async function view(page, name) {
  await axe(page, name);
  await shot(page, name);
}

async function text(page, selector) {
  await page.waitForSelector(selector, { timeout: TIMEOUT });
  return page.$eval(selector, (e) => e.textContent);
}

async function waitText(page, selector, wanted) {
  await page.waitForFunction((s, w) => [...document.querySelectorAll(s)].some((e) => e.textContent.includes(w)),
    { timeout: TIMEOUT }, selector, wanted);
}

async function clickText(page, selector, wanted) {
  await waitText(page, selector, wanted);
  const handles = await page.$$(selector);
  for (const h of handles) {
    if ((await h.evaluate((e) => e.textContent)).includes(wanted)) {
      await h.click();
      return;
    }
  }
  throw new Error(`no ${selector} with ${wanted}`);
}

async function login(page, who, password, expectError) {
  await page.goto(BASE, { waitUntil: 'networkidle0' });
  await page.waitForSelector('#login', { timeout: TIMEOUT });
  await page.$eval('#login', (e) => { e.value = ''; });
  await page.type('#login', who);
  await page.type('#password', password);
  await page.click('button[type=submit]');
  if (expectError) {
    await page.waitForSelector('.msg-error', { timeout: TIMEOUT });
    return page.$eval('.msg-error', (e) => e.textContent);
  }
  await page.waitForSelector('#folder-title', { timeout: TIMEOUT });
  return null;
}

const pages = [];
async function newPage(context, name, width = 1280) {
  const page = await context.newPage();
  pages.push([name, page]);
  page.setDefaultTimeout(TIMEOUT);
  await page.setViewport({ width, height: 900 });
  watch(page, name);
  return page;
}

const browser = await puppeteer.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'],
});
try {
  const alice = await newPage(browser.defaultBrowserContext(), 'alice');
  const cdp = await alice.createCDPSession();
  await cdp.send('Browser.setDownloadBehavior', {
    behavior: 'allow', downloadPath: join(OUT, 'downloads'), eventsEnabled: true,
  });

  // --- login: the form, and a refusal in words
  await alice.goto(BASE, { waitUntil: 'networkidle0' });
  await alice.waitForSelector('#login');
  check(!alice.url().includes('session'), 'no session in the address');
  await view(alice, 'login');
  const refusal = await login(alice, 'alice', 'wrong-password', true);
  check(refusal.includes('Wrong login or password'), `wrong password message: ${refusal}`);
  await view(alice, 'login-error');
  // throttled: the sixth failure for one user from one address says how long to wait
  let throttled = '';
  for (let i = 0; i < 6; i++) throttled = await login(alice, 'mallory', 'guess', true);
  check(/^Too many failed sign-ins\. Wait \d+ (seconds|minutes) and try again\.$/.test(throttled),
    `throttled message: ${throttled}`);
  await shot(alice, 'login-throttled');

  // --- files: log in, upload, list, download byte-identical
  await login(alice, 'alice', 'alice_pw');
  check((await text(alice, '#folder-title')) === 'My files', 'opens My files');
  await alice.waitForSelector('.empty');
  await view(alice, 'files-empty');
  const input = await alice.$('#upload-input');
  await input.uploadFile(UPLOAD);
  const name = basename(UPLOAD);
  await waitText(alice, 'tbody th', name);
  await waitText(alice, '.msg-info', `Uploaded ${name}`);
  await view(alice, 'files');
  await alice.click(`button[aria-label="Download ${name}"]`);
  const saved = join(OUT, 'downloads', name);
  const deadline = Date.now() + TIMEOUT;
  while (!(existsSync(saved) && !readdirSync(join(OUT, 'downloads')).some((f) => f.endsWith('.crdownload')))) {
    check(Date.now() < deadline, 'the download arrives');
    await new Promise((r) => setTimeout(r, 100));
  }
  check(Buffer.compare(readFileSync(saved), readFileSync(UPLOAD)) === 0, 'download is byte-identical');

  // versions: a second upload of the same name is version 2
  await input.uploadFile(UPLOAD);
  await alice.waitForFunction(() => document.querySelectorAll('.msg-info').length >= 2);
  await alice.waitForNetworkIdle({ idleTime: 300 }); // the list is drawn again
  await alice.click(`button[aria-label="Versions of ${name}"]`);
  await waitText(alice, 'dialog li', 'Version 2 (current)');
  await view(alice, 'files-versions');
  await clickText(alice, 'dialog button', 'Close');

  // --- share the folder with bob as viewer
  await clickText(alice, '.toolbar button', 'Share');
  await alice.waitForSelector('#share-search');
  await alice.type('#share-search', 'bob');
  await clickText(alice, 'dialog .share-results button', 'Add bob');
  await waitText(alice, 'dialog .share-list label', 'bob');
  await view(alice, 'files-share');
  await clickText(alice, 'dialog button', 'Save');
  await alice.waitForFunction(() => !document.querySelector('dialog'));

  // --- bob, in a second browser context, sees the file under "Shared with me"
  const bob = await newPage(await browser.createBrowserContext(), 'bob');
  await login(bob, 'bob', 'bob_pw');
  await bob.waitForSelector('button.toggle[aria-label="Show folders in alice"]');
  await bob.click('button.toggle[aria-label="Show folders in alice"]');
  await clickText(bob, 'ul.branch ul.branch .tree-item', 'My files');
  await waitText(bob, 'tbody th', name);
  check(!(await bob.$(`button[aria-label="Delete ${name}"]`)), 'a viewer is offered no Delete');
  await view(bob, 'files-shared-as-bob');

  // --- phone width: the files view fits in 360 px
  const phone = await newPage(await browser.createBrowserContext(), 'phone', 360);
  await login(phone, 'alice', 'alice_pw');
  await waitText(phone, 'tbody th', name);
  const overflow = await phone.evaluate(() => document.documentElement.scrollWidth);
  check(overflow <= 360, `no horizontal scrolling at 360 px (width ${overflow})`);
  await view(phone, 'files-360px');

  // --- settings: DAV addresses, then the password change ends the other sessions
  await alice.goto(`${BASE}#settings`, { waitUntil: 'networkidle0' });
  await alice.waitForSelector('#dav-files');
  const dav = await alice.$eval('#dav-files', (e) => e.value);
  check(dav === `${new URL(BASE).origin}/dav/files/home/`, `DAV address ${dav}`);
  await waitText(alice, '#content tbody th', '(this one)'); // the sessions list
  check((await alice.$$('#content tbody tr')).length === 2, 'two sessions of alice (browser and phone)');
  await view(alice, 'settings');
  await alice.type('#pw-current', 'alice_pw');
  await alice.type('#pw-new', 'n3w-alice-pw');
  await alice.type('#pw-again', 'n3w-alice-pw');
  await clickText(alice, 'form button', 'Change password');
  await waitText(alice, '.msg-info', 'Your password was changed');
  // the phone's session ended: its next call shows the sign-in form with the reason
  await phone.click('.appnav a[href="#settings"]');
  await waitText(phone, '.msg-info', 'Your session has ended');
  await view(phone, 'login-session-ended');
  // bob's session is untouched
  await bob.click('.appnav a[href="#settings"]');
  await bob.waitForSelector('#dav-files');

  // --- sign out
  await clickText(alice, '.appbar button', 'Sign out');
  await waitText(alice, '.msg-info', 'You are signed out');
  check(await alice.evaluate(() => sessionStorage.getItem('tandem.session')) === null,
    'the session id is gone from the tab');
  const again = await login(alice, 'alice', 'alice_pw', true);
  check(again.includes('Wrong login or password'), 'the old password is refused');
  await login(alice, 'alice', 'n3w-alice-pw');
} catch (error) {
  problems.push(`flow failed: ${error.stack || error}`);
  for (const [name, page] of pages) {
    await shot(page, `failure-${name}`).catch(() => {});
    problems.push(`${name} at the failure: ${await page.evaluate(() => document.body.innerText).catch(() => '?')}`);
  }
} finally {
  await browser.close();
}
if (problems.length) {
  console.error(problems.join('\n'));
  process.exit(1);
}
console.log('webui flows: all passed');
