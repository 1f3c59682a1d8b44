// Host bridges: a host page pushes a study over `chrome.runtime.connect` (live-init) and gets the
// donations over its port; the http bridge delivers through the durable outbox, retried until the
// host has it, exactly once, also across a service worker stop; configs from origins not allowed
// and invalid configs are refused. A reloaded host page keeps the running session.
//
// "Exactly once" is checked twice: the entries the dev host stored (it stores a donation whose
// Idempotency-Key it saw before only once) and its stdout, which must have no `duplicate` line:
// a second send is a bug even when the host deduplicates it.
//
// The tiny study donates data it built itself, so the extension's review page comes first; these
// tests press its "Send".
//
// Build first (`port build`), then `node --test tests/e2e/`. Helpers: ./support.mjs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  EXTENSION_ID, UI_URL, demoDonateAndFinish, demoToConsent, generateDdp, launch, recordStates, repo,
  sendOnReview, sleep, startDevHost, startLinkedStudy, startStaticServer, studyConfig, tempDir, waitForState,
} from './support.mjs';


/// A dev host serving `config` on its `/study` page, and a browser.
async function withHostPage(config, { args = [] } = {}, body) {
  const scratch = tempDir('study');
  const file = path.join(scratch, 'study.json');
  writeFileSync(file, JSON.stringify(config));
  const host = await startDevHost({ args: ['--study', file, ...args] });
  const browser = await launch();
  try {
    await recordStates(browser.context);
    await body({ host, browser, scratch });
  } finally {
    await browser.close();
    await host.close();
    rmSync(scratch, { recursive: true, force: true });
  }
}

async function waitFor(check, timeout, what) {
  const deadline = Date.now() + timeout;
  while (Date.now() < deadline) {
    const value = await check();
    if (value) return value;
    await sleep(200);
  }
  throw new Error(`timed out waiting for ${what}`);
}

test('bridges: a host page pushes the demo, which runs in a UI tab and donates over the port', { timeout: 180_000 }, async () => {
  const demo = studyConfig({
    id: 'host-demo',
    version: '2.0.0',
    title: { translations: { en: 'Host demo', nl: 'Host-demo' } },
    // A config from a web page cannot point at files inside the extension (`bundled`), so the
    // demo's script travels inline.
    script: { source: readFileSync(path.join(repo, 'studies/demo/script.py'), 'utf8') },
    donate: { mode: 'host-page' },
  });
  await withHostPage(demo, {}, async ({ host, browser, scratch }) => {
    const hostPage = await browser.context.newPage();
    const uiOpened = browser.context.waitForEvent('page', { predicate: (page) => page.url().startsWith(UI_URL), timeout: 30_000 });
    await hostPage.goto(`${host.url}/study`);
    const ui = await uiOpened;
    await ui.locator('#bar').getByText('Host demo (version 2.0.0)').waitFor({ timeout: 60_000 });
    await demoToConsent(ui, generateDdp(scratch));
    await demoDonateAndFinish(ui);
    // The host page relayed both donations; the questionnaire comes only after the data donation
    // was answered with success, so the script got PayloadResponse success over the port.
    const keys = await waitFor(async () => {
      const keys = (await host.donations()).map((entry) => entry.key);
      return keys.some((key) => key.endsWith('-demo-questionnaire')) && keys;
    }, 30_000, 'the questionnaire donation');
    assert.equal(keys.filter((key) => /^\d+-demo$/.test(key)).length, 1, JSON.stringify(keys));
    const events = await hostPage.locator('#events').innerText();
    assert.match(events, /event initialized/);
    assert.match(events, /exit 0/);
    await hostPage.getByText('Study completed.').waitFor();
    assert.doesNotMatch(host.output(), /duplicate/);
  });
});

