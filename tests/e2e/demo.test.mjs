// The demo study end to end through the real UI (ui.html as a tab) to the real `port host`, in
// headless Chromium: a deleted row stays on the device, a closed tab finds its page again, nothing
// goes to the network, and the service worker's console stays clean.
//
// Build first (`port build`), then `node --test tests/e2e/`. Helpers: ./support.mjs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  EXTENSION_ORIGIN, demoDonateAndFinish, demoRadio, demoToConsent, generateDdp, launch, openUi, proxiedHost,
  readNetLog, sessionId, setBridge, startDevHost, startRecordingProxy, tempDir,
} from './support.mjs';
import { rmSync } from 'node:fs';
import path from 'node:path';

/// One browser and one dev host for a test; everything is torn down afterwards.
async function withDemo({ proxyPort, netLog, bridge = true } = {}, body) {
  const host = await startDevHost();
  const browser = await launch({ proxyPort, netLog });
  const scratch = tempDir('ddp');
  try {
    const requests = [];
    browser.context.on('request', (request) => requests.push(request.url()));
    if (bridge) await setBridge(browser.context, host.url);
    await body({ host, browser, requests, ddp: generateDdp(scratch) });
  } finally {
    await browser.close();
    await host.close();
    rmSync(scratch, { recursive: true, force: true });
  }
}

/// Deletes the first row of the "Watch history" table; returns its cell texts.
async function deleteOneWatchRow(page) {
  const table = page.getByRole('region', { name: 'Watch history' });
  await table.getByText('0 deleted').waitFor();
  const row = table.locator('tbody tr').first();
  const cells = (await row.locator('td').allInnerTexts()).slice(1).map((text) => text.trim());
  const headers = (await table.locator('thead th').allInnerTexts()).slice(1).map((text) => text.trim());
  await row.getByRole('checkbox').check();
  await table.getByRole('button', { name: 'Delete selected (1)' }).click();
  await table.getByText('1 deleted').waitFor();
  return Object.fromEntries(headers.map((header, idx) => [header, cells[idx]]));
}

test('demo: the real UI donates the consent form without the deleted row to port host', { timeout: 120_000 }, async () => {
  await withDemo({}, async ({ host, browser, ddp }) => {
    const { page, errors } = await openUi(browser.context);
    await demoToConsent(page, ddp);
    const session = await sessionId(page);
    const watchRows = await page.getByRole('region', { name: 'Watch history' }).getByText(/^Rows 1–\d+ of \d+$/).innerText();
    const nWatchRows = Number(/of (\d+)/.exec(watchRows)[1]);
    const deleted = await deleteOneWatchRow(page);
    assert.ok(deleted.Title && deleted['Watched at'], `a row with a title and a time: ${JSON.stringify(deleted)}`);
    await demoDonateAndFinish(page);

    const donated = JSON.parse(await host.waitFor(session, `${session}-demo`));
    assert.ok(Array.isArray(donated), 'the donation is a JSON array of tables');
    const watch = donated.find((table) => 'demo_watch_history' in table);
    assert.ok(watch, `the watch history is donated: ${Object.keys(donated[0] ?? {})}`);
    assert.equal(watch['deleted row count'], '1');
    assert.equal(watch.demo_watch_history.length, nWatchRows - 1);
    const isDeleted = (row) => row.Title === deleted.Title && row['Watched at'] === deleted['Watched at'];
    for (const table of donated) {
      for (const rows of Object.values(table).filter(Array.isArray)) {
        assert.ok(!rows.some(isDeleted), `the deleted row ${JSON.stringify(deleted)} is not donated`);
      }
    }
    for (const table of donated.filter((table) => table !== watch)) assert.equal(table['deleted row count'], '0');
    // The listing agrees with the file, and the questionnaire came too.
    const keys = (await host.donations()).map((entry) => entry.key ?? entry);
    assert.ok(JSON.stringify(keys).includes(`${session}-demo`), `GET /donations lists it: ${JSON.stringify(keys)}`);
    assert.ok(host.read(session, `${session}-demo-questionnaire`) != null, 'the questionnaire is donated');
    assert.deepEqual(errors, []);
  });
});

test('demo: closing the UI tab mid-flow, a new tab shows the same page and finishes', { timeout: 120_000 }, async () => {
  await withDemo({}, async ({ host, browser, ddp }) => {
    let { page } = await openUi(browser.context);
    const chooser = page.getByLabel('Choose a file');
    await chooser.waitFor({ timeout: 60_000 });
    await chooser.setInputFiles(ddp);
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByRole('radio').first().waitFor({ timeout: 30_000 });
    const radioTitle = await page.locator('main h1').first().innerText();
    assert.equal(radioTitle, 'What would you like to review?');
    const session = await sessionId(page);
    await page.close();

    // The radio page comes back in a new tab, and the flow goes on to the consent form.
    ({ page } = await openUi(browser.context));
    await page.getByRole('radio').first().waitFor({ timeout: 15_000 });
    assert.equal(await page.locator('main h1').first().innerText(), radioTitle);
    await page.getByText('Choose what to review').waitFor();
    assert.equal(await sessionId(page), session, 'the same session');
    await demoRadio(page);
    await page.close();

    // Closed again on the consent form: the new tab shows that form, and donating works from there.
    const reopened = await openUi(browser.context);
    page = reopened.page;
    await page.getByRole('heading', { name: 'Your Demo platform data' }).waitFor({ timeout: 15_000 });
    await page.getByRole('region', { name: 'Watch history' }).waitFor();
    await demoDonateAndFinish(page);
    const donated = JSON.parse(await host.waitFor(session, `${session}-demo`));
    assert.ok(Array.isArray(donated) && donated.length >= 1);
    assert.deepEqual(reopened.errors, []);
  });
});

