// The UI view (crates/ui) in headless Chromium, against a fake session.
//
// The built `ui.html` and its wasm are served from dist/extension on a made-up http origin, so the
// page's BroadcastChannel is private to this test: the real background would start a real session
// on `attach`. The fake session is a second BroadcastChannel in the same page. Outside the extension
// `chrome.*` is absent, so the UI's strings come from the `_locales` catalogs compiled into its wasm.
//
// Build first (`cargo run -p port-builder --example build`), then `node --test tests/e2e/ui.test.mjs`.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const extensionDir = process.env.PORT_E2E_EXTENSION ?? path.join(repo, 'dist', 'extension');
const ORIGIN = 'http://port-ui.test';
const CONTENT_TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.json': 'application/json', '.wasm': 'application/wasm' };

let browser;

before(async () => {
  assert.ok(existsSync(path.join(extensionDir, 'wasm', 'port_ui.js')), `no UI build at ${extensionDir}`);
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});

after(async () => {
  await browser?.close();
});

/// Opens ui.html with a fake session that records every view message in `window.viewMessages`.
async function openView({ locale = 'en-US' } = {}) {
  const context = await browser.newContext({ locale });
  await context.route(`${ORIGIN}/**`, (route) => {
    const relative = decodeURIComponent(new URL(route.request().url()).pathname).replace(/^\/+/, '');
    const file = path.join(extensionDir, relative);
    if (!file.startsWith(extensionDir) || !existsSync(file)) return route.fulfill({ status: 404, body: '' });
    route.fulfill({ status: 200, body: readFileSync(file), contentType: CONTENT_TYPES[path.extname(file)] ?? 'application/octet-stream' });
  });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (error) => errors.push(String(error)));
  page.on('console', (message) => { if (message.type() === 'error') errors.push(message.text()); });
  await page.addInitScript(() => {
    window.viewMessages = [];
    window.session = new BroadcastChannel('port-session');
    window.session.onmessage = (event) => {
      const { files, ...message } = event.data;
      if (files) message.files = files.map((file) => ({ name: file.name, size: file.size, isFile: file instanceof File }));
      window.viewMessages.push(message);
    };
  });
  await page.goto(`${ORIGIN}/ui.html`);
  await waitForMessage(page, (message) => message.type === 'attach');
  return { page, context, errors };
}

async function waitForMessage(page, predicate) {
  const source = predicate.toString();
  const handle = await page.waitForFunction((source) => {
    const predicate = eval(source);
    return window.viewMessages.find(predicate);
  }, source, { timeout: 10_000 });
  return handle.jsonValue();
}

/// Sends a state as the session would. The session's locale is left unset unless `view` sets it
/// (the view then uses its browser's); `files` go beside the serde data, as the draft's files do.
async function sendState(page, view, files) {
  await page.evaluate(({ view, files }) => {
    const message = { type: 'state', ...view };
    if (files) message.files = files.map(({ name, text }) => new File([text], name));
    window.session.postMessage(message);
  }, { view, files });
}

function submission(title, body) {
  return { __type__: 'PropsUIPageDataSubmission', platform: 'test', header: { __type__: 'PropsUIHeader', title }, body };
}

const en = (text) => ({ translations: { en: text, nl: `${text} (nl)` } });

test('ui: status views and study label', async () => {
  const { page, context, errors } = await openView();
  await sendState(page, { page_seq: 0, status: { state: 'booting', step: 'pyodide', step_idx: 2, n_steps: 4 }, study: { title: 'Demo', version: '1.2' } });
  await page.locator('main').getByText('Step 2 of 4: pyodide').waitFor();
  assert.equal(await page.locator('progress').getAttribute('value'), '2');
  await page.getByText('Demo (version 1.2)').waitFor();
  assert.match(await page.locator('#live').textContent(), /Step 2 of 4/);

  await sendState(page, { page_seq: 0, status: { state: 'idle' } });
  await page.getByRole('heading', { name: 'No study is running' }).waitFor();
  await page.getByRole('button', { name: 'Start the demo study' }).waitFor();

  await sendState(page, { page_seq: 5, status: { state: 'finished', code: 0 } });
  await page.getByRole('heading', { name: 'Thank you' }).waitFor();
  assert.deepEqual(errors, []);
  await context.close();
});

