// The operator console in a real browser (Debian's Chromium, headless) against a running
// stack: sign in, see the fleet, command a device, watch it live. Written from what a user
// sees on the page (docs/console.md), not from the console's code.
//
//   NB_CONSOLE_URL   http://127.0.0.1:<port>/console/
//   NB_TOKEN         a client token allowed read, write, invoke and events on the demo fleet
//   NB_ARTIFACTS     where screenshots go
//   NB_CHROMIUM      the browser (default /usr/bin/chromium)
//   NB_CONSOLE_SCENARIO  demo (default): the demo fleet, everything a user does;
//                        large: a fleet of NB_DEVICES devices, every tenth offline
//
// Exits 0 when every check passed; otherwise prints the failed check and exits 1.

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const url = process.env.NB_CONSOLE_URL;
const token = process.env.NB_TOKEN;
const artifacts = process.env.NB_ARTIFACTS ?? '.';
const scenario = process.env.NB_CONSOLE_SCENARIO ?? 'demo';
const TIMEOUT = 20000;

function check(condition, what) {
  if (!condition) throw new Error(`check failed: ${what}`);
  console.log(`ok - ${what}`);
}

mkdirSync(artifacts, { recursive: true });
const browser = await chromium.launch({
  executablePath: process.env.NB_CHROMIUM ?? '/usr/bin/chromium',
  headless: true,
  // The machine has no network beyond loopback: keep Chromium from reaching out.
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
         '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
let page;
try {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  page = await context.newPage();
  page.setDefaultTimeout(TIMEOUT);
  const urls = [];
  const problems = [];
  page.on('request', (request) => urls.push(request.url()));
  page.on('websocket', (ws) => urls.push(ws.url()));
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    // A policy violation or a script error is a defect of the console.
    if (message.type() === 'error' && !/401 \(Unauthorized\)/.test(message.text())) {
      problems.push(`console error: ${message.text()}`);
    }
  });

  await page.goto(url);
  if (scenario === 'large') {
    await large(page);
  } else {
    await demo(page, urls);
  }
  check(problems.length === 0, `no script errors or policy violations (${problems.join('; ')})`);
  console.log('console test passed');
} catch (error) {
  console.error(error.message);
  if (page) await page.screenshot({ path: join(artifacts, `console-${scenario}-failure.png`) }).catch(() => {});
  process.exitCode = 1;
} finally {
  await browser.close();
}

async function signIn(page) {
  await page.fill('#token', token);
  await page.click('#token-form button[type=submit]');
  await page.locator('#connection', { hasText: /^connected$/ }).waitFor();
}

async function large(page) {
  const total = Number(process.env.NB_DEVICES);
  await signIn(page);
  await page.locator('#fleet-count', { hasText: `${total} of ${total} devices` }).waitFor();
  check(true, `all ${total} devices are listed (paged through the API)`);
  const rows = await page.locator('#fleet-rows .fleet-row').count();
  check(rows > 0 && rows < 100, `only the visible rows are in the page (${rows} of ${total})`);
  await page.locator('#fleet-rows').evaluate((list) => { list.scrollTop = list.scrollHeight; });
  await page.locator(`[data-device="big-product/dev${total}"]`).waitFor();
  check(true, `scrolling to the end shows dev${total}`);
  await page.selectOption('#filter-state', 'offline');
  await page.locator('#fleet-count', { hasText: `${total / 10} of ${total} devices` }).waitFor();
  // The rows follow on the next frame: wait for them to show offline devices only.
  await page.waitForFunction(() => {
    const rows = document.querySelectorAll('#fleet-rows .fleet-row');
    return rows.length > 0 && [...rows].every((row) => row.querySelector('.state.offline'));
  });
  check(true, `filtering by state leaves the ${total / 10} offline devices`);
  await page.selectOption('#filter-state', '');
  await page.fill('#filter-text', `dev${total - 1}`);
  await page.locator(`[data-device="big-product/dev${total - 1}"] .state`, { hasText: 'online' }).waitFor();
  check(true, `searching finds dev${total - 1}, online`);
  await page.screenshot({ path: join(artifacts, 'console-large.png') });
}

