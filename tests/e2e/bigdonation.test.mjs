// Big donations: 200 MB reach an http host and a host page intact and exactly once, through the
// outbox. `chrome.runtime` messages are capped at 64 MiB, so the body goes through the extension's
// Cache Storage (`port_protocol::donation_body`), and to a host page in parts. A host that refuses
// a donation as too big (413) gets it never again, and the script and the participant are told.
//
// The study builds its donation itself (so the review page comes first) and shows its size and
// SHA-256, which the test compares with what the host stored. Its text has two-byte characters
// throughout, so the host page's parts cut characters in half and must be joined back exactly.
//
// Build first (`port build`), then `node --test tests/e2e/`. Helpers: ./support.mjs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  UI_URL, launch, recordStates, sampleRendererMemory, sendOnReview, sleep, startDevHost, startLinkedStudy, startStaticServer,
  studyConfig, tempDir, waitForState,
} from './support.mjs';

const BIG_BYTES = Number(process.env.PORT_BIG_BYTES ?? 200 * 1000 * 1000);
/// Making 200 MB of JSON in Pyodide and carrying it to the review page takes up to a minute on a
/// loaded 2-core machine; the test waits for it, and bench/browser.mjs times what follows.
const BUILD_TIMEOUT_MS = 240_000;

/// The most memory the renderer of the study's sandbox may take, as a multiple of the donation:
/// the study itself holds its text and, for a moment, the pieces it joins and its UTF-8 for the
/// digest (3 ×); Pyodide's memory never shrinks; the donation crosses to the offscreen document
/// once. Held several times more on its way (escaped into JSON, then as JS strings in the worker,
/// the message and the sandbox page), it took 26 ×.
const MAX_RENDERER_MEMORY_PER_BYTE = 12;

/// Donates `{session}-big`, about `n_bytes` of JSON (a list of strings with "é" in them), then
/// shows the donation's size and SHA-256 and what the donation answered.
function bigScript(nBytes) {
  return `
import hashlib
from port.api.props import PropsUIPromptConfirm, Translatable
from port.helpers import port_helpers as ph

def process(session_id, platform=None):
    piece = "donné " * 170000  # 1 020 000 characters, 1 190 000 bytes of UTF-8
    n_pieces = max(1, ${nBytes} // (len(piece.encode()) + 3))
    payload = "[" + ",".join('"' + piece + '"' for _ in range(n_pieces)) + "]"
    data = payload.encode()
    digest = hashlib.sha256(data).hexdigest()
    size = len(data)
    del data
    result = yield ph.donate(f"{session_id}-big", payload)
    del payload
    value = getattr(result, "value", None)
    text = "donated bytes=%d sha256=%s success=%s status=%s error=%s" % (
        size, digest, getattr(value, "success", None), getattr(value, "status", None), getattr(value, "error", None))
    _ = yield ph.render_page("Donated", [PropsUIPromptConfirm(Translatable({"en": text}), Translatable({"en": "Finish"}), Translatable({"en": "Close"}))])
`;
}

async function waitFor(check, timeout, what) {
  const deadline = Date.now() + timeout;
  while (Date.now() < deadline) {
    const value = await check();
    if (value) return value;
    await sleep(250);
  }
  throw new Error(`timed out waiting for ${what}`);
}

/// What the script's last page says of its donation.
async function donatedSummary(page) {
  const text = await page.locator('main').getByText(/^donated bytes=/).textContent({ timeout: BUILD_TIMEOUT_MS });
  const [, bytes, sha256, success, status] = /bytes=(\d+) sha256=([0-9a-f]{64}) success=(\w+) status=(\w+)/.exec(text);
  return { bytes: Number(bytes), sha256, success, status, text };
}

/// Waits for the host to hold `key` and checks it holds it once, byte for byte what the script made.
async function assertStoredOnce(host, key, summary) {
  const entries = await waitFor(async () => {
    const entries = (await host.donations()).filter((entry) => entry.key === key);
    return entries.length > 0 && entries;
  }, 120_000, `donation ${key} at the host`);
  await sleep(1000);
  const again = (await host.donations()).filter((entry) => entry.key === key);
  assert.equal(again.length, 1, `stored once: ${JSON.stringify(again)}`);
  assert.equal(entries[0].bytes, summary.bytes);
  assert.equal(entries[0].sha256, summary.sha256);
  assert.doesNotMatch(host.output(), /duplicate/);
}

/// The extension's Cache Storage holds no donation body any more.
async function bodiesLeft(page) {
  return page.evaluate(async () => (await (await caches.open('port-donation-bodies')).keys()).map((request) => request.url));
}