test('ui: confirm answers once, cancel gives PayloadFalse', async () => {
  const { page, context, errors } = await openView();
  const confirm = { __type__: 'PropsUIPromptConfirm', text: en('Go on?'), ok: en('Yes'), cancel: en('No thanks') };
  await sendState(page, { page_seq: 7, status: { state: 'awaiting-participant' }, page: submission(en('Check'), [confirm]) });
  await page.getByRole('heading', { name: 'Check' }).waitFor();
  await page.getByRole('button', { name: 'No thanks' }).click();
  const answer = await waitForMessage(page, (message) => message.type === 'answer');
  assert.deepEqual(answer, { type: 'answer', page_seq: 7, payload: { __type__: 'PayloadFalse', value: false } });
  assert.equal(await page.getByRole('button', { name: 'Yes' }).isDisabled(), true);
  assert.equal(await page.evaluate(() => window.viewMessages.filter((message) => message.type === 'answer').length), 1);

  // Working keeps the page, disabled.
  await sendState(page, { page_seq: 7, status: { state: 'working' }, page: submission(en('Check'), [confirm]) });
  await page.getByRole('status').getByText('Working, please wait').waitFor();
  assert.equal(await page.getByRole('button', { name: 'Yes' }).isDisabled(), true);
  assert.deepEqual(errors, []);
  await context.close();
});

test('ui: file input sends the File beside a PayloadFile', async () => {
  const { page, context, errors } = await openView();
  const input = { __type__: 'PropsUIPromptFileInput', description: en('Pick your export'), extensions: 'application/zip' };
  await sendState(page, { page_seq: 2, status: { state: 'awaiting-participant' }, page: submission(en('Upload'), [input]) });
  const chooser = page.getByLabel('Choose a file');
  assert.equal(await chooser.getAttribute('accept'), 'application/zip');
  assert.equal(await page.getByRole('button', { name: 'Continue' }).isDisabled(), true);
  await chooser.setInputFiles({ name: 'ddp.zip', mimeType: 'application/zip', buffer: Buffer.from('hello') });
  await page.getByRole('button', { name: 'Continue' }).click();
  const answer = await waitForMessage(page, (message) => message.type === 'answer');
  assert.deepEqual(answer, {
    type: 'answer', page_seq: 2,
    payload: { __type__: 'PayloadFile', value: { name: 'ddp.zip', size: 5, locator: '0' } },
    files: [{ name: 'ddp.zip', size: 5, isFile: true }],
  });
  assert.deepEqual(errors, []);
  await context.close();
});

test('ui: radio, questionnaire and unsupported items', async () => {
  const { page, context, errors } = await openView();
  const radio = { __type__: 'PropsUIPromptRadioInput', title: en('Platform'), description: en('Which one?'), items: [{ id: 1, value: 'Google' }, { id: 2, value: 'Meta' }] };
  await sendState(page, { page_seq: 3, status: { state: 'awaiting-participant' }, page: submission(en('Choose'), [radio, { __type__: 'PropsUIPromptFancy' }]) });
  await page.getByText('cannot show an item of type PropsUIPromptFancy').waitFor();
  await page.getByLabel('Meta').check();
  await page.getByRole('button', { name: 'Continue' }).click();
  assert.deepEqual((await waitForMessage(page, (message) => message.type === 'answer')).payload, { __type__: 'PayloadString', value: 'Meta' });

  const questionnaire = {
    __type__: 'PropsUIPromptQuestionnaire', description: en('A few questions'),
    questions: [
      { __type__: 'PropsUIQuestionOpen', id: 1, question: en('Why?') },
      { __type__: 'PropsUIQuestionMultipleChoice', id: 2, question: en('Pick one'), choices: [en('Yes'), en('No')] },
      { __type__: 'PropsUIQuestionMultipleChoiceCheckbox', id: 3, question: en('Pick some'), choices: [en('Red'), en('Green'), en('Blue')] },
    ],
  };
  await sendState(page, { page_seq: 4, status: { state: 'awaiting-participant' }, page: submission(en('Survey'), [questionnaire]) });
  await page.getByLabel('Why?').fill('Curious');
  await page.getByLabel('No', { exact: true }).check();
  await page.getByLabel('Blue').check();
  await page.getByLabel('Red').check();
  await page.getByRole('button', { name: 'Continue' }).click();
  const answer = await waitForMessage(page, (message) => message.type === 'answer' && message.page_seq === 4);
  assert.deepEqual(answer.payload, { __type__: 'PayloadJSON', value: '{"1":"Curious","2":"No","3":["Red","Blue"]}' });
  assert.deepEqual(errors, []);
  await context.close();
});

