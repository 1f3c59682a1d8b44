// Browser wiring of the built extension (dist/extension), in headless Chromium with playwright-core.
// Build first: `cargo run -p port-builder --example build` (or `port build`), then
// `node --test tests/e2e/`. Set PORT_E2E_EXTENSION to test another build, CHROMIUM to another browser.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { donationBodyText, keepDonationBody } from './support.mjs';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const extensionDir = process.env.PORT_E2E_EXTENSION ?? path.join(repo, 'dist', 'extension');
// The manifest `key` fixes the id; it is the same in every build.
const EXTENSION_ID = 'majacjgmojmpgjbcioomhloafcikglkl';

let context;
let profile;
const requests = [];

before(async () => {
  assert.ok(existsSync(path.join(extensionDir, 'manifest.json')), `no build at ${extensionDir}`);
  profile = mkdtempSync(path.join(tmpdir(), 'port-e2e-'));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: [
      `--disable-extensions-except=${extensionDir}`,
      `--load-extension=${extensionDir}`,
      '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
  });
  context.on('request', (request) => requests.push(request.url()));
  let [worker] = context.serviceWorkers();
  worker ??= await context.waitForEvent('serviceworker');
  assert.equal(new URL(worker.url()).host, EXTENSION_ID);
});

after(async () => {
  await context?.close();
  if (profile) rmSync(profile, { recursive: true, force: true });
});

/// Opens a tab on an extension page and collects every state the session broadcasts.
async function openObserver() {
  const page = await context.newPage();
  page.on('console', (message) => {
    if (message.type() === 'error') console.error('[page]', message.text());
  });
  await page.goto(`chrome-extension://${EXTENSION_ID}/manifest.json`);
  await page.evaluate(() => {
    window.portStates = [];
    const channel = new BroadcastChannel('port-session');
    channel.onmessage = (event) => window.portStates.push(event.data);
    window.portChannel = channel;
  });
  return page;
}

/// Polls the states a page collected until one matches; the page's CSP forbids evaluating a predicate
/// there, so the predicate runs here.
async function waitForState(page, predicate, timeout = 60_000) {
  const deadline = Date.now() + timeout;
  let seen = [];
  while (Date.now() < deadline) {
    seen = await page.evaluate(() => window.portStates);
    const found = seen.find((message) => message.type === 'state' && predicate(message));
    if (found) return found;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`no matching state within ${timeout} ms; last: ${JSON.stringify(seen.at(-1))}`);
}

test('the session boots Pyodide and the demo study renders its first page', { timeout: 120_000 }, async () => {
  const page = await openObserver();
  const started = Date.now();
  const reply = await page.evaluate(() =>
    chrome.runtime.sendMessage({ target: 'background', type: 'ensure-session' }));
  assert.ok(reply && !reply.error, `ensure-session failed: ${JSON.stringify(reply)}`);
  assert.match(reply.session_id, /^\d+$/);
  assert.equal(reply.study_id, 'demo');

  const booting = await waitForState(page, (state) => state.status.state === 'booting' && state.status.step_idx >= 1);
  assert.equal(booting.status.n_steps, 3);

  const first = await waitForState(page, (state) => state.page_seq >= 1 && state.page != null);
  console.log(`first page after ${Date.now() - started} ms:`, JSON.stringify(first).slice(0, 300));
  assert.equal(first.page.__type__, 'PropsUIPageDataSubmission');
  assert.ok(Array.isArray(first.page.body));

  // A second view that attaches gets the current page.
  const second = await openObserver();
  await second.evaluate(() => window.portChannel.postMessage({ type: 'attach' }));
  const attached = await waitForState(second, (state) => state.page_seq >= 1);
  assert.ok(attached.page, 'an attaching view gets the current page');

  // The session id is mirrored to chrome.storage.session, and a second ensure finds the same session.
  const again = await page.evaluate(() =>
    chrome.runtime.sendMessage({ target: 'background', type: 'ensure-session' }));
  assert.equal(again.session_id, reply.session_id);
  await second.close();
  await page.close();
});

