// The local bridge (the default): donations stay on the device (a record in chrome.storage.local,
// the body in the extension's Cache Storage), the UI lists them (`list-local-donations`, newest
// first) with their JSON verbatim, a donation over chrome.storage.local's 10 MB default quota is
// kept, and JS errors of the service worker reach the log route by name only.
//
// Build first (`port build`), then `node --test tests/e2e/`. Helpers: ./support.mjs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import {
  demoDonateAndFinish, demoToConsent, donationBodyText, generateDdp, keepDonationBody, launch, openUi, sessionId, setBridge,
  sleep, startDevHost, tempDir,
} from './support.mjs';

const listLocalDonations = (page) =>
  page.evaluate(() => chrome.runtime.sendMessage({ target: 'background', type: 'list-local-donations' }));

test('local: the demo donation is listed for the UI, newest first, with its json_string verbatim', { timeout: 120_000 }, async () => {
  const browser = await launch();
  const scratch = tempDir('ddp');
  try {
    const { page } = await openUi(browser.context);
    await demoToConsent(page, generateDdp(scratch));
    const session = await sessionId(page);
    await demoDonateAndFinish(page);
    const reply = await listLocalDonations(page);
    assert.ok(reply && Array.isArray(reply.donations), `a LocalDonationList: ${JSON.stringify(reply)?.slice(0, 300)}`);
    const keys = reply.donations.map((donation) => donation.key);
    const demo = reply.donations.find((donation) => donation.key === `${session}-demo`);
    assert.ok(demo, `the demo donation is listed: ${JSON.stringify(keys)}`);
    assert.equal(demo.session_id, session);
    // Verbatim: exactly the text the script donated, as the bridge stored it.
    const storageKey = `port.donation.${session}.${session}-demo`;
    const stored = await page.evaluate((key) => chrome.storage.local.get(key).then((items) => items[key]), storageKey);
    assert.deepEqual(demo.body, stored.body);
    const donated = JSON.parse(await donationBodyText(page, session, demo.key, demo.body));
    assert.ok(Array.isArray(donated) && donated.some((table) => 'demo_watch_history' in table));
    // The questionnaire was donated after the data: it comes first.
    const questionnaire = keys.indexOf(`${session}-demo-questionnaire`);
    assert.ok(questionnaire >= 0 && questionnaire < keys.indexOf(`${session}-demo`), JSON.stringify(keys));
  } finally {
    await browser.close();
    rmSync(scratch, { recursive: true, force: true });
  }
});

test('local: a donation larger than 10 MB is kept and listed', { timeout: 60_000 }, async () => {
  const browser = await launch();
  try {
    const { page } = await openUi(browser.context);
    const jsonString = JSON.stringify({ rows: 'x'.repeat(11 * 1024 * 1024) });
    const body = await keepDonationBody(page, '1', '1-big', jsonString);
    const reply = await page.evaluate((body) => chrome.runtime.sendMessage({
      target: 'background', type: 'donate', session_id: '1', donation: { key: '1-big', body },
    }), body);
    assert.equal(reply.success, true, `stored: ${JSON.stringify(reply)}`);
    assert.equal(reply.status, 200);
    const listed = (await listLocalDonations(page)).donations;
    assert.equal(listed[0].key, '1-big');
    assert.equal(listed[0].body.n_bytes, jsonString.length);
    assert.equal(await donationBodyText(page, '1', '1-big', listed[0].body), jsonString);
  } finally {
    await browser.close();
  }
});

test('local: uncaught errors of the service worker reach the log route by name only', { timeout: 60_000 }, async () => {
  const host = await startDevHost();
  const browser = await launch();
  try {
    await setBridge(browser.context, host.url);
    const { page } = await openUi(browser.context);
    await sessionId(page);
    await browser.worker.evaluate(() => {
      setTimeout(() => { throw new TypeError('secret participant jan@example.org'); }, 0);
      Promise.reject(new RangeError('secret participant jan@example.org'));
    });
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline && !/unhandled rejection/.test(host.output())) await sleep(100);
    await sleep(500);
    assert.match(host.output(), /\[error\] background: uncaught error: TypeError\n/);
    assert.match(host.output(), /\[error\] background: unhandled rejection: RangeError\n/);
    assert.doesNotMatch(host.output(), /secret|jan@example/);
  } finally {
    await browser.close();
    await host.close();
  }
});