test('ui: consent table search, paging, delete, undo and donate', async () => {
  const { page, context, errors } = await openView();
  const titles = Object.fromEntries(Array.from({ length: 30 }, (_, row) => [String(row), `video ${row}`]));
  const counts = Object.fromEntries(Array.from({ length: 30 }, (_, row) => [String(row), row]));
  const form = {
    __type__: 'PropsUIPromptConsentFormViz', description: en('Check your data'),
    tables: [{ __type__: 'PropsUIPromptConsentFormTableViz', id: 'watch', title: en('Watched'), description: en('What you watched'),
      data_frame: JSON.stringify({ title: titles, n: counts }), headers: { title: en('Title') } }],
    donateQuestion: en('Donate?'), donateButton: en('Donate now'),
  };
  await sendState(page, { page_seq: 9, status: { state: 'awaiting-participant' }, page: submission(en('Consent'), [form]) });
  await page.getByRole('columnheader', { name: 'Title' }).waitFor();
  await page.getByText('Rows 1–10 of 30').waitFor();
  await page.getByRole('button', { name: 'Next page' }).click();
  await page.getByText('Page 2 of 3').waitFor();
  await page.getByLabel('Rows per page').selectOption('25');
  await page.getByText('Page 1 of 2').waitFor();

  await page.getByLabel('Search').fill('VIDEO 2');
  await page.getByText('Rows 1–11 of 11').waitFor();
  await page.getByLabel('Select row 3', { exact: true }).check();
  await page.getByLabel('Select row 22', { exact: true }).check();
  await page.getByRole('button', { name: 'Delete selected (2)' }).click();
  await page.getByText('2 deleted').waitFor();
  await page.getByRole('button', { name: 'Undo' }).click();
  await page.getByText('0 deleted').waitFor();
  await page.getByLabel('Select row 21', { exact: true }).check();
  await page.getByRole('button', { name: 'Delete selected (1)' }).click();
  await page.getByText('1 deleted').waitFor();

  await page.getByRole('button', { name: 'Hide table' }).click();
  assert.equal(await page.getByLabel('Search').isVisible(), false);
  await page.getByRole('button', { name: 'Show table' }).click();

  await page.getByRole('button', { name: 'Donate now' }).click();
  const answer = await waitForMessage(page, (message) => message.type === 'answer');
  const donated = JSON.parse(answer.payload.value);
  assert.equal(answer.payload.__type__, 'PayloadJSON');
  assert.equal(donated.length, 1);
  assert.equal(donated[0]['deleted row count'], '1');
  assert.equal(donated[0].watch.length, 29);
  assert.ok(!donated[0].watch.some((row) => row.title === 'video 20'));
  assert.deepEqual(donated[0].watch[0], { title: 'video 0', n: '0' });
  assert.deepEqual(errors, []);
  await context.close();
});

test('ui: a table over 50 000 rows is cut and says so; every row a search found goes at once and comes back', async () => {
  const { page, context, errors } = await openView();
  const n = 50_003;
  const titles = Object.fromEntries(Array.from({ length: n }, (_, row) => [String(row), row % 10 === 0 ? `match ${row}` : `other ${row}`]));
  const form = {
    __type__: 'PropsUIPromptConsentFormViz', description: en('Check your data'),
    tables: [{ __type__: 'PropsUIPromptConsentFormTableViz', id: 'big', title: en('Big'), data_frame: JSON.stringify({ title: titles }) }],
    donateQuestion: en('Donate?'), donateButton: en('Donate now'),
  };
  await sendState(page, { page_seq: 4, status: { state: 'awaiting-participant' }, page: submission(en('Consent'), [form]) });
  await page.getByText('Rows 1–10 of 50000').waitFor();
  await page.getByRole('note').getByText('This table has 50003 rows. Only the first 50000 are shown, and only those can be shared.').waitFor();
  assert.equal(await page.getByRole('button', { name: /^Delete all/ }).count(), 0, 'without a search there is nothing to delete at once');

  await page.getByLabel('Search').fill('match');
  await page.getByText('Rows 1–10 of 5000').waitFor();
  await page.getByRole('button', { name: 'Delete all 5000 rows found' }).click();
  await page.getByText('5000 deleted').waitFor();
  await page.getByText('No rows to show').waitFor();
  await page.getByRole('button', { name: 'Undo' }).click();
  await page.getByText('0 deleted').waitFor();
  await page.getByText('Rows 1–10 of 5000').waitFor();
  await page.getByRole('button', { name: 'Delete all 5000 rows found' }).click();
  await page.getByText('5000 deleted').waitFor();

  await page.getByRole('button', { name: 'Donate now' }).click();
  const answer = await waitForMessage(page, (message) => message.type === 'answer');
  const [donated] = JSON.parse(answer.payload.value);
  assert.equal(donated['deleted row count'], '5000');
  assert.equal(donated.big.length, 45_000, 'the rows past the cut are not donated, nor the deleted ones');
  assert.ok(!donated.big.some((row) => row.title.startsWith('match')));
  assert.equal(donated.big.at(-1).title, 'other 49999');
  assert.deepEqual(errors, []);
  await context.close();
});

