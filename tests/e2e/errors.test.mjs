// Study scripts that fail, in the real extension: a fixture copy of dist/extension whose bundled
// studies/demo/script.py is replaced, donating to the real `port host` through dev-bridge.json.
// The error report is not verbatim what the error page showed (it adds a timestamp), so it goes
// through the extension's review page, whose "Send" these tests press.
//
// Build first (`port build`), then `node --test tests/e2e/`. Helpers: ./support.mjs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  fixtureExtension, launch, openUi, sendOnReview, sessionId, sleep, startDevHost, waitForState,
} from './support.mjs';

const RAISES = `
from port.helpers import port_helpers as ph


def process(session_id, platform=None):
    yield from ph.emit_log("info", "about to fail")
    raise ValueError("boom")
`;

const SYNTAX_ERROR = `
def process(session_id, platform=None):
    yield from (
`;


/// A fixture extension with `script`, one dev host, one browser; all torn down afterwards.
async function withScript(script, body) {
  const host = await startDevHost();
  const fixture = fixtureExtension(script, { devBridgeUrl: host.url });
  const browser = await launch({ extension: fixture.dir });
  try {
    await body({ host, browser });
  } finally {
    await browser.close();
    await host.close();
    fixture.cleanup();
  }
}

/// Opens the UI and waits for the error-consent page of the runtime's error flow.
async function openErrorConsent(context) {
  const { page, errors } = await openUi(context);
  await page.getByRole('heading', { name: 'Something went wrong' }).waitFor({ timeout: 60_000 });
  const main = page.locator('main');
  await main.getByText(/Traceback \(most recent call last\)/).waitFor();
  await main.getByText(/ValueError: boom/).waitFor();
  await page.getByRole('button', { name: 'Report error' }).waitFor();
  await page.getByRole('button', { name: 'Skip' }).waitFor();
  return { page, errors };
}

test('errors: a script that raises shows the traceback; "Report error" donates it', { timeout: 90_000 }, async () => {
  await withScript(RAISES, async ({ host, browser }) => {
    const { page, errors } = await openErrorConsent(browser.context);
    const session = await sessionId(page);
    // Nothing leaves before the participant agrees.
    assert.equal(host.read(session, 'error-report'), null);
    await page.getByRole('button', { name: 'Report error' }).click();
    // The report adds a timestamp to what the page showed, so the extension asks once more, and
    // still nothing has left.
    await page.getByRole('heading', { name: 'A question from the extension, not from the study' }).waitFor({ timeout: 30_000 });
    await sleep(500);
    assert.equal(host.read(session, 'error-report'), null);
    await sendOnReview(page, /Name of the data: error-report/);
    const report = JSON.parse(await host.waitFor(session, 'error-report'));
    assert.match(report.traceback, /Traceback \(most recent call last\)/);
    assert.match(report.traceback, /ValueError: boom/);
    const finished = await waitForState(page, (state) => state.status.state === 'finished', 30_000);
    assert.equal(finished.status.code, 0);
    assert.deepEqual(errors, []);
  });
});

test('errors: a script that raises, "Skip" ends the study and donates nothing', { timeout: 90_000 }, async () => {
  await withScript(RAISES, async ({ host, browser }) => {
    const { page, errors } = await openErrorConsent(browser.context);
    await page.getByRole('button', { name: 'Skip' }).click();
    const finished = await waitForState(page, (state) => state.status.state === 'finished', 30_000);
    assert.equal(finished.status.code, 0);
    // The exit reached the host, and no donation did.
    const deadline = Date.now() + 10_000;
    while (!/^exit /m.test(host.output()) && Date.now() < deadline) await sleep(100);
    assert.match(host.output(), /^exit .*"code":0/m);
    assert.deepEqual(await host.donations(), []);
    // Nor did the traceback by another way (logs, exit info).
    assert.doesNotMatch(host.output() + host.log(), /boom|Traceback/);
    assert.deepEqual(errors, []);
  });
});

test('errors: a study script with a syntax error shows a clear error page, not endless booting', { timeout: 90_000 }, async () => {
  await withScript(SYNTAX_ERROR, async ({ host, browser }) => {
    const { page } = await openUi(browser.context);
    await page.getByRole('heading', { name: 'Something went wrong' }).waitFor({ timeout: 60_000 });
    await page.locator('main').getByText(/SyntaxError/).first().waitFor();
    // It names the file, the line and the problem, and is not buried in JS and wasm frames.
    const text = await page.locator('main').innerText();
    assert.match(text, /script\.py", line 3/);
    assert.match(text, /SyntaxError: '\(' was never closed/);
    assert.doesNotMatch(text, /\.wasm|\.mjs|wasm-function/, 'no JS or wasm stack on the error page');
    const state = await waitForState(page, (state) => state.status.state !== 'booting' && state.page != null);
    assert.equal(state.status.state, 'crashed');
    // It stays there: the session is not booting any more when a view attaches later.
    const later = await openUi(browser.context);
    const attached = await waitForState(later.page, (state) => state.page != null, 10_000);
    assert.equal(attached.status.state, 'crashed');
    await later.page.locator('main').getByText(/SyntaxError/).first().waitFor();
    assert.deepEqual(await host.donations(), []);
  });
});
