// SPDX-License-Identifier: MIT
// What the browser flows share (flows.mjs, mail.mjs): configuration from the environment
// (BASE_URL, OUT_DIR), the problems found (console errors, uncaught exceptions, failed
// requests, axe-core serious or critical violations), screenshots, waiting and clicking by
// text, sign-in, and pages watched for problems.
import { readFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import puppeteer from 'puppeteer-core';

const require = createRequire(import.meta.url);
const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
export const BASE = process.env.BASE_URL;
export const OUT = process.env.OUT_DIR;
export const TIMEOUT = 20000;
mkdirSync(join(OUT, 'screenshots'), { recursive: true });
mkdirSync(join(OUT, 'downloads'), { recursive: true });

export const problems = [];
export function check(ok, what) {
  if (!ok) throw new Error(`check failed: ${what}`);
}

// API refusals the flows provoke on purpose (a wrong password, a throttled login, a session
// that was ended) show in the console as "Failed to load resource: … 401" (or 429); anything
// else is an error. provokedAlso(response) or provokedAlso(null, text, consoleMessage) says
// which further ones a flow expects.
export function watch(page, name, provokedAlso = () => false) {
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    const text = msg.text();
    if (/^Failed to load resource: the server responded with a status of (401|429)/.test(text)) return;
    if (provokedAlso(null, text, msg)) return;
    problems.push(`${name}: console error: ${text}`);
  });
  page.on('pageerror', (err) => problems.push(`${name}: uncaught: ${err.message}`));
  page.on('response', (res) => {
    const provoked = res.status() === 401 || (res.status() === 429 && res.url().endsWith('/api/v1/login'));
    if (res.status() >= 400 && !provoked && !provokedAlso(res)) {
      problems.push(`${name}: ${res.request().method()} ${res.url()} answered ${res.status()}`);
    }
  });
}

export async function axe(page, view) {
  await page.evaluate(AXE);
  const result = await page.evaluate(() => window.axe.run(document, {
    resultTypes: ['violations'],
  }));
  for (const v of result.violations) {
    if (v.impact === 'serious' || v.impact === 'critical') {
      problems.push(`${view}: axe ${v.impact} ${v.id}: ${v.help} (${v.nodes.map((n) => `${n.target.join(' ')}: ${n.failureSummary}`).join('; ')})`);
    }
  }
}

export async function shot(page, name) {
  await page.screenshot({ path: join(OUT, 'screenshots', `${name}.png`), fullPage: true });
}

export async function view(page, name) {
  await axe(page, name);
  await shot(page, name);
}

export async function text(page, selector) {
  await page.waitForSelector(selector, { timeout: TIMEOUT });
  return page.$eval(selector, (e) => e.textContent);
}

export async function waitText(page, selector, wanted) {
  await page.waitForFunction((s, w) => [...document.querySelectorAll(s)].some((e) => e.textContent.includes(w)),
    { timeout: TIMEOUT }, selector, wanted);
}

export async function clickText(page, selector, wanted) {
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

export async function login(page, who, password, expectError) {
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

export const pages = [];
export async function newPage(context, name, width = 1280, provokedAlso = undefined) {
  const page = await context.newPage();
  pages.push([name, page]);
  page.setDefaultTimeout(TIMEOUT);
  await page.setViewport({ width, height: 900 });
  watch(page, name, provokedAlso);
  return page;
}


// Debian's chromium (CHROMIUM), headless.
export function launch() {
  return puppeteer.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'],
  });
}

// A flow stopped by error: the error, and every page's screenshot and text at that moment.
export async function failed(error) {
  problems.push(`flow failed: ${error.stack || error}`);
  for (const [name, page] of pages) {
    await shot(page, `failure-${name}`).catch(() => {});
    problems.push(`${name} at the failure: ${await page.evaluate(() => document.body.innerText).catch(() => '?')}`);
  }
}

// The end of a run: the problems and exit status 1, or "<what>: all passed".
export function report(what) {
  if (problems.length) {
    console.error(problems.join('\n'));
    process.exit(1);
  }
  console.log(`${what}: all passed`);
}