test('ui: a Dutch browser gets the Dutch UI and study texts, and tells the session its language', async () => {
  const { page, context, errors } = await openView({ locale: 'nl-NL' });
  await page.getByText('Verbinden met de studie').waitFor();
  const text = { __type__: 'PropsUIPromptText', title: en('Hello'), text: en('Body') };
  const intro = { page_seq: 1, status: { state: 'awaiting-participant' }, page: submission(en('Intro'), [text]) };
  // The session's locale is unset: the view uses its browser's and tells the session.
  await sendState(page, intro);
  await page.getByRole('heading', { name: 'Intro (nl)' }).waitFor();
  await page.getByLabel('Taal').waitFor();
  assert.equal(await page.evaluate(() => document.documentElement.lang), 'nl');
  const told = await waitForMessage(page, (message) => message.type === 'browser-locale');
  assert.deepEqual(told, { type: 'browser-locale', browser_locale: 'nl-NL' });

  // The session's locale, once set, is every view's: the switch posts set-locale.
  await sendState(page, { ...intro, locale: 'nl' });
  await page.getByLabel('Taal').selectOption('en');
  const message = await waitForMessage(page, (message) => message.type === 'set-locale');
  assert.deepEqual(message, { type: 'set-locale', locale: 'en' });
  await page.getByRole('heading', { name: 'Intro', exact: true }).waitFor();
  await sendState(page, { ...intro, locale: 'en' });
  await page.getByLabel('Language').waitFor();
  assert.equal(await page.evaluate(() => document.documentElement.lang), 'en');
  assert.equal(await page.evaluate(() => window.viewMessages.filter((m) => m.type === 'browser-locale').length), 1,
    'a set locale is not told again');
  assert.deepEqual(errors, []);
  await context.close();
});

test('ui: changes post a draft, and a draft from the session restores the page with its files', async () => {
  const { page, context, errors } = await openView();
  const table = {
    __type__: 'PropsUIPromptConsentFormTableViz', id: 'watch', title: en('Watched'),
    data_frame: JSON.stringify({ title: { 0: 'video 0', 1: 'video 1', 2: 'video 2' } }),
  };
  const form = { __type__: 'PropsUIPromptConsentFormViz', tables: [table], donateButton: en('Donate now') };
  const consent = { page_seq: 30, status: { state: 'awaiting-participant' }, page: submission(en('Consent'), [form]) };
  await sendState(page, consent);
  await page.getByLabel('Select row 2', { exact: true }).check();
  await page.getByRole('button', { name: 'Delete selected (1)' }).click();
  const draft = await waitForMessage(page, (message) => message.type === 'draft' && message.page_seq === 30);
  assert.deepEqual(draft.draft.tables['0/0'].deleted, [[1]]);

  // A fresh view of the same page gets the session's draft: the row stays deleted.
  const reopened = await openView();
  await sendState(reopened.page, { ...consent, draft: draft.draft });
  await reopened.page.getByText('1 deleted').waitFor();
  assert.equal(await reopened.page.getByText('video 1').count(), 0);
  await reopened.page.getByRole('button', { name: 'Donate now' }).click();
  const answer = await waitForMessage(reopened.page, (message) => message.type === 'answer');
  assert.deepEqual(JSON.parse(answer.payload.value)[0].watch, [{ title: 'video 0' }, { title: 'video 2' }]);

  // A file chosen in a closed view comes back with the state, and Continue sends it.
  const input = { __type__: 'PropsUIPromptFileInput', description: en('Pick your export'), extensions: '' };
  const upload = { page_seq: 31, status: { state: 'awaiting-participant' }, page: submission(en('Upload'), [input]) };
  const fileDraft = { files: { 0: [{ name: 'ddp.zip', size: 5, locator: '0' }] } };
  await sendState(page, { ...upload, draft: fileDraft }, [{ name: 'ddp.zip', text: 'hello' }]);
  await page.getByText('Chosen: ddp.zip').waitFor();
  await page.getByRole('button', { name: 'Continue' }).click();
  const sent = await waitForMessage(page, (message) => message.type === 'answer' && message.page_seq === 31);
  assert.deepEqual(sent.payload, { __type__: 'PayloadFile', value: { name: 'ddp.zip', size: 5, locator: '0' } });
  assert.deepEqual(sent.files, [{ name: 'ddp.zip', size: 5, isFile: true }]);
  assert.deepEqual(errors, []);
  assert.deepEqual(reopened.errors, []);
  await reopened.context.close();
  await context.close();
});

