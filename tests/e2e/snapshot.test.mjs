// Runtime snapshots. The build ships one (`port build` makes it under Node), so the very first
// session on a profile boots from it and nothing is made; the worker reads it from the extension's
// files itself. Without it (a build that has none, or a damaged one Pyodide refuses), a worker of its own (the maker, which never loads a study) makes one during the
// first session and the extension keeps it; after a browser restart the session boots from it and
// the demo runs to its end; a damaged or refused stored snapshot falls back to a normal boot and is
// replaced; a study can neither see another session's state nor plant a snapshot.
//
// The store is the extension origin's Cache Storage ("port-runtime-snapshots"), read and written
// here from an extension page, as any damage would come to it.
//
// Build first (`port build`), then `node --test tests/e2e/snapshot.test.mjs`. Helpers: ./support.mjs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import {
  EXTENSION_ORIGIN, demoDonateAndFinish, demoToConsent, extensionDir, fixtureExtension, generateDdp, launch, openUi, sleep, tempDir,
  waitForState,
} from './support.mjs';

const SNAPSHOT_KEY = JSON.parse(readFileSync(path.join(extensionDir, 'build.json'), 'utf8')).snapshot_key;

/// The store's entries from an extension page: `[{url, digest, size}]`.
async function storedSnapshots(context) {
  const page = await context.newPage();
  await page.goto(`${EXTENSION_ORIGIN}/manifest.json`);
  const entries = await page.evaluate(async () => {
    const cache = await caches.open('port-runtime-snapshots');
    const found = [];
    for (const request of await cache.keys()) {
      const response = await cache.match(request);
      found.push({ url: request.url, digest: response.headers.get('x-port-sha256'), size: (await response.arrayBuffer()).byteLength });
    }
    return found;
  });
  await page.close();
  return entries;
}

/// Waits until the store holds this build's snapshot, and nothing else (it is written while the
/// study loads). A snapshot holds Pyodide's memory: tens of megabytes, not a test's few bytes.
async function waitForSnapshot(context, timeout = 30_000) {
  const deadline = Date.now() + timeout;
  let entries = [];
  while (Date.now() < deadline) {
    entries = await storedSnapshots(context);
    if (entries.length === 1 && entries[0].url.endsWith(`/${SNAPSHOT_KEY}`) && entries[0].size > 10_000_000) return entries[0];
    await sleep(200);
  }
  throw new Error(`no snapshot stored under ${SNAPSHOT_KEY}: ${JSON.stringify(entries)}`);
}

/// Replaces the stored snapshot's bytes; `digest` is the header stored with them.
async function overwriteSnapshot(context, { bytes, digest }) {
  const page = await context.newPage();
  await page.goto(`${EXTENSION_ORIGIN}/manifest.json`);
  await page.evaluate(async ({ key, bytes, digest }) => {
    const body = new Uint8Array(bytes);
    const hex = digest ?? [...new Uint8Array(await crypto.subtle.digest('SHA-256', body))].map((b) => b.toString(16).padStart(2, '0')).join('');
    const cache = await caches.open('port-runtime-snapshots');
    await cache.put(`https://runtime-snapshot.invalid/${key}`, new Response(body, { headers: { 'x-port-sha256': hex } }));
  }, { key: SNAPSHOT_KEY, bytes, digest });
  await page.close();
}

/// Closes every view and the offscreen document, so the next view boots a new session.
async function endSession(browser) {
  for (const page of browser.context.pages()) {
    if (page.url().startsWith(`${EXTENSION_ORIGIN}/ui.html`)) await page.close();
  }
  const worker = browser.context.serviceWorkers()[0] ?? await browser.context.waitForEvent('serviceworker');
  await worker.evaluate(async () => {
    const contexts = await chrome.runtime.getContexts({ contextTypes: ['OFFSCREEN_DOCUMENT'] });
    if (contexts.length > 0) await chrome.offscreen.closeDocument();
  });
}

