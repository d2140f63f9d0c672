// SPDX-License-Identifier: MIT
// bench/webui.sh's SOGo side (bench/webui_sogo.py starts SOGo): ROUNDS cold loads of BASE_URL in
// chromium, measured as bench/webui.mjs measures Tandem: JS+CSS bytes of the first view, the
// sign-in form visible, and from signing in until the calendar's week view shows EVENTS events.
// Prints one JSON object of medians.
import { createRequire } from 'node:module';

const require = createRequire(new URL('../tests/webui/package.json', import.meta.url));
const puppeteer = require('puppeteer-core');
const BASE = process.env.BASE_URL;
const ROUNDS = Number(process.env.ROUNDS || 5);
const EVENTS = Number(process.env.EVENTS || 200);
const USER = 'input[ng-model="app.creds.username"]';
const EVENT = '.sg-draggable-calendar-block.sg-event'; // one per event in the week grid

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const browser = await puppeteer.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'],
});
const login = [];
const outside = [];
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
    await page.waitForSelector(USER, { visible: true });
    outside.push(performance.now() - t0);
    login.push(await page.evaluate(() => performance.now()));
    await page.waitForNetworkIdle({ idleTime: 200 });
    if (!bytes) bytes = { ...sizes };
    await page.type(USER, 'alice');
    await page.type('#passwordField', 'alice_pw');
    const t1 = performance.now();
    await page.keyboard.press('Enter');
    try {
      await page.waitForFunction((sel, n) => document.querySelectorAll(sel).length >= n,
        { timeout: 60000, polling: 50 }, EVENT, EVENTS);
    } catch (err) {
      if (process.env.SHOT) await page.screenshot({ path: process.env.SHOT });
      const n = await page.evaluate((sel) => document.querySelectorAll(sel).length, EVENT);
      throw new Error(`${n} of ${EVENTS} events in ${page.url()}: ${err.message}`);
    }
    week.push(performance.now() - t1);
    if (process.env.SHOT && round === 0) await page.screenshot({ path: process.env.SHOT });
    await context.close();
  }
} finally {
  await browser.close();
}
console.log(JSON.stringify({ ...bytes, login_ms: median(login), login_outside_ms: median(outside), week_ms: median(week), url: BASE }));