test('ui: upstream consent tables, data submission buttons and display items', async () => {
  const { page, context, errors } = await openView();
  const table = {
    __type__: 'PropsUIPromptConsentFormTable', id: 't1', number: 1, title: en('Searches'), description: en('Your searches'),
    data_frame: JSON.stringify({ q: { 0: 'cats', 1: 'dogs' } }), headers: { q: en('Query') },
  };
  const body = [
    { __type__: 'PropsUIPromptText', title: en('About'), text: en('Read this') },
    { __type__: 'PropsUIPromptProgress', description: en('Reading'), message: 'half', percentage: 50 },
    { __type__: 'PropsUIPageError', message: 'boom' },
    table,
    { __type__: 'PropsUIDataSubmissionButtons', donateQuestion: en('Share?'), donateButton: en('Share'), waiting: false },
  ];
  await sendState(page, { page_seq: 11, status: { state: 'awaiting-participant' }, page: submission(en('Review'), body) });
  await page.getByText('Read this').waitFor();
  assert.equal(await page.locator('main progress').getAttribute('value'), '50');
  await page.getByRole('alert').getByText('boom').waitFor();
  await page.getByLabel('Select row 1', { exact: true }).check();
  await page.getByRole('button', { name: 'Delete selected (1)' }).click();
  await page.getByRole('button', { name: 'Share' }).click();
  const answer = await waitForMessage(page, (message) => message.type === 'answer');
  assert.deepEqual(answer.payload, { __type__: 'PayloadJSON', value: '{"t1":{"data":[{"Query":"dogs"}],"metadata":{"deletedRowCount":1}}}' });

  const form = { __type__: 'PropsUIPromptConsentForm', tables: [table], description: en('Form') };
  await sendState(page, { page_seq: 12, status: { state: 'awaiting-participant' }, page: submission(en('Form page'), [form]) });
  await page.getByRole('heading', { name: 'Form page' }).waitFor();
  await page.getByRole('button', { name: 'No', exact: true }).click();
  const declined = await waitForMessage(page, (message) => message.type === 'answer' && message.page_seq === 12);
  assert.deepEqual(declined.payload, { __type__: 'PayloadFalse', value: false });

  const multiple = { __type__: 'PropsUIPromptFileInputMultiple', description: en('Several'), extensions: '' };
  await sendState(page, { page_seq: 13, status: { state: 'awaiting-participant' }, page: submission(en('Files'), [multiple]) });
  await page.getByLabel('Choose files').setInputFiles([
    { name: 'a.json', mimeType: 'application/json', buffer: Buffer.from('{}') },
    { name: 'b.json', mimeType: 'application/json', buffer: Buffer.from('[1]') },
  ]);
  await page.getByRole('button', { name: 'Continue' }).click();
  const files = await waitForMessage(page, (message) => message.type === 'answer' && message.page_seq === 13);
  assert.deepEqual(files.payload.value.map((file) => file.locator), ['0', '1']);
  assert.deepEqual(files.files.map((file) => file.name), ['a.json', 'b.json']);

  await sendState(page, { page_seq: 14, status: { state: 'crashed' }, page: submission(en('Oops'), [{ __type__: 'PropsUIPageError', message: 'worker died' }]) });
  await page.getByText('Something went wrong.').first().waitFor();
  await page.getByText('worker died').waitFor();
  await sendState(page, { page_seq: 15, status: { state: 'awaiting-participant' }, page: { __type__: 'PropsUIPageSplashScreen' } });
  await page.getByText('cannot show an item of type PropsUIPageSplashScreen').waitFor();
  assert.deepEqual(errors, []);
  await context.close();
});

// Issue 7: a state that arrives while the participant is answering must never lose the answer.
// A participant's file chooser answers the input it was opened from; when a state redrew the page
// while it was open, that input is no longer on screen.

