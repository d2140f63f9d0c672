// SPDX-License-Identifier: MIT
// bench/webui.sh's browser side: ROUNDS cold loads of BASE_URL in chromium (a new browser
// context each, so nothing is cached), timing the sign-in form and the files view with FILES
// files, and counting the bytes of the first view. Prints one JSON object of medians.
import { createRequire } from 'node:module';

const require = createRequire(new URL('../tests/webui/package.json', import.meta.url));
const puppeteer = require('puppeteer-core');
const BASE = process.env.BASE_URL;
const ROUNDS = Number(process.env.ROUNDS || 5);
const FILES = Number(process.env.FILES || 1000);
const EVENTS = Number(process.env.EVENTS || 200);

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const browser = await puppeteer.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'],
});
const login = [];
const outside = [];
const files = [];
const week = [];
let bytes = null;
try {
  for (let round = 0; round < ROUNDS; round++) {
    const context = await browser.createBrowserContext();
    const page = await context.newPage();
    await page.setViewport({ width: 1280, height: 900 });
    const cdp = await page.createCDPSession();
    await cdp.send('Network.enable');
    const types = new Map();
    const sizes = { transfer: 0, decoded: 0, page_transfer: 0 };
    cdp.on('Network.responseReceived', (e) => types.set(e.requestId, e.type));
    cdp.on('Network.dataReceived', (e) => {
      if (['Script', 'Stylesheet'].includes(types.get(e.requestId))) sizes.decoded += e.dataLength;
    });
    cdp.on('Network.loadingFinished', (e) => {
      sizes.page_transfer += e.encodedDataLength;
      if (['Script', 'Stylesheet'].includes(types.get(e.requestId))) sizes.transfer += e.encodedDataLength;
    });
    const t0 = performance.now();
    await page.goto(BASE);
    await page.waitForSelector('#login', { visible: true });
    outside.push(performance.now() - t0);
    // from the page's own navigation start: without the browser's new renderer process
    login.push(await page.evaluate(() => performance.now()));
    await page.waitForNetworkIdle({ idleTime: 200 });
    if (!bytes) bytes = { ...sizes };
    await page.type('#login', 'alice');
    await page.type('#password', 'alice_pw');
    const t1 = performance.now();
    await page.click('button[type=submit]');
    await page.waitForFunction((n) => document.querySelectorAll('#content tbody tr').length === n,
      { timeout: 60000 }, FILES);
    files.push(performance.now() - t1);
    // then the calendar's week view (the default at this width) with EVENTS events this week
    const t2 = performance.now();
    await page.evaluate(() => { window.location.hash = '#calendar'; });
    await page.waitForFunction((n) => document.querySelectorAll('.cal-ev[data-id]').length >= n,
      { timeout: 60000, polling: 50 }, EVENTS);
    week.push(performance.now() - t2);
    await context.close();
  }
} finally {
  await browser.close();
}
console.log(JSON.stringify({ ...bytes, login_ms: median(login), login_outside_ms: median(outside), files_ms: median(files), week_ms: median(week) }));