async function demo(page, urls) {
  // Signing in with a wrong token says so in plain words.
  await page.fill('#token', 'nbt_' + 'x'.repeat(43));
  await page.click('#token-form button[type=submit]');
  await page.locator('#sign-in-error').waitFor({ state: 'visible' });
  const refused = await page.textContent('#sign-in-error');
  check(/token was not accepted/i.test(refused), `a wrong token is refused clearly ("${refused}")`);
  check(await page.evaluate(() => sessionStorage.length === 0), 'a refused token is not kept');

  // The right one shows the fleet: device1 online, with its temperature.
  await signIn(page);
  check(true, 'the WebSocket connected (the token as a subprotocol)');
  const row = page.locator('[data-device="sagoo-product/device1"]');
  await row.locator('.state', { hasText: 'online' }).waitFor();
  await row.locator('.values', { hasText: /temperature \S+ °C/ }).waitFor();
  check(true, `device1 is online with a temperature: "${await row.locator('.values').textContent()}"`);
  check(await page.evaluate(() => localStorage.length === 0 && sessionStorage.length === 1),
        'the token is kept in sessionStorage only');
  await page.fill('#filter-text', 'device1');
  await page.locator('#fleet-count', { hasText: /^1 of / }).waitFor();
  check(true, 'filtering by key narrows the fleet to device1');
  await page.fill('#filter-text', '');
  await page.screenshot({ path: join(artifacts, 'console-fleet.png') });

  // Live reports update a row in place: the element a user presses is still the one under
  // the pointer when the button comes up, so the click is not lost to a re-render.
  const pressed = await row.elementHandle();
  const shown = await row.locator('.values').textContent();
  await page.waitForFunction(
    (before) => document.querySelector('[data-device="sagoo-product/device1"] .values')?.textContent !== before,
    shown);
  check(await pressed.evaluate((node) => node.isConnected),
        'a live report updates device1\'s row in place (a click on it is not lost)');

  // The device view: write label and read it back from the device.
  await row.click();
  await page.locator('#device-state', { hasText: 'online' }).waitFor();
  const label = `console-${Date.now() % 100000}`;
  const labelRow = page.locator('#properties tr[data-property="label"]');
  await labelRow.locator('input[name="label"]').fill(label);
  await labelRow.locator('button', { hasText: 'Write' }).click();
  await page.locator('#answers li[data-code="OK"]', { hasText: 'write label' }).waitFor();
  await labelRow.locator('.value', { hasText: label }).waitFor();
  check(true, `writing label answers OK and shows "${label}"`);
  await labelRow.locator('input[type=checkbox]').check();
  await page.click('#read-selected');
  // The read's own answer: the write's answer carries the value too.
  await page.locator('#answers li[data-code="OK"]', { hasText: 'read label:' })
      .filter({ hasText: `"label":"${label}"` }).waitFor();
  check(true, 'reading label back from the device returns the written value');

  // A value outside the thing model's range never leaves the page.
  const temperature = page.locator('#properties tr[data-property="temperature"]');
  await temperature.locator('input[name="temperature"]').fill('500');
  await temperature.locator('button', { hasText: 'Write' }).click();
  check(await temperature.locator('input[name="temperature"]').evaluate((input) => !input.validity.valid),
        'a temperature above the model maximum is refused by the form');

  // selfTest fails on device1: the code and its plain words are shown.
  await page.click('form[data-function="selfTest"] button[type=submit]');
  const failed = page.locator('#answers li[data-code="DEVICE_ERROR"]', { hasText: 'invoke selfTest' });
  await failed.waitFor();
  const failure = await failed.textContent();
  check(/failure of its own/.test(failure), `selfTest shows DEVICE_ERROR in plain words ("${failure}")`);

  // A property report arrives in the live log.
  await page.locator('#events li[data-topic="message/property/report"]').first().waitFor();
  check(true, 'a live property report arrives in the event log');
  await page.click('#events-clear');
  check(await page.locator('#events li').count() <= 1, 'Clear empties the event log');
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: join(artifacts, 'console-device.png') });

  // The raw frame panel sends a frame and shows the answer.
  await page.click('#nav a[data-view="raw"]');
  await page.fill('#raw-frame', '{"type":"ping","id":"console-ping"}');
  await page.click('#raw-form button[type=submit]');
  await page.locator('#raw-log li.in', { hasText: '"type":"pong"' }).waitFor();
  check(true, 'a raw ping is answered with a pong');

  // A reload keeps the session (the token is in the tab's sessionStorage).
  await page.reload();
  await page.locator('#connection', { hasText: /^connected$/ }).waitFor();
  check(await page.locator('#sign-in').isHidden(), 'a reload stays signed in');

  // The token is in no URL the page loaded or connected to.
  check(urls.length > 0 && urls.every((u) => !u.includes(token)),
        `none of the ${urls.length} URLs the page used carries the token`);
  check(!page.url().includes(token), 'the page URL does not carry the token');
}