test('bridges: reloading the host page mid-flow keeps the session; the donation arrives once', { timeout: 180_000 }, async () => {
  const demo = studyConfig({
    id: 'host-demo',
    version: '2.0.0',
    title: { translations: { en: 'Host demo', nl: 'Host-demo' } },
    script: { source: readFileSync(path.join(repo, 'studies/demo/script.py'), 'utf8') },
    donate: { mode: 'host-page' },
  });
  await withHostPage(demo, {}, async ({ host, browser, scratch }) => {
    const hostPage = await browser.context.newPage();
    const uiOpened = browser.context.waitForEvent('page', { predicate: (page) => page.url().startsWith(UI_URL), timeout: 30_000 });
    await hostPage.goto(`${host.url}/study`);
    const ui = await uiOpened;
    await ui.locator('#bar').getByText('Host demo (version 2.0.0)').waitFor({ timeout: 60_000 });
    const session = await ui.evaluate(() => chrome.runtime.sendMessage({ target: 'background', type: 'ensure-session' }));
    // After the file step: the host page reloads (its port disconnects, a new one sends live-init).
    await demoToConsent(ui, generateDdp(scratch));
    await hostPage.reload();
    await hostPage.getByText('Study sent to the extension.').waitFor();
    await sleep(2000);
    const after = await ui.evaluate(() => chrome.runtime.sendMessage({ target: 'background', type: 'ensure-session' }));
    assert.equal(after.session_id, session.session_id, 'the same session goes on');
    await demoDonateAndFinish(ui);
    const keys = await waitFor(async () => {
      const keys = (await host.donations()).map((entry) => entry.key);
      return keys.some((key) => key.endsWith('-demo-questionnaire')) && keys;
    }, 30_000, 'the questionnaire donation');
    assert.deepEqual(keys.filter((key) => key === `${session.session_id}-demo`), [`${session.session_id}-demo`], JSON.stringify(keys));
    assert.doesNotMatch(host.output(), /duplicate/);
    // The reloaded page got the rest of the session; no second UI tab opened.
    await hostPage.getByText('Study completed.').waitFor({ timeout: 30_000 });
    assert.equal(browser.context.pages().filter((page) => page.url().startsWith(UI_URL)).length, 1);
  });
});

test('bridges: an invalid pushed config is refused with its path-pointing errors, and nothing runs', { timeout: 60_000 }, async () => {
  const invalid = studyConfig({ id: 'Bad Id', donate: { mode: 'host-page', url: 'https://x.org' } });
  await withHostPage(invalid, {}, async ({ host, browser }) => {
    const hostPage = await browser.context.newPage();
    await hostPage.goto(`${host.url}/study`);
    await hostPage.locator('#events').getByText(/PortStudyRefused/).waitFor({ timeout: 30_000 });
    const events = await hostPage.locator('#events').innerText();
    assert.match(events, /id: must start with a lowercase letter/);
    assert.match(events, /donate\.url: /);
    await sleep(1000);
    assert.equal(browser.context.pages().filter((page) => page.url().startsWith(UI_URL)).length, 0, 'no UI opened');
  });
});

test('bridges: a page from an origin not allowed cannot reach the extension', { timeout: 60_000 }, async () => {
  await withHostPage(studyConfig({ donate: { mode: 'host-page' } }), {}, async ({ host, browser }) => {
    // The same host page, served from 127.0.0.2: loopback too, but not in externally_connectable.
    const html = await (await fetch(`${host.url}/study`)).text();
    const other = await startStaticServer({ '/study': { body: html, type: 'text/html' } }, { hostname: '127.0.0.2' });
    try {
      const hostPage = await browser.context.newPage();
      await hostPage.goto(`${other.url}/study`);
      await hostPage.getByText('this origin is not allowed to reach it').waitFor({ timeout: 10_000 });
      await sleep(1000);
      assert.equal(browser.context.pages().filter((page) => page.url().startsWith(UI_URL)).length, 0, 'no UI opened');
    } finally {
      await other.close();
    }
  });
});