/// Chooses `name` in `input` as a file chooser would: sets its files and fires `change`, whether or
/// not the input is still on screen (Playwright's setInputFiles refuses a detached input).
async function chooseIn(input, name, text) {
  await input.evaluate((element, { name, text }) => {
    const transfer = new DataTransfer();
    transfer.items.add(new File([text], name));
    element.files = transfer.files;
    element.dispatchEvent(new Event('input', { bubbles: true }));
    element.dispatchEvent(new Event('change', { bubbles: true }));
  }, { name, text });
}

test('ui: a file chosen in an input that a state redrew away is still chosen (issue 7)', async () => {
  const { page, context, errors } = await openView();
  const input = { __type__: 'PropsUIPromptFileInput', description: en('Pick your export'), extensions: '' };
  const upload = { page_seq: 40, status: { state: 'awaiting-participant' }, page: submission(en('Upload'), [input]) };
  await sendState(page, upload);
  const opened = await page.getByLabel('Choose a file').elementHandle();
  // The chooser is open; the session's locale changes (another view switched it), and the page is
  // drawn again in Dutch.
  await sendState(page, { ...upload, locale: 'nl' });
  await page.getByRole('heading', { name: 'Upload (nl)' }).waitFor();
  assert.equal(await opened.evaluate((element) => element.isConnected), false, 'the redraw replaced the input');

  await chooseIn(opened, 'ddp.zip', 'hello');
  const continueButton = page.locator('.file-input button.primary');
  await page.locator('.file-input .chosen').getByText('ddp.zip').waitFor({ timeout: 5_000 });
  assert.equal(await continueButton.isDisabled(), false, 'Continue is enabled for the chosen file');
  assert.equal(await page.locator('.file-input input[type="file"]').evaluate((element) => element.files[0]?.name), 'ddp.zip',
    'the input on screen names the file too');
  await continueButton.click();
  const sent = await waitForMessage(page, (message) => message.type === 'answer' && message.page_seq === 40);
  assert.deepEqual(sent.payload, { __type__: 'PayloadFile', value: { name: 'ddp.zip', size: 5, locator: '0' } });
  assert.deepEqual(sent.files, [{ name: 'ddp.zip', size: 5, isFile: true }]);
  assert.deepEqual(errors, []);
  await context.close();
});