/// Opens the UI and returns the boot steps its session went through, once the first page shows.
async function bootSteps(context) {
  const { page, errors } = await openUi(context);
  await page.getByLabel('Choose a file').waitFor({ timeout: 60_000 });
  const states = await page.evaluate(() => window.portStates);
  const steps = [...new Set(states.filter((state) => state.status.state === 'booting').map((state) => state.status.step))];
  return { page, errors, steps };
}

test('snapshot: the first boot on a fresh profile starts from the one the build ships; nothing is made', { timeout: 180_000 }, async () => {
  const dir = tempDir('snapshot');
  const browser = await launch();
  try {
    const first = await bootSteps(browser.context);
    assert.ok(first.steps.includes('snapshot') && !first.steps.includes('pyodide'), `a fresh profile boots from the bundled snapshot: ${first.steps}`);
    await demoToConsent(first.page, generateDdp(dir));
    await demoDonateAndFinish(first.page);
    assert.deepEqual(first.errors, []);
    assert.deepEqual(await storedSnapshots(browser.context), [], 'no maker ran, so nothing is stored');
  } finally {
    await browser.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('snapshot: a damaged bundled snapshot is refused; the boot goes on without it and the maker makes one', { timeout: 180_000 }, async () => {
  const fixture = fixtureExtension(null, { bundledSnapshot: Buffer.alloc(4096, 7) });
  const browser = await launch({ extension: fixture.dir });
  try {
    const first = await bootSteps(browser.context);
    assert.deepEqual(first.steps.filter((step) => step === 'snapshot' || step === 'pyodide'), ['snapshot', 'pyodide'],
      `a damaged bundled snapshot falls back to a normal boot: ${first.steps}`);
    assert.ok((await waitForSnapshot(browser.context)).size > 10_000_000);
    assert.deepEqual(first.errors, []);
  } finally {
    await browser.close();
    fixture.cleanup();
  }
});

test('snapshot: without one in the build, made on the first boot, used after a restart, the demo runs on it', { timeout: 180_000 }, async () => {
  assert.ok(SNAPSHOT_KEY, 'build.json names a snapshot key');
  const profile = tempDir('snapshot-profile');
  const dir = tempDir('snapshot');
  const fixture = fixtureExtension(null, { bundledSnapshot: null });
  let browser;
  try {
    browser = await launch({ extension: fixture.dir, profile });
    const first = await bootSteps(browser.context);
    assert.ok(first.steps.includes('pyodide') && !first.steps.includes('snapshot'), `a fresh profile boots afresh: ${first.steps}`);
    const stored = await waitForSnapshot(browser.context);
    await browser.close();

    browser = await launch({ extension: fixture.dir, profile });
    const second = await bootSteps(browser.context);
    assert.ok(second.steps.includes('snapshot') && !second.steps.includes('pyodide'), `after a restart it boots from the snapshot: ${second.steps}`);
    await demoToConsent(second.page, generateDdp(dir));
    await demoDonateAndFinish(second.page);
    assert.deepEqual(second.errors, []);
    // One snapshot per build: the store still holds exactly this one.
    assert.equal((await waitForSnapshot(browser.context)).digest, stored.digest);
  } finally {
    await browser?.close();
    fixture.cleanup();
    rmSync(profile, { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true });
  }
});

test('snapshot: a damaged or refused stored snapshot falls back to a normal boot and is replaced', { timeout: 180_000 }, async () => {
  const profile = tempDir('snapshot-profile');
  const fixture = fixtureExtension(null, { bundledSnapshot: null });
  let browser;
  try {
    browser = await launch({ extension: fixture.dir, profile });
    await bootSteps(browser.context);
    const good = await waitForSnapshot(browser.context);

    // Damaged: the bytes no longer match the digest stored with them.
    await endSession(browser);
    await overwriteSnapshot(browser.context, { bytes: Array.from({ length: 4096 }, (_, i) => i % 251), digest: good.digest });
    const damaged = await bootSteps(browser.context);
    assert.ok(damaged.steps.includes('pyodide') && !damaged.steps.includes('snapshot'), `a damaged snapshot is not loaded: ${damaged.steps}`);
    await waitForSnapshot(browser.context);

    // Refused: whole by its digest, but not a snapshot Pyodide can load.
    await endSession(browser);
    await overwriteSnapshot(browser.context, { bytes: Array.from({ length: 4096 }, () => 7) });
    const refused = await bootSteps(browser.context);
    assert.deepEqual(refused.steps.filter((step) => step === 'snapshot' || step === 'pyodide'), ['snapshot', 'pyodide'],
      `a refused snapshot falls back to a normal boot: ${refused.steps}`);
    await waitForSnapshot(browser.context);
    const finished = await waitForState(refused.page, (state) => state.status.state === 'awaiting-participant', 10_000);
    assert.ok(finished.page, 'the study shows its page after the fallback');
    assert.deepEqual(refused.errors, []);
  } finally {
    await browser?.close();
    fixture.cleanup();
    rmSync(profile, { recursive: true, force: true });
  }
});

// Draws a number, reports whether an earlier session's state survived, plants some state, and
// tries to hand the extension a snapshot of its own.
const PLANTING_STUDY = `
import builtins, random
import js
from pyodide.ffi import to_js
from port.api.props import PropsUIHeader, PropsUIPageDataSubmission, PropsUIPromptConfirm, Translatable
from port.api.commands import CommandUIRender

def t(text):
    return Translatable({"en": text, "nl": text})

def process(session_id, platform=None):
    inherited = hasattr(builtins, "PLANTED_BY_A_STUDY")
    builtins.PLANTED_BY_A_STUDY = True
    forged = to_js({"eventType": "snapshotMade", "key": ${JSON.stringify(SNAPSHOT_KEY)}}, dict_converter=js.Object.fromEntries)
    forged.snapshotBytes = js.Uint8Array.new(4096)
    js.postMessage(forged)
    draw = random.random()
    yield CommandUIRender(PropsUIPageDataSubmission("x", PropsUIHeader(t(f"draw {draw} inherited {inherited}")),
        [PropsUIPromptConfirm(t("Done?"), t("Yes"), t("No"))]))
`;

for (const bundled of [true, false]) {
  const boot = bundled ? 'booted from the bundled snapshot' : 'booted from the one the maker made';
  test(`snapshot: each study starts clean, draws its own random numbers, and cannot plant a snapshot (${boot})`, { timeout: 180_000 }, async () => {
    const profile = tempDir('snapshot-profile');
    const fixture = fixtureExtension(PLANTING_STUDY, bundled ? {} : { bundledSnapshot: null });
    let browser;
    try {
      browser = await launch({ extension: fixture.dir, profile });
      const headings = [];
      for (let run = 0; run < 3; run += 1) {
        if (run > 0) await endSession(browser);
        const { page } = await openUi(browser.context);
        const heading = page.getByRole('heading', { name: /^draw / });
        await heading.waitFor({ timeout: 60_000 });
        headings.push(await heading.innerText());
        if (run === 0 && !bundled) await waitForSnapshot(browser.context);
      }
      assert.ok(headings.every((heading) => heading.endsWith('inherited False')), `no session sees another's state: ${headings}`);
      const draws = headings.map((heading) => heading.split(' ')[1]);
      assert.equal(new Set(draws).size, draws.length, `every session draws its own numbers: ${draws}`);
      // The forged snapshots were ignored: the store holds the maker's own, or nothing at all.
      if (bundled) {
        await sleep(1000);
        assert.deepEqual(await storedSnapshots(browser.context), []);
      } else {
        assert.ok((await waitForSnapshot(browser.context)).size > 10_000_000);
      }
    } finally {
      await browser?.close();
      fixture.cleanup();
      rmSync(profile, { recursive: true, force: true });
    }
  });
}