/// A study (the tiny one-donation script) with `donate.mode` http to `host`, added by link, started,
/// and its donation sent from the review page.
async function startHttpStudy(browser, host, server, fields = {}) {
  const config = studyConfig({ id: 'http-tiny', donate: { mode: 'http', url: `${host.url}/donate` }, ack_timeout_s: 2, ...fields });
  const { page, errors } = await startLinkedStudy(browser, server, config);
  await sendOnReview(page, /Name of the data: \d+-tiny/);
  return { page, errors };
}

test('bridges: http donations go through the outbox: the script gets 202, retries deliver once', { timeout: 120_000 }, async () => {
  const host = await startDevHost({ args: ['--fail-donations', '503:2'] });
  const server = await startStaticServer();
  const browser = await launch();
  try {
    const { page } = await startHttpStudy(browser, host, server);
    // The host failed in time, so the script was told "accepted, queued".
    await page.locator('main').getByText(/answer PayloadResponse success=True status=202/).waitFor({ timeout: 60_000 });
    const pending = await waitForState(page, (state) => state.deliveries?.some((delivery) => delivery.state === 'pending'));
    const key = pending.deliveries[0].key;
    assert.match(key, /^\d+-tiny$/);
    await page.locator(`li[data-delivery="${key}"][data-state="pending"]`).waitFor();
    await page.locator(`li[data-delivery="${key}"][data-state="delivered"]`).waitFor({ timeout: 60_000 });
    const delivered = await waitForState(page, (state) => state.deliveries?.some((delivery) => delivery.state === 'delivered'));
    assert.equal(delivered.deliveries[0].status, 200);
    const entries = (await host.donations()).filter((entry) => entry.key === key);
    assert.equal(entries.length, 1, 'stored once');
    assert.match(entries[0].idempotency_key, /^[0-9a-f]{64}$/);
    assert.match(host.output(), /answering 503 on purpose \(2\/2\)/);
    assert.doesNotMatch(host.output(), /duplicate/);
    // The outbox is empty again.
    const left = await page.evaluate(() => chrome.storage.local.get(null).then((items) => Object.keys(items).filter((key) => key.startsWith('port.outbox.'))));
    assert.deepEqual(left, []);
  } finally {
    await browser.close();
    await server.close();
    await host.close();
  }
});

test('bridges: a donation pending when the service worker stops is delivered once after the restart', { timeout: 150_000 }, async () => {
  const host = await startDevHost({ args: ['--fail-donations', '503:1'] });
  const server = await startStaticServer();
  const browser = await launch();
  try {
    const { page } = await startHttpStudy(browser, host, server);
    await waitFor(() => /answering 503 on purpose/.test(host.output()), 60_000, 'the first, failed attempt');
    const cdp = await browser.context.newCDPSession(page);
    await cdp.send('ServiceWorker.enable');
    await cdp.send('ServiceWorker.stopAllWorkers');
    const stored = await page.evaluate(() => chrome.storage.local.get(null).then((items) => Object.keys(items).filter((key) => key.startsWith('port.outbox.'))));
    assert.equal(stored.length, 1, 'the record was persisted before the stop');
    const entries = await waitFor(async () => {
      const entries = (await host.donations()).filter((entry) => /-tiny$/.test(entry.key));
      return entries.length > 0 && entries;
    }, 120_000, 'the delivery after the restart');
    await sleep(2000);
    assert.equal((await host.donations()).filter((entry) => /-tiny$/.test(entry.key)).length, 1, 'delivered once');
    assert.equal(entries.length, 1);
    assert.doesNotMatch(host.output(), /duplicate/);
    await page.locator('li[data-state="delivered"]').waitFor({ timeout: 30_000 });
    await cdp.detach();
  } finally {
    await browser.close();
    await server.close();
    await host.close();
  }
});