test('ui: a state or draft echo between an answer and its Continue keeps the page and the answer (issue 7)', async () => {
  const { page, context, errors } = await openView();
  // A state that changes nothing the page shows (a donation's delivery moved on), then the echo of
  // an older draft (the session kept the view's previous one).
  const interrupt = async (view, olderDraft) => {
    await sendState(page, { ...view, deliveries: [{ key: `k${view.page_seq}`, state: 'pending' }] });
    await page.locator(`[data-delivery="k${view.page_seq}"]`).waitFor();
    await sendState(page, { ...view, deliveries: [{ key: `k${view.page_seq}`, state: 'pending' }], draft: olderDraft });
    await page.evaluate(() => new Promise((resolve) => setTimeout(resolve, 50)));
  };

  // File: the same input stays on screen, with its file.
  const input = { __type__: 'PropsUIPromptFileInput', description: en('Pick your export'), extensions: '' };
  const upload = { page_seq: 50, status: { state: 'awaiting-participant' }, page: submission(en('Upload'), [input]) };
  await sendState(page, upload);
  const chooser = await page.getByLabel('Choose a file').elementHandle();
  await chooser.setInputFiles({ name: 'ddp.zip', mimeType: 'application/zip', buffer: Buffer.from('hello') });
  await interrupt(upload, {});
  assert.equal(await chooser.evaluate((element) => element.isConnected), true, 'the page was not drawn again');
  await page.getByRole('button', { name: 'Continue' }).click({ timeout: 5_000 });
  const file = await waitForMessage(page, (message) => message.type === 'answer' && message.page_seq === 50);
  assert.equal(file.payload.__type__, 'PayloadFile');
  assert.deepEqual(file.files, [{ name: 'ddp.zip', size: 5, isFile: true }]);

  // Radio.
  const radio = { __type__: 'PropsUIPromptRadioInput', title: en('Platform'), description: en('Which one?'), items: [{ id: 1, value: 'Google' }, { id: 2, value: 'Meta' }] };
  const choose = { page_seq: 51, status: { state: 'awaiting-participant' }, page: submission(en('Choose'), [radio]) };
  await sendState(page, choose);
  await page.getByLabel('Meta').check();
  await interrupt(choose, { radios: { 0: 0 } });
  assert.equal(await page.getByLabel('Meta').isChecked(), true);
  await page.getByRole('button', { name: 'Continue' }).click({ timeout: 5_000 });
  const chosen = await waitForMessage(page, (message) => message.type === 'answer' && message.page_seq === 51);
  assert.deepEqual(chosen.payload, { __type__: 'PayloadString', value: 'Meta' });

  // Questionnaire.
  const questionnaire = {
    __type__: 'PropsUIPromptQuestionnaire', description: en('A few questions'),
    questions: [
      { __type__: 'PropsUIQuestionOpen', id: 1, question: en('Why?') },
      { __type__: 'PropsUIQuestionMultipleChoice', id: 2, question: en('Pick one'), choices: [en('Yes'), en('No')] },
    ],
  };
  const survey = { page_seq: 52, status: { state: 'awaiting-participant' }, page: submission(en('Survey'), [questionnaire]) };
  await sendState(page, survey);
  await page.getByLabel('Why?').fill('Curious');
  await page.getByLabel('No', { exact: true }).check();
  await interrupt(survey, { questionnaires: { 0: [null, null] } });
  await page.getByRole('button', { name: 'Continue' }).click({ timeout: 5_000 });
  const answers = await waitForMessage(page, (message) => message.type === 'answer' && message.page_seq === 52);
  assert.deepEqual(answers.payload, { __type__: 'PayloadJSON', value: '{"1":"Curious","2":"No"}' });

  // A table deletion.
  const table = {
    __type__: 'PropsUIPromptConsentFormTableViz', id: 'watch', title: en('Watched'),
    data_frame: JSON.stringify({ title: { 0: 'video 0', 1: 'video 1', 2: 'video 2' } }),
  };
  const form = { __type__: 'PropsUIPromptConsentFormViz', tables: [table], donateButton: en('Donate now') };
  const consent = { page_seq: 53, status: { state: 'awaiting-participant' }, page: submission(en('Consent'), [form]) };
  await sendState(page, consent);
  await page.getByLabel('Select row 2', { exact: true }).check();
  await page.getByRole('button', { name: 'Delete selected (1)' }).click();
  await interrupt(consent, { tables: { '0/0': { deleted: [], search: '', page_idx: 0 } } });
  await page.getByText('1 deleted').waitFor({ timeout: 5_000 });
  await page.getByRole('button', { name: 'Donate now' }).click({ timeout: 5_000 });
  const donated = await waitForMessage(page, (message) => message.type === 'answer' && message.page_seq === 53);
  assert.deepEqual(JSON.parse(donated.payload.value)[0].watch, [{ title: 'video 0' }, { title: 'video 2' }]);
  assert.deepEqual(errors, []);
  await context.close();
});

test('ui: answers given before a locale switch survive the redraw it causes (issue 7)', async () => {
  const { page, context, errors } = await openView();
  const radio = { __type__: 'PropsUIPromptRadioInput', title: en('Platform'), description: en('Which one?'), items: [{ id: 1, value: 'Google' }, { id: 2, value: 'Meta' }] };
  const table = {
    __type__: 'PropsUIPromptConsentFormTableViz', id: 'watch', title: en('Watched'),
    data_frame: JSON.stringify({ title: { 0: 'video 0', 1: 'video 1', 2: 'video 2' } }),
  };
  const form = { __type__: 'PropsUIPromptConsentFormViz', tables: [table], donateButton: en('Donate now') };
  const both = { page_seq: 60, status: { state: 'awaiting-participant' }, page: submission(en('Both'), [radio, form]) };
  await sendState(page, both);
  await page.getByLabel('Meta').check();
  await page.getByLabel('Select row 1', { exact: true }).check();
  await page.getByRole('button', { name: 'Delete selected (1)' }).click();
  await sendState(page, { ...both, locale: 'nl' });
  await page.getByRole('heading', { name: 'Both (nl)' }).waitFor();
  await sendState(page, { ...both, locale: 'en' });
  await page.getByRole('heading', { name: 'Both', exact: true }).waitFor();
  assert.equal(await page.getByLabel('Meta').isChecked(), true, 'the radio choice is drawn again');
  await page.getByText('1 deleted').waitFor({ timeout: 5_000 });
  await page.getByRole('button', { name: 'Donate now' }).click();
  const donated = await waitForMessage(page, (message) => message.type === 'answer' && message.page_seq === 60);
  assert.deepEqual(JSON.parse(donated.payload.value)[0].watch, [{ title: 'video 1' }, { title: 'video 2' }]);
  assert.deepEqual(errors, []);
  await context.close();
});