test('big donations: 200 MB reach an http host intact, exactly once, through the outbox', { timeout: 480_000 }, async () => {
  assert.ok(BIG_BYTES > 64 * 1024 * 1024, 'past the 64 MiB message cap');
  const host = await startDevHost();
  const server = await startStaticServer();
  const browser = await launch();
  const memory = sampleRendererMemory(browser.profile);
  try {
    const { page, errors } = await startLinkedStudy(browser, server, studyConfig({
      id: 'big-http', script: { source: bigScript(BIG_BYTES) }, donate: { mode: 'http', url: `${host.url}/donate` }, ack_timeout_s: 60,
    }));
    await sendOnReview(page, /Name of the data: \d+-big/, { timeout: BUILD_TIMEOUT_MS });
    const summary = await donatedSummary(page);
    const { peakMiB } = memory.stop();
    assert.ok(peakMiB > 0, 'no renderer of this browser was found in /proc');
    assert.ok(peakMiB * 1024 * 1024 < MAX_RENDERER_MEMORY_PER_BYTE * summary.bytes,
      `a renderer peaked at ${peakMiB.toFixed(0)} MiB for a ${summary.bytes}-byte donation (at most ${MAX_RENDERER_MEMORY_PER_BYTE} ×)`);
    assert.ok(summary.bytes >= BIG_BYTES * 0.99, summary.text);
    assert.equal(summary.success, 'True', summary.text);
    assert.equal(summary.status, '200', summary.text);
    const state = await waitForState(page, (state) => state.deliveries?.some((delivery) => delivery.state === 'delivered'));
    const key = state.deliveries[0].key;
    await assertStoredOnce(host, key, summary);
    assert.deepEqual(await waitFor(async () => (await bodiesLeft(page)).length === 0 && [], 10_000, 'the body removed'), []);
    const outbox = await page.evaluate(() => chrome.storage.local.get(null).then((items) => Object.keys(items).filter((key) => key.startsWith('port.outbox.'))));
    assert.deepEqual(outbox, []);
    assert.deepEqual(errors, []);
  } finally {
    memory.stop();
    await browser.close();
    await server.close();
    await host.close();
  }
});

test('big donations: 200 MB reach a host page intact, in parts over its port, exactly once', { timeout: 480_000 }, async () => {
  const scratch = tempDir('study');
  const file = path.join(scratch, 'study.json');
  writeFileSync(file, JSON.stringify(studyConfig({ id: 'big-host', script: { source: bigScript(BIG_BYTES) }, donate: { mode: 'host-page' }, ack_timeout_s: 60 })));
  const host = await startDevHost({ args: ['--study', file] });
  const browser = await launch();
  try {
    await recordStates(browser.context);
    const hostPage = await browser.context.newPage();
    const uiOpened = browser.context.waitForEvent('page', { predicate: (page) => page.url().startsWith(UI_URL), timeout: 30_000 });
    await hostPage.goto(`${host.url}/study`);
    const ui = await uiOpened;
    await sendOnReview(ui, /Name of the data: \d+-big/, { timeout: BUILD_TIMEOUT_MS });
    const summary = await donatedSummary(ui);
    assert.equal(summary.success, 'True', summary.text);
    assert.equal(summary.status, '200', summary.text);
    const state = await waitForState(ui, (state) => state.deliveries?.some((delivery) => delivery.state === 'delivered'));
    await assertStoredOnce(host, state.deliveries[0].key, summary);
    assert.deepEqual(await waitFor(async () => (await bodiesLeft(ui)).length === 0 && [], 10_000, 'the body removed'), []);
  } finally {
    await browser.close();
    await host.close();
    rmSync(scratch, { recursive: true, force: true });
  }
});

test('big donations: a host that refuses a donation as too big (413) tells the script and the participant, once', { timeout: 180_000 }, async () => {
  const host = await startDevHost({ args: ['--max-donation-bytes', '1000000'] });
  const server = await startStaticServer();
  const browser = await launch();
  try {
    const { page } = await startLinkedStudy(browser, server, studyConfig({
      id: 'too-big', script: { source: bigScript(3_000_000) }, donate: { mode: 'http', url: `${host.url}/donate` }, ack_timeout_s: 30,
    }));
    await sendOnReview(page, /Name of the data: \d+-big/);
    const summary = await donatedSummary(page);
    assert.equal(summary.success, 'False', summary.text);
    assert.equal(summary.status, '413', summary.text);
    assert.match(summary.text, /too big for the host/);
    const state = await waitForState(page, (state) => state.deliveries?.some((delivery) => delivery.state === 'rejected'));
    const key = state.deliveries[0].key;
    await page.locator(`li[data-delivery="${key}"][data-state="rejected"]`).getByText(/too big for the study's host/).waitFor();
    await sleep(2000);
    assert.equal((host.output().match(/answering 413/g) ?? []).length, 1, 'not retried');
    assert.deepEqual(await host.donations(), []);
    assert.deepEqual(await bodiesLeft(page), []);
  } finally {
    await browser.close();
    await server.close();
    await host.close();
  }
});
