// Views are disposable: what a participant did on a page survives a closed tab (the session keeps
// the page's draft, chosen files included), the session's locale follows the first view's browser,
// the study label waits for the config, the script gets a numeric session id, and the local
// bridge's donations can be downloaded from the finished screen. Real extension, real session.
//
// Build first (`port build`), then `node --test tests/e2e/views.test.mjs`. Helpers: ./support.mjs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import {
  EXTENSION_ID, demoDonateAndFinish, demoRadio, demoToConsent, donationBodyText, extensionDir, fixtureExtension,
  generateDdp, launch, openUi, sessionId, setBridge, startDevHost, tempDir, waitForState,
} from './support.mjs';

/// One browser (optionally with a browser locale) and, unless `bridge` is false, a dev host.
async function withBrowser({ bridge = true, locale, extension } = {}, body) {
  const host = bridge ? await startDevHost() : null;
  const browser = locale ? await launchWithLocale(locale, extension) : await launch({ extension });
  const scratch = tempDir('ddp');
  try {
    if (host) await setBridge(browser.context, host.url);
    await body({ host, browser, ddp: generateDdp(scratch) });
  } finally {
    await browser.close();
    await host?.close();
    rmSync(scratch, { recursive: true, force: true });
  }
}

/// `launch` of support.mjs with Playwright's `locale` on the persistent context, so that the
/// extension's pages see `navigator.language` as that locale.
async function launchWithLocale(locale, extension = extensionDir) {
  const profile = tempDir('profile');
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    locale,
    args: [
      `--disable-extensions-except=${extension}`, `--load-extension=${extension}`,
      '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
  });
  const worker = context.serviceWorkers()[0] ?? await context.waitForEvent('serviceworker');
  assert.equal(new URL(worker.url()).host, EXTENSION_ID);
  return {
    context,
    worker,
    swConsole: [],
    async close() {
      await context.close().catch(() => {});
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/// Waits until the session kept a draft for its current page that `predicate` accepts.
async function waitForDraft(page, predicate) {
  // The draft is kept by the session and sent with the state that answers an attach.
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    await page.evaluate(() => new BroadcastChannel('port-session').postMessage({ type: 'attach' }));
    const states = await page.evaluate(() => window.portStates);
    if (states.some((state) => state.draft && predicate(state.draft))) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error('the session kept no matching draft');
}

test('views: a file chosen in a tab closed before Continue is still chosen in a new tab', { timeout: 120_000 }, async () => {
  await withBrowser({}, async ({ browser, ddp }) => {
    let { page } = await openUi(browser.context);
    const chooser = page.getByLabel('Choose a file');
    await chooser.waitFor({ timeout: 60_000 });
    await chooser.setInputFiles(ddp);
    await page.getByText('Chosen: ddp.zip').waitFor();
    await waitForDraft(page, (draft) => draft.files?.['0']?.[0]?.name === 'ddp.zip');
    const session = await sessionId(page);
    await page.close();

    const reopened = await openUi(browser.context);
    page = reopened.page;
    await page.getByText('Chosen: ddp.zip').waitFor({ timeout: 15_000 });
    assert.equal(await sessionId(page), session, 'the same session');
    const continueButton = page.getByRole('button', { name: 'Continue' });
    assert.equal(await continueButton.isDisabled(), false);
    await continueButton.click();
    // The file reached the script: it read the zip and asks what to review.
    await page.getByRole('radio').first().waitFor({ timeout: 30_000 });
    assert.equal(await page.locator('main h1').first().innerText(), 'What would you like to review?');
    assert.deepEqual(reopened.errors, []);
  });
});

test('views: a row deleted in a closed tab stays deleted in a new tab and is not donated', { timeout: 120_000 }, async () => {
  await withBrowser({}, async ({ host, browser, ddp }) => {
    let { page } = await openUi(browser.context);
    await demoToConsent(page, ddp);
    const session = await sessionId(page);
    let table = page.getByRole('region', { name: 'Watch history' });
    await table.getByText('0 deleted').waitFor();
    const nRows = Number(/of (\d+)/.exec(await table.getByText(/^Rows 1–\d+ of \d+$/).innerText())[1]);
    const row = table.locator('tbody tr').first();
    const cells = (await row.locator('td').allInnerTexts()).slice(1).map((text) => text.trim());
    const headers = (await table.locator('thead th').allInnerTexts()).slice(1).map((text) => text.trim());
    const deleted = Object.fromEntries(headers.map((header, idx) => [header, cells[idx]]));
    await row.getByRole('checkbox').check();
    await table.getByRole('button', { name: 'Delete selected (1)' }).click();
    await table.getByText('1 deleted').waitFor();
    await waitForDraft(page, (draft) => Object.values(draft.tables ?? {}).some((t) => t.deleted?.flat().length === 1));
    await page.close();

    const reopened = await openUi(browser.context);
    page = reopened.page;
    table = page.getByRole('region', { name: 'Watch history' });
    await table.getByText('1 deleted').waitFor({ timeout: 15_000 });
    await table.getByText(`of ${nRows - 1}`, { exact: false }).waitFor();
    await demoDonateAndFinish(page);

    const donated = JSON.parse(await host.waitFor(session, `${session}-demo`));
    const watch = donated.find((entry) => 'demo_watch_history' in entry);
    assert.equal(watch['deleted row count'], '1');
    assert.equal(watch.demo_watch_history.length, nRows - 1);
    const isDeleted = (entry) => entry.Title === deleted.Title && entry['Watched at'] === deleted['Watched at'];
    assert.ok(!watch.demo_watch_history.some(isDeleted), `the deleted row ${JSON.stringify(deleted)} is not donated`);
    assert.deepEqual(reopened.errors, []);
  });
});

test('views: a Dutch browser runs the demo in Dutch', { timeout: 120_000 }, async () => {
  await withBrowser({ locale: 'nl-NL' }, async ({ browser }) => {
    const { page, errors } = await openUi(browser.context);
    assert.equal(await page.evaluate(() => navigator.language), 'nl-NL');
    await page.getByRole('heading', { name: 'Selecteer uw Demo platform bestand' }).waitFor({ timeout: 60_000 });
    const state = await waitForState(page, (state) => state.page && state.status.state === 'awaiting-participant');
    assert.equal(state.locale, 'nl', 'the first view set the session locale');
    await page.getByLabel('Taal').waitFor();
    assert.deepEqual(errors, []);
  });
});

test('views: the study label waits for the config, never showing the extension version', { timeout: 120_000 }, async () => {
  await withBrowser({ bridge: false }, async ({ browser }) => {
    const { page } = await openUi(browser.context);
    await waitForState(page, (state) => state.study, 60_000);
    const manifest = JSON.parse(readFileSync(path.join(extensionDir, 'manifest.json'), 'utf8'));
    const config = JSON.parse(readFileSync(path.join(extensionDir, 'studies', 'demo', 'study.json'), 'utf8'));
    assert.notEqual(config.version, manifest.version, 'the test tells the two versions apart');
    const states = await page.evaluate(() => window.portStates);
    const labels = states.filter((state) => state.study).map((state) => state.study);
    assert.ok(labels.length > 0);
    for (const label of labels) assert.deepEqual(label, { title: config.title.translations.en, version: config.version });
  });
});

test('views: the script gets a numeric session id, as in feldspar', { timeout: 120_000 }, async () => {
  const fixture = fixtureExtension(`
from port.api.props import PropsUIPromptConfirm, Translatable
from port.helpers import port_helpers as ph

def process(session_id, platform=None):
    text = "session id type %s" % type(session_id).__name__
    _ = yield ph.render_page(Translatable({"en": text}), [PropsUIPromptConfirm(Translatable({"en": text}), Translatable({"en": "Finish"}), Translatable({"en": "Close"}))])
`);
  try {
    await withBrowser({ bridge: false, extension: fixture.dir }, async ({ browser }) => {
      const { page } = await openUi(browser.context);
      await page.getByRole('heading', { name: 'session id type int' }).waitFor({ timeout: 60_000 });
    });
  } finally {
    fixture.cleanup();
  }
});

test('views: the finished screen lists the local donation and downloads its JSON verbatim', { timeout: 120_000 }, async () => {
  // dist/extension as built: dev-bridge.json is null, so donations stay in chrome.storage.local.
  await withBrowser({ bridge: false }, async ({ browser, ddp }) => {
    const { page, errors } = await openUi(browser.context);
    await demoToConsent(page, ddp);
    const session = await sessionId(page);
    await demoDonateAndFinish(page);
    const key = `${session}-demo`;
    const stored = await page.evaluate((key) => chrome.storage.local.get(key).then((items) => items[key]),
      `port.donation.${session}.${key}`);
    assert.ok(stored?.body, 'the local bridge stored the donation');
    const donatedText = await donationBodyText(page, session, key, stored.body);

    const list = page.getByRole('region', { name: 'Donations kept on this device' }).first();
    const link = list.getByRole('link', { name: `Download ${key}.json` });
    await link.waitFor({ timeout: 15_000 });
    const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
    assert.equal(download.suggestedFilename(), `${key}.json`);
    const file = await download.path();
    assert.ok(file && existsSync(file));
    assert.equal(readFileSync(file, 'utf8'), donatedText, 'the download is the donated JSON, verbatim');
    assert.deepEqual(errors, []);
  });
});