test('ui: the extension\'s own page is marked outside the page, and the finished screen lists all that was sent', async () => {
  const { page, context, errors } = await openView();
  const confirm = { __type__: 'PropsUIPromptConfirm', text: en('Send this?'), ok: en('Send'), cancel: en('No') };
  // A study's page that copies the review's heading gets no mark; the extension's page does.
  await sendState(page, { page_seq: 70, status: { state: 'awaiting-participant' }, page: submission(en('A question from the extension, not from the study'), [confirm]) });
  await page.getByRole('button', { name: 'Send' }).waitFor();
  assert.equal(await page.getByRole('note').filter({ hasText: 'not from the study' }).count(), 0);
  await sendState(page, { page_seq: 71, status: { state: 'awaiting-participant' }, extension_page: true, page: submission(en('A question from the extension, not from the study'), [confirm]) });
  await page.getByRole('note').getByText('This page is from the port extension, not from the study.').waitFor();
  assert.equal(await page.locator('article.page .extension-page').count(), 0, 'the mark is outside the page element');
  // A review (a consent form of the extension's) asks Send or Don't send.
  const reviewed = { __type__: 'PropsUIPromptConsentFormTableViz', id: 'port-review', title: en('What would be sent'),
    data_frame: JSON.stringify({ field: { 0: 'secret' }, value: { 0: '42' } }), delete_option: false };
  const review = { __type__: 'PropsUIPromptConsentFormViz', tables: [reviewed], donateQuestion: en('Send this?'), donateButton: en('Send') };
  await sendState(page, { page_seq: 72, status: { state: 'awaiting-participant' }, extension_page: true, page: submission(en('Review'), [review]) });
  await page.getByText('Rows 1–1 of 1').waitFor();
  assert.equal(await page.getByText(/deleted/).count(), 0, 'a table without delete shows no deleted count');
  assert.equal(await page.getByRole('button', { name: /Delete selected/ }).count(), 0);
  await page.getByRole('button', { name: "Don't send" }).click();
  const kept = await waitForMessage(page, (message) => message.type === 'answer' && message.page_seq === 72);
  assert.deepEqual(kept.payload, { __type__: 'PayloadFalse', value: false });

  await sendState(page, {
    page_seq: 73, status: { state: 'finished', code: 0 },
    sent: { donations: [{ key: '1-demo', n_bytes: 1234 }], logs: [{ level: 'info', message: 'Demo study started' }] },
  });
  const sent = page.getByRole('region', { name: 'What this study sent' });
  await sent.getByText('Donation 1-demo (1234 bytes)').waitFor();
  await sent.getByText('Log messages (1)').click();
  await sent.getByText('info: Demo study started').waitFor();
  await sendState(page, { page_seq: 74, status: { state: 'finished', code: 0 }, sent: { donations: [], logs: [] } });
  await page.getByRole('region', { name: 'What this study sent' }).getByText('Nothing was sent.').waitFor();
  assert.deepEqual(errors, []);
  await context.close();
});

test('ui: a state that redraws the view keeps the focus where it was (issue 7)', async () => {
  const { page, context, errors } = await openView();
  const radio = { __type__: 'PropsUIPromptRadioInput', title: en('Platform'), description: en('Which one?'), items: [{ id: 1, value: 'Google' }, { id: 2, value: 'Meta' }] };
  const choose = { page_seq: 80, status: { state: 'awaiting-participant' }, page: submission(en('Choose'), [radio]) };
  await sendState(page, choose);
  const heading = page.getByRole('heading', { name: 'Choose' });
  await page.waitForFunction(() => document.activeElement?.tagName === 'H1');
  await heading.evaluate((element) => { element.dataset.probe = 'kept'; });
  // A delivery moved on: the header and the main area are drawn again, the page is kept.
  await sendState(page, { ...choose, deliveries: [{ key: 'k', state: 'pending' }] });
  await page.locator('[data-delivery="k"]').waitFor();
  assert.equal(await heading.evaluate((element) => element.dataset.probe), 'kept', 'the page element was kept');
  assert.equal(await heading.evaluate((element) => element === document.activeElement), true, 'the new page\'s heading keeps the focus');
  await page.getByLabel('Meta').focus();
  await sendState(page, { ...choose, deliveries: [{ key: 'k', state: 'delivered', status: 200 }] });
  await page.locator('[data-delivery="k"][data-state="delivered"]').waitFor();
  assert.equal(await page.getByLabel('Meta').evaluate((element) => element === document.activeElement), true, 'a focused control keeps the focus');
  assert.deepEqual(errors, []);
  await context.close();
});