test('the real UI drives the demo study from file to donation', { timeout: 180_000 }, async () => {
  const ddp = path.join(profile, 'ddp.zip');
  execFileSync(process.env.PYTHON ?? 'python3', [path.join(repo, 'studies/demo/generate_ddp.py'), ddp]);
  const ui = await context.newPage();
  const errors = [];
  ui.on('pageerror', (error) => errors.push(String(error)));
  await ui.goto(`chrome-extension://${EXTENSION_ID}/ui.html`);
  const chooser = ui.getByLabel('Choose a file');
  await chooser.waitFor({ timeout: 60_000 });
  await chooser.setInputFiles(ddp);
  await ui.getByRole('button', { name: 'Continue' }).click();
  await ui.getByRole('radio').first().waitFor({ timeout: 30_000 });
  await ui.getByRole('radio').first().check();
  await ui.getByRole('button', { name: 'Continue' }).click();
  await ui.getByRole('heading', { name: 'Your Demo platform data' }).waitFor({ timeout: 30_000 });
  await ui.getByRole('button', { name: 'Yes, share for research' }).click();

  // The local bridge keeps the donation in chrome.storage.local, keyed by session and donation key.
  const { session_id: sessionId } = await ui.evaluate(() =>
    chrome.runtime.sendMessage({ target: 'background', type: 'ensure-session' }));
  const storageKey = `port.donation.${sessionId}.${sessionId}-demo`;
  let donation;
  for (let attempt = 0; attempt < 100 && !donation; attempt += 1) {
    donation = await ui.evaluate((key) => chrome.storage.local.get(key).then((items) => items[key]), storageKey);
    if (!donation) await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.ok(donation, `no donation under ${storageKey}`);
  assert.equal(donation.key, `${sessionId}-demo`);
  const donated = JSON.parse(await donationBodyText(ui, sessionId, donation.key, donation.body));
  assert.ok(Array.isArray(donated) && donated.length >= 1, 'the consent form donates its tables');
  await ui.getByRole('heading', { name: 'A few questions' }).waitFor({ timeout: 30_000 });
  await ui.getByRole('button', { name: 'Continue' }).click();
  await ui.getByRole('heading', { name: 'A few questions' }).waitFor({ state: 'detached', timeout: 30_000 });
  await ui.getByRole('button', { name: 'Finish' }).waitFor();
  await ui.evaluate(() => {
    window.portStates = [];
    new BroadcastChannel('port-session').onmessage = (event) => window.portStates.push(event.data);
  });
  await ui.getByRole('button', { name: 'Finish' }).click();
  const finished = await waitForState(ui, (state) => state.status.state === 'finished', 30_000);
  assert.equal(finished.status.code, 0);
  assert.deepEqual(errors, []);
});

test('a stopped service worker finds the running session again', { timeout: 30_000 }, async () => {
  const page = await openObserver();
  const before = await page.evaluate(() => chrome.runtime.sendMessage({ target: 'background', type: 'ensure-session' }));
  const cdp = await context.newCDPSession(page);
  await cdp.send('ServiceWorker.enable');
  await cdp.send('ServiceWorker.stopAllWorkers');
  await new Promise((resolve) => setTimeout(resolve, 500));
  const after = await page.evaluate(() => chrome.runtime.sendMessage({ target: 'background', type: 'ensure-session' }));
  assert.equal(after.session_id, before.session_id);
  // The session itself lives in the offscreen document, which the stop did not touch.
  await page.evaluate(() => window.portChannel.postMessage({ type: 'attach' }));
  const state = await waitForState(page, (state) => state.page_seq >= 1);
  assert.ok(state.page);
  await cdp.detach();
  await page.close();
});

test('the dev-host bridge POSTs donations, logs and the exit to 127.0.0.1', { timeout: 30_000 }, async () => {
  const received = [];
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => { body += chunk; });
    request.on('end', () => {
      received.push({ method: request.method, url: request.url, key: request.headers['x-port-key'],
        session: request.headers['x-port-session'], body });
      response.writeHead(request.url === '/donate' ? 200 : 204).end();
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${server.address().port}`;
  const page = await context.newPage();
  await page.goto(`chrome-extension://${EXTENSION_ID}/manifest.json`);
  try {
    await page.evaluate((url) => chrome.storage.local.set({ 'port.bridge': { kind: 'dev-host', url } }), url);
    const send = (message) => page.evaluate((message) => chrome.runtime.sendMessage(message), { target: 'background', ...message });
    const body = await keepDonationBody(page, '42', '42-demo', '[{"a":1}]');
    const reply = await send({ type: 'donate', session_id: '42', donation: { key: '42-demo', body } });
    assert.deepEqual(reply, { success: true, key: '42-demo', status: 200 });
    await send({ type: 'logs', session_id: '42', entries: [{ level: 'info', message: 'hello' }] });
    await send({ type: 'exit', session_id: '42', exit: { code: 0, info: 'End of script' } });
    assert.deepEqual(received.map(({ method, url }) => `${method} ${url}`), ['POST /donate', 'POST /log', 'POST /exit']);
    assert.deepEqual(received[0], { method: 'POST', url: '/donate', key: '42-demo', session: '42', body: '[{"a":1}]' });
    assert.deepEqual(JSON.parse(received[1].body), { session_id: '42', entries: [{ level: 'info', message: 'hello' }] });
    assert.deepEqual(JSON.parse(received[2].body), { session_id: '42', code: 0, info: 'End of script' });

    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    const refusedBody = await keepDonationBody(page, '42', '42-demo', '[]');
    const refused = await send({ type: 'donate', session_id: '42', donation: { key: '42-demo', body: refusedBody } });
    assert.equal(refused.success, false);
    assert.equal(refused.status, 0);
  } finally {
    await page.evaluate(() => chrome.storage.local.remove('port.bridge'));
    server.close();
    await page.close();
  }
});

test('no request leaves the extension or the local machine', () => {
  const outside = requests.filter((url) => {
    const { protocol, hostname } = new URL(url);
    return !(protocol === 'chrome-extension:' || hostname === '127.0.0.1' || protocol === 'data:' || protocol === 'blob:');
  });
  assert.ok(requests.length > 0, 'some requests were recorded');
  assert.deepEqual(outside, []);
});