test('demo: no request from any extension context leaves chrome-extension:// or 127.0.0.1', { timeout: 120_000 }, async () => {
  // Two witnesses: a proxy that every non-loopback request must pass, and Chromium's NetLog, which
  // says who made each request. The browser's own services (the component updater) also call out
  // through the proxy; only the NetLog can tell them from the extension's contexts.
  const proxy = await startRecordingProxy();
  const scratch = tempDir('netlog');
  const netLog = path.join(scratch, 'netlog.json');
  const isLocal = (url) => {
    const { protocol, hostname } = new URL(url);
    return protocol === 'chrome-extension:' || hostname === '127.0.0.1';
  };
  try {
    await withDemo({ proxyPort: proxy.port, netLog }, async ({ host, browser, requests, ddp }) => {
      // The witnesses work: a request to the outside from an extension page reaches the proxy and
      // is refused.
      const probe = await browser.context.newPage();
      await probe.goto(`${EXTENSION_ORIGIN}/manifest.json`);
      const outcome = await probe.evaluate(() => fetch('http://port-e2e.invalid/probe').then((r) => r.status, (e) => String(e)));
      assert.notEqual(outcome, 200);
      assert.ok(proxy.records.some((record) => record.url === 'http://port-e2e.invalid/probe'), 'the proxy sees outside requests');
      await probe.close();

      const { page } = await openUi(browser.context);
      await demoToConsent(page, ddp);
      const session = await sessionId(page);
      await demoDonateAndFinish(page);
      await host.waitFor(session, `${session}-demo`);
      assert.ok(requests.some((url) => url.startsWith(`${EXTENSION_ORIGIN}/ui.html`)), 'the page-level log works');
    });
    // The browser is closed, so its NetLog is complete.
    const netRequests = readNetLog(netLog);
    const isProbe = (url) => url === 'http://port-e2e.invalid/probe';
    const probeRequest = netRequests.find((request) => isProbe(request.url));
    assert.ok(probeRequest && !probeRequest.browserOwn && probeRequest.initiator === EXTENSION_ORIGIN,
      `the NetLog names the extension as the probe's initiator: ${JSON.stringify(probeRequest)}`);

    const extensionOutside = netRequests.filter((request) => !request.browserOwn && !isProbe(request.url) && !isLocal(request.url));
    assert.deepEqual(extensionOutside, [], 'no context of the extension (service worker, offscreen, Pyodide worker, UI) called out');
    // Whatever else the proxy saw, the browser itself asked for.
    const browserHosts = new Set(netRequests.filter((request) => request.browserOwn).map((request) => new URL(request.url).hostname));
    const unexplained = proxy.records.filter((record) => !isProbe(record.url) && !browserHosts.has(proxiedHost(record)));
    assert.deepEqual(unexplained, [], 'every other request through the proxy is one of the browser\'s own');
  } finally {
    await proxy.close();
    rmSync(scratch, { recursive: true, force: true });
  }
});

test('demo: the service worker logs no error while the demo runs (default local bridge)', { timeout: 120_000 }, async () => {
  // dist/extension as built: dev-bridge.json is null, so donations stay in chrome.storage.local.
  await withDemo({ bridge: false }, async ({ browser, ddp }) => {
    const { page } = await openUi(browser.context);
    await demoToConsent(page, ddp);
    const session = await sessionId(page);
    await demoDonateAndFinish(page);
    const key = `port.donation.${session}.${session}-demo`;
    const stored = await page.evaluate((key) => chrome.storage.local.get(key).then((items) => items[key]), key);
    assert.ok(stored, `the local bridge stored ${key}`);
    // The exit is the last message the service worker handles; the local bridge logs it.
    const exited = (m) => /study exited with code 0/.test(m.text);
    const deadline = Date.now() + 10_000;
    while (!browser.swConsole.some(exited) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    const swConsole = browser.swConsole;
    const dump = swConsole.map((m) => `${m.type}: ${m.text}`).join('\n');
    assert.ok(swConsole.some(exited), `the collector sees the service worker's console:\n${dump}`);
    assert.deepEqual(swConsole.filter((message) => message.type === 'error'), [], `service worker console:\n${dump}`);
  });
});