test('bridges: a second live-init replaces the port and the pending donation is sent again over it', { timeout: 120_000 }, async () => {
  const host = await startDevHost();
  const server = await startStaticServer();
  const browser = await launch();
  try {
    await recordStates(browser.context);
    const study = studyConfig({ id: 'relive', donate: { mode: 'host-page' }, ack_timeout_s: 60 });
    // A host page that connects again when the first port gets the donation, and answers on the
    // second port (after a while). The first port answers too, with another status, after the
    // second connected: a reply on a replaced port must not count.
    server.routes['/relive'] = { type: 'text/html', body: `<!doctype html><pre id="log"></pre><script>
      const log = (text) => { document.getElementById('log').textContent += text + '\\n'; };
      function connect(label) {
        const port = chrome.runtime.connect(${JSON.stringify(EXTENSION_ID)}, { name: 'port-host' });
        port.onMessage.addListener(async (message) => {
          log(label + ' ' + message.__type__ + ' ' + (message.key || ''));
          if (message.__type__ !== 'CommandSystemDonate') return;
          if (label === 'first') {
            setTimeout(() => connect('second'), 500);
            setTimeout(() => port.postMessage({ __type__: 'DonateSuccess', key: message.key, status: 201 }), 1500);
            return;
          }
          await new Promise((resolve) => setTimeout(resolve, 3000));
          const response = await fetch(${JSON.stringify(host.url)} + '/donate', { method: 'POST',
            headers: { 'Content-Type': 'application/json', 'X-Port-Key': message.key }, body: message.json_string });
          port.postMessage({ __type__: 'DonateSuccess', key: message.key, status: response.status });
        });
        port.postMessage({ action: 'live-init', locale: 'en', study: ${JSON.stringify(study)} });
      }
      connect('first');
    </script>` };
    const hostPage = await browser.context.newPage();
    const uiOpened = browser.context.waitForEvent('page', { predicate: (page) => page.url().startsWith(UI_URL), timeout: 30_000 });
    await hostPage.goto(`${server.url}/relive`);
    const ui = await uiOpened;
    await sendOnReview(ui, /Name of the data: \d+-tiny/);
    await ui.locator('main').getByText(/answer PayloadResponse success=True status=200/).waitFor({ timeout: 60_000 });
    const log = await hostPage.locator('#log').innerText();
    assert.match(log, /first CommandSystemDonate \d+-tiny/);
    assert.match(log, /second CommandSystemDonate \d+-tiny/);
    assert.equal((await host.donations()).filter((entry) => /-tiny$/.test(entry.key)).length, 1);
    assert.doesNotMatch(host.output(), /duplicate/);
    assert.doesNotMatch(await ui.locator('main').innerText(), /status=201/);
  } finally {
    await browser.close();
    await server.close();
    await host.close();
  }
});

test('bridges: a donation pending when the browser closes is delivered once after it starts again', { timeout: 150_000 }, async () => {
  const host = await startDevHost({ args: ['--fail-donations', '503:1'] });
  const server = await startStaticServer();
  const profile = tempDir('restart-profile');
  let browser = await launch({ profile });
  try {
    await startHttpStudy(browser, host, server);
    await waitFor(() => /answering 503 on purpose/.test(host.output()), 60_000, 'the first, failed attempt');
    // Close the whole browser before the retry (due 4-5 s after the failure) can run.
    await browser.close();
    const beforeRestart = (await host.donations()).filter((entry) => /-tiny$/.test(entry.key));
    assert.equal(beforeRestart.length, 0, 'the browser closed before the retry');
    browser = await launch({ profile });
    const entries = await waitFor(async () => {
      const entries = (await host.donations()).filter((entry) => /-tiny$/.test(entry.key));
      return entries.length > 0 && entries;
    }, 90_000, 'the delivery after the browser started again');
    await sleep(2000);
    assert.equal((await host.donations()).filter((entry) => /-tiny$/.test(entry.key)).length, 1, 'delivered once');
    assert.equal(entries.length, 1);
    assert.doesNotMatch(host.output(), /duplicate/);
  } finally {
    await browser.close();
    rmSync(profile, { recursive: true, force: true });
    await server.close();
    await host.close();
  }
});
