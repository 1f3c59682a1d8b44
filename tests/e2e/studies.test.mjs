// Studies in the extension: a study link is fetched, checked, stored and listed; the chosen study
// runs with its script and platform, and its title and version show; a finished session gives way
// to a fresh one; invalid configs show their path-pointing errors; a script whose sha256 does not
// match is refused.
//
// The tiny study donates data it built itself, so the extension's review page comes first; these
// tests press its "Send".
//
// Build first (`port build`), then `node --test tests/e2e/`. Helpers: ./support.mjs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  TINY_SCRIPT, UI_URL, addStudyLink, launch, openUi, sendOnReview, sessionId, startStaticServer, studyConfig, waitForState,
} from './support.mjs';


async function withBrowser(body) {
  const server = await startStaticServer();
  const browser = await launch();
  try {
    await body({ server, browser });
  } finally {
    await browser.close();
    await server.close();
  }
}

test('studies: a study link is added, started with its platform, and a finished session gives way to a fresh one', { timeout: 120_000 }, async () => {
  await withBrowser(async ({ server, browser }) => {
    server.routes['/tiny.json'] = { body: JSON.stringify(studyConfig({ platform: 'TinyPlatform', version: '1.2.3' })) };
    const { page, errors } = await openUi(browser.context);
    await addStudyLink(page, `${server.url}/tiny.json`);
    await page.getByText('The study tiny was added.').waitFor({ timeout: 30_000 });
    const list = page.getByRole('region', { name: 'Studies on this device' });
    await list.getByText('Tiny study (version 1.2.3)').waitFor();
    // The embedded demo is listed and cannot be removed; the linked study can be updated and removed.
    await list.getByText('Demo study (version 1.0.0)').waitFor();
    assert.equal(await list.locator('li[data-study="demo"]').getByRole('button', { name: /Remove/ }).count(), 0);
    assert.equal(await list.locator('li[data-study="tiny"]').getByRole('button', { name: /Remove/ }).count(), 1);

    await list.getByRole('button', { name: 'Start the study Tiny study' }).click();
    const shown = await waitForState(page, (state) => state.page?.header?.title != null || JSON.stringify(state.page ?? {}).includes('platform=TinyPlatform'), 60_000);
    assert.ok(shown);
    await sendOnReview(page, /Name of the data: \d+-tiny/);
    await page.locator('main').getByText(/platform=TinyPlatform/).waitFor({ timeout: 60_000 });
    await page.locator('#bar').getByText('Tiny study (version 1.2.3)').waitFor();
    const first = await sessionId(page);
    await page.getByRole('button', { name: 'Finish' }).click();
    await waitForState(page, (state) => state.status.state === 'finished', 30_000);

    // Opening the UI again starts a fresh session of the same study instead of the finished one.
    const again = await openUi(browser.context);
    await sendOnReview(again.page, /Name of the data: \d+-tiny/);
    await again.page.locator('main').getByText(/platform=TinyPlatform/).waitFor({ timeout: 60_000 });
    const second = await sessionId(again.page);
    assert.notEqual(second, first, 'a fresh session');

    // Update re-fetches the link; remove takes the study off the list.
    server.routes['/tiny.json'] = { body: JSON.stringify(studyConfig({ platform: 'TinyPlatform', version: '1.2.4' })) };
    await again.page.getByRole('button', { name: 'Studies', exact: true }).click();
    const list2 = again.page.getByRole('region', { name: 'Studies on this device' });
    await list2.getByRole('button', { name: 'Update Tiny study' }).click();
    await list2.getByText('Tiny study (version 1.2.4)').waitFor({ timeout: 30_000 });
    await list2.getByRole('button', { name: 'Remove Tiny study' }).click();
    await list2.locator('li[data-study="tiny"]').waitFor({ state: 'detached', timeout: 30_000 });
    assert.deepEqual(errors, []);
  });
});

test('studies: an invalid study link shows every path-pointing error', { timeout: 60_000 }, async () => {
  await withBrowser(async ({ server, browser }) => {
    const invalid = studyConfig({ version: '', donate: { mode: 'carrier-pigeon' }, locales: ['en', 'EN!'] });
    server.routes['/bad.json'] = { body: JSON.stringify(invalid) };
    const { page } = await openUi(browser.context);
    await addStudyLink(page, `${server.url}/bad.json`);
    const alert = page.getByRole('alert').filter({ hasText: 'This study config cannot be used' });
    await alert.waitFor({ timeout: 30_000 });
    const text = await alert.innerText();
    assert.match(text, /version: must not be empty/);
    assert.match(text, /donate\.mode: /);
    assert.match(text, /locales\[1\]: /);
    // Nothing was stored.
    assert.equal(await page.locator('li[data-study="tiny"]').count(), 0);
  });
});

test('studies: a script URL whose sha256 does not match is refused', { timeout: 90_000 }, async () => {
  await withBrowser(async ({ server, browser }) => {
    server.routes['/study.py'] = { body: TINY_SCRIPT, type: 'text/x-python' };
    const wrong = createHash('sha256').update('another script').digest('hex');
    server.routes['/hashed.json'] = {
      body: JSON.stringify(studyConfig({ id: 'hashed', script: { url: `${server.url}/study.py`, sha256: wrong } })),
    };
    const { page } = await openUi(browser.context);
    await addStudyLink(page, `${server.url}/hashed.json`);
    await page.getByText('The study hashed was added.').waitFor({ timeout: 30_000 });
    await page.getByRole('button', { name: 'Start the study Tiny study' }).click();
    const crashed = await waitForState(page, (state) => state.status.state === 'crashed', 60_000);
    assert.match(JSON.stringify(crashed.page), /script\.sha256/);
    await page.locator('main').getByText(/script\.sha256/).first().waitFor();
    assert.ok(server.requests.includes('/study.py'), 'the script was fetched');
  });
});

test('studies: the right hash runs the fetched script', { timeout: 90_000 }, async () => {
  await withBrowser(async ({ server, browser }) => {
    server.routes['/study.py'] = { body: TINY_SCRIPT, type: 'text/x-python' };
    const right = createHash('sha256').update(TINY_SCRIPT).digest('hex');
    server.routes['/hashed.json'] = {
      body: JSON.stringify(studyConfig({ id: 'hashed', platform: 'Fetched', script: { url: `${server.url}/study.py`, sha256: right } })),
    };
    const { page } = await openUi(browser.context);
    await addStudyLink(page, `${server.url}/hashed.json`);
    await page.getByText('The study hashed was added.').waitFor({ timeout: 30_000 });
    await page.getByRole('button', { name: 'Start the study Tiny study' }).click();
    await sendOnReview(page, /Name of the data: \d+-tiny/);
    await page.locator('main').getByText(/platform=Fetched/).waitFor({ timeout: 60_000 });
    assert.ok(UI_URL);
  });
});
