// Shared helpers for the end-to-end tests: launching headless Chromium with the built extension,
// the real `port host` dev host, a recording proxy that refuses everything, fixture copies of the
// extension with another study script, and driving the real UI.
//
// Build first: `port build` (writes dist/extension and target/debug/port).
// Environment: PORT_E2E_EXTENSION (another build), CHROMIUM (another browser), PORT_BIN (another
// `port` binary), PYTHON (the interpreter for the DDP generator).
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const extensionDir = process.env.PORT_E2E_EXTENSION ?? path.join(repo, 'dist', 'extension');
// The manifest `key` fixes the id; it is the same in every build and every fixture copy.
export const EXTENSION_ID = 'majacjgmojmpgjbcioomhloafcikglkl';
export const EXTENSION_ORIGIN = `chrome-extension://${EXTENSION_ID}`;
export const UI_URL = `${EXTENSION_ORIGIN}/ui.html`;
const portBin = process.env.PORT_BIN ?? path.join(repo, 'target', 'debug', 'port');

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/// Samples, every 100 ms until `stop()`, the resident memory of each renderer process (Linux
/// `/proc`): of the browser on `profile` when given (a renderer's command line names its profile,
/// its arguments parted by NULs or, once Chromium has set the process title, by spaces), else of
/// every browser. `stop()` returns, in MiB, the largest peak of one process and the most one
/// process grew over its first sample. Also used by bench/browser.mjs.
export function sampleRendererMemory(profile) {
  const first = new Map(); // pid → KiB
  const peak = new Map();
  const sample = () => {
    for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
      try {
        const commandLine = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
        if (!commandLine.includes('--type=renderer')) continue;
        if (profile !== undefined && !commandLine.split(/[\0 ]/).includes(`--user-data-dir=${profile}`)) continue;
        const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
        if (!rss) continue;
        if (!first.has(pid)) first.set(pid, Number(rss[1]));
        peak.set(pid, Math.max(peak.get(pid) ?? 0, Number(rss[1])));
      } catch {
        // The process ended between the listing and the read.
      }
    }
  };
  sample();
  const timer = setInterval(sample, 100);
  return {
    stop: () => {
      clearInterval(timer);
      sample();
      const growths = [...peak.entries()].map(([pid, kib]) => kib - first.get(pid));
      return { peakMiB: Math.max(0, ...peak.values()) / 1024, growthMiB: Math.max(0, ...growths) / 1024 };
    },
  };
}

/// A temp dir; the caller removes it.
export function tempDir(prefix) {
  return mkdtempSync(path.join(tmpdir(), `port-e2e-${prefix}-`));
}

/// The browser itself (not the extension) calls Google at start-up whatever the flags and prefs:
/// IdentityManager's `accounts.google.com/ListAccounts` and GCM's `android.clients.google.com/checkin`
/// (see chromiumembedded/cef#4276). These switches point those browser-internal endpoints at a
/// closed loopback port, so a proxy that must see zero requests sees only what pages and workers
/// ask for. They do not change where an extension's own `fetch` goes.
export const BROWSER_SERVICES_OFFLINE = [
  '--gaia-url=http://127.0.0.1:9', '--google-apis-url=http://127.0.0.1:9',
  '--gcm-checkin-url=http://127.0.0.1:9/checkin', '--gcm-registration-url=http://127.0.0.1:9/register',
  '--gcm-mcs-endpoint=http://127.0.0.1:9',
];

/// Launches a persistent headless Chromium context with an unpacked extension.
/// `proxyPort` routes everything but loopback through a proxy (loopback bypasses it by default).
/// `netLog` writes Chromium's NetLog there (complete once the browser closed; see `readNetLog`).
/// `args`: more Chromium switches.
/// Returns `{context, worker, profile, swConsole, close}`; `swConsole` collects the service
/// worker's console messages from its first run.
/// `profile`: reuse this profile folder (to restart the browser with its storage) and keep it on
/// close; by default a fresh one is made and removed.
export async function launch({ extension = extensionDir, proxyPort, profile: keptProfile, netLog, args: extraArgs = [] } = {}) {
  assert.ok(existsSync(path.join(extension, 'manifest.json')), `no build at ${extension}`);
  const profile = keptProfile ?? tempDir('profile');
  const args = [
    `--disable-extensions-except=${extension}`,
    `--load-extension=${extension}`,
    '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
  ];
  if (proxyPort) args.push(`--proxy-server=http://127.0.0.1:${proxyPort}`, ...BROWSER_SERVICES_OFFLINE);
  if (netLog) args.push(`--log-net-log=${netLog}`);
  args.push(...extraArgs);
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args,
  });
  const swConsole = [];
  const watch = (worker) => worker.on('console', (message) =>
    swConsole.push({ type: message.type(), text: message.text(), url: worker.url() }));
  // A worker that exists already was announced before this listener; later ones (restarts) are not.
  let [worker] = context.serviceWorkers();
  if (worker) watch(worker);
  context.on('serviceworker', watch);
  worker ??= await context.waitForEvent('serviceworker');
  assert.equal(new URL(worker.url()).host, EXTENSION_ID);
  return {
    context,
    worker,
    profile,
    swConsole,
    async close() {
      await context.close().catch(() => {});
      if (!keptProfile) rmSync(profile, { recursive: true, force: true });
    },
  };
}

/// Starts the real `port host --port 0 --dir DIR`. Its stderr is read to the end (the first line
/// names the URL) so it never writes into a closed pipe.
/// `args` are more flags, e.g. `['--fail-donations', '503:2']` or `['--study', FILE]`.
export async function startDevHost({ args = [] } = {}) {
  assert.ok(existsSync(portBin), `no port binary at ${portBin}; run \`port build\` first`);
  const dir = tempDir('donations');
  const child = spawn(portBin, ['host', '--port', '0', '--dir', dir, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  let stdout = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk) => { stdout += chunk; });
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`port host did not start: ${stderr}`)), 15_000);
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
      const match = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(stderr);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    child.on('exit', (code) => reject(new Error(`port host exited with ${code}: ${stderr}`)));
  });
  return {
    url,
    dir,
    /// What it printed: logs (`[level] message`), `event {...}` and `exit {...}` lines on stdout.
    output: () => stdout,
    log: () => stderr,
    /// `GET /donations`: what arrived so far.
    async donations() {
      const response = await fetch(`${url}/donations`);
      assert.equal(response.status, 200);
      return response.json();
    },
    /// The donated json_string, verbatim, as stored at `DIR/<session>/<key>.json`; null if absent.
    read(session, key) {
      const file = path.join(dir, session, `${key}.json`);
      return existsSync(file) ? readFileSync(file, 'utf8') : null;
    },
    async waitFor(session, key, timeout = 30_000) {
      const deadline = Date.now() + timeout;
      while (Date.now() < deadline) {
        const text = this.read(session, key);
        if (text != null) return text;
        await sleep(100);
      }
      throw new Error(`no donation ${session}/${key} within ${timeout} ms; host log:\n${stderr}`);
    },
    async close() {
      child.kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/// The URL requests in a NetLog that `launch({netLog})` wrote, each with who made it. `browserOwn`
/// requests are the browser's own services (the component updater, account checks): no web
/// context initiated them ("not an origin") and they belong to no site ("null null"). Every other
/// request was made for a page or worker: in these tests, an extension context. A navigation the
/// extension starts (a tab it opens) has no initiator either, but belongs to the site it opens, so
/// it is never counted as the browser's own.
export function readNetLog(file) {
  const log = JSON.parse(readFileSync(file, 'utf8'));
  const startJob = log.constants.logEventTypes.URL_REQUEST_START_JOB;
  return log.events
    .filter((event) => event.type === startJob && event.params?.url)
    .map(({ params }) => {
      const initiator = params.initiator ?? 'not an origin';
      const isolationKey = params.network_isolation_key ?? 'null null';
      return { url: params.url, initiator, isolationKey, browserOwn: initiator === 'not an origin' && isolationKey === 'null null' };
    });
}

/// The host a proxy record names: `host:port` for a CONNECT tunnel, else the absolute URL's.
export function proxiedHost(record) {
  return record.method === 'CONNECT' ? record.url.replace(/:\d+$/, '') : new URL(record.url).hostname;
}

/// A proxy that records every request (absolute-URL requests and CONNECT tunnels) and refuses it.
export async function startRecordingProxy() {
  const records = [];
  const server = createServer((request, response) => {
    records.push({ method: request.method, url: request.url });
    response.writeHead(403, { 'Content-Type': 'text/plain' }).end('refused by the port e2e proxy');
  });
  server.on('connect', (request, socket) => {
    records.push({ method: 'CONNECT', url: request.url });
    socket.on('error', () => {});
    socket.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n');
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: server.address().port,
    records,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/// A copy of the built extension whose bundled demo study is replaced by `scriptSource` (`null`:
/// kept). `devBridgeUrl` writes `dev-bridge.json` so the copy donates to that dev host.
export function fixtureExtension(scriptSource, { devBridgeUrl, bundledSnapshot } = {}) {
  const dir = tempDir('extension');
  cpSync(extensionDir, dir, { recursive: true });
  if (scriptSource !== null) {
    const script = path.join(dir, 'studies', 'demo', 'script.py');
    assert.ok(existsSync(script), 'the build bundles studies/demo/script.py');
    writeFileSync(script, scriptSource);
  }
  if (devBridgeUrl) writeFileSync(path.join(dir, 'dev-bridge.json'), JSON.stringify({ kind: 'dev-host', url: devBridgeUrl }));
  // `bundledSnapshot`: `null` makes a build without the runtime snapshot the build ships, bytes
  // replace it.
  const buildInfoFile = path.join(dir, 'build.json');
  const buildInfo = JSON.parse(readFileSync(buildInfoFile, 'utf8'));
  const snapshotFile = path.join(dir, buildInfo.bundled_snapshot);
  if (bundledSnapshot === null) {
    rmSync(snapshotFile);
    delete buildInfo.bundled_snapshot;
    writeFileSync(buildInfoFile, JSON.stringify(buildInfo));
  } else if (bundledSnapshot) {
    writeFileSync(snapshotFile, bundledSnapshot);
  }
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/// Writes a synthetic DDP with the demo study's generator.
export function generateDdp(dir) {
  const ddp = path.join(dir, 'ddp.zip');
  execFileSync(process.env.PYTHON ?? 'python3', [path.join(repo, 'studies/demo/generate_ddp.py'), ddp]);
  return ddp;
}

/// Points the bridge at a dev host (chrome.storage.local "port.bridge"), from an extension page.
export async function setBridge(context, url) {
  const page = await context.newPage();
  await page.goto(`${EXTENSION_ORIGIN}/manifest.json`);
  await page.evaluate((url) => chrome.storage.local.set({ 'port.bridge': { kind: 'dev-host', url } }), url);
  await page.close();
}

/// Opens ui.html in a new tab; records page errors, error-level console messages and every state
/// the session broadcasts (`window.portStates`, filled from an init script so nothing is missed).
export async function openUi(context) {
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (error) => errors.push(String(error)));
  page.on('console', (message) => { if (message.type() === 'error') errors.push(message.text()); });
  await page.addInitScript(() => {
    window.portStates = [];
    new BroadcastChannel('port-session').onmessage = (event) => {
      if (event.data?.type === 'state') window.portStates.push(event.data);
    };
  });
  await page.goto(UI_URL);
  return { page, errors };
}

/// Polls the states a page collected until one matches (the extension CSP forbids evaluating a
/// predicate in the page, so it runs here).
export async function waitForState(page, predicate, timeout = 60_000) {
  const deadline = Date.now() + timeout;
  let seen = [];
  while (Date.now() < deadline) {
    seen = await page.evaluate(() => window.portStates);
    const found = seen.find(predicate);
    if (found) return found;
    await sleep(100);
  }
  throw new Error(`no matching state within ${timeout} ms; last: ${JSON.stringify(seen.at(-1))?.slice(0, 2000)}`);
}

/// The running session's id (the UI's attach already started it).
export async function sessionId(page) {
  const reply = await page.evaluate(() => chrome.runtime.sendMessage({ target: 'background', type: 'ensure-session' }));
  assert.ok(reply && !reply.error, `ensure-session failed: ${JSON.stringify(reply)}`);
  return reply.session_id;
}

/// The demo study up to its consent form: file, then the radio's first choice ("Everything").
export async function demoToConsent(page, ddp) {
  const chooser = page.getByLabel('Choose a file');
  await chooser.waitFor({ timeout: 60_000 });
  await chooser.setInputFiles(ddp);
  await page.getByRole('button', { name: 'Continue' }).click();
  await demoRadio(page);
}

export async function demoRadio(page) {
  await page.getByRole('radio').first().waitFor({ timeout: 30_000 });
  await page.getByRole('radio').first().check();
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.getByRole('heading', { name: 'Your Demo platform data' }).waitFor({ timeout: 30_000 });
}

/// From the consent form's donate button to the end: questionnaire, progress, thank-you, Finish.
export async function demoDonateAndFinish(page) {
  await page.getByRole('button', { name: 'Yes, share for research' }).click();
  await demoFinish(page);
}

export async function demoFinish(page) {
  await page.getByRole('heading', { name: 'A few questions' }).waitFor({ timeout: 30_000 });
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.getByRole('heading', { name: 'A few questions' }).waitFor({ state: 'detached', timeout: 30_000 });
  await page.getByRole('button', { name: 'Finish' }).click({ timeout: 30_000 });
  const finished = await waitForState(page, (state) => state.status.state === 'finished', 30_000);
  assert.equal(finished.status.code, 0);
}

/// A tiny HTTP server on 127.0.0.1 serving `routes` (`{'/study.json': {body, type}}`), with CORS,
/// for study links and script URLs. `routes` may be changed while it runs.
export async function startStaticServer(routes = {}, { hostname = '127.0.0.1' } = {}) {
  const requests = [];
  const server = createServer((request, response) => {
    requests.push(request.url);
    const route = routes[new URL(request.url, 'http://x').pathname];
    const headers = { 'Access-Control-Allow-Origin': '*' };
    if (!route) return response.writeHead(404, headers).end('not found');
    response.writeHead(200, { ...headers, 'Content-Type': route.type ?? 'application/json' }).end(route.body);
  });
  await new Promise((resolve) => server.listen(0, hostname, resolve));
  return {
    url: `http://${hostname}:${server.address().port}`,
    routes,
    requests,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/// A port-study/1 config; `fields` replace the defaults.
export function studyConfig(fields = {}) {
  return {
    schema: 'port-study/1',
    id: 'tiny',
    version: '1.0.0',
    title: { translations: { en: 'Tiny study', nl: 'Kleine studie' } },
    description: 'A one-donation study for the e2e tests',
    script: { source: TINY_SCRIPT },
    locales: ['en'],
    donate: { mode: 'local' },
    ...fields,
  };
}

/// A study script that donates `{session}-tiny` once, then shows what the donation answered (and
/// its platform) on a page with a "Finish" button.
export const TINY_SCRIPT = `
from port.api.props import PropsUIPromptConfirm, Translatable
from port.helpers import port_helpers as ph

def process(session_id, platform=None):
    result = yield ph.donate(f"{session_id}-tiny", '{"tiny": true}')
    value = getattr(result, "value", None)
    text = "answer %s success=%s status=%s platform=%s" % (
        getattr(result, "__type__", None), getattr(value, "success", None), getattr(value, "status", None), platform)
    _ = yield ph.render_page("Donated", [PropsUIPromptConfirm(Translatable({"en": text}), Translatable({"en": "Finish"}), Translatable({"en": "Close"}))])
`;

/// The extension's review page for a donation that is not verbatim one of the participant's
/// answers: asserts that it appeared and names the donation (`key`, a RegExp), then sends it.
export async function sendOnReview(page, key, { timeout = 60_000 } = {}) {
  await page.getByRole('heading', { name: 'A question from the extension, not from the study' }).waitFor({ timeout });
  await page.locator('main').getByText(key).first().waitFor();
  await page.getByRole('button', { name: 'Send', exact: true }).click();
}

/// Records every state broadcast on the session channel in every page of the context
/// (`window.portStates`), including pages the extension opens itself.
export async function recordStates(context) {
  await context.addInitScript(() => {
    if (!location.href.startsWith('chrome-extension://')) return;
    window.portStates = [];
    new BroadcastChannel('port-session').onmessage = (event) => {
      if (event.data?.type === 'state') window.portStates.push(event.data);
    };
  });
}

/// Adds a study link through the UI's study list; returns the page after the list answered.
export async function addStudyLink(page, url) {
  await page.getByRole('button', { name: 'Studies', exact: true }).click({ timeout: 30_000 }).catch(() => {});
  const field = page.getByLabel('Study link');
  await field.waitFor({ timeout: 30_000 });
  await field.fill(url);
  await page.getByRole('button', { name: 'Add study' }).click();
}

/// The text of a donation body the extension keeps in its Cache Storage (`port_protocol::donation_body`):
/// `body` is the `{n_bytes, sha256}` a record or a listing names. Null when it is not kept.
export async function donationBodyText(page, sessionId, key, body) {
  return page.evaluate(async ({ sessionId, key, body }) => {
    const cache = await caches.open('port-donation-bodies');
    const response = await cache.match(`https://donation-body.invalid/${sessionId}/${key}/${body.sha256}`);
    return response ? response.text() : null;
  }, { sessionId, key, body });
}

/// Keeps `text` as the body of donation `key` of `sessionId`, as the offscreen document does before
/// it sends the background a `donate` message; returns the message's `body`.
export async function keepDonationBody(page, sessionId, key, text) {
  return page.evaluate(async ({ sessionId, key, text }) => {
    const bytes = new TextEncoder().encode(text);
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
    const sha256 = [...digest].map((byte) => byte.toString(16).padStart(2, '0')).join('');
    const cache = await caches.open('port-donation-bodies');
    await cache.put(`https://donation-body.invalid/${sessionId}/${key}/${sha256}`, new Response(bytes));
    return { n_bytes: bytes.length, sha256 };
  }, { sessionId, key, text });
}

/// Serves `config` on `server` as `/<id>.json`, adds it as a study link in a new UI tab and starts
/// it there; returns the tab and its errors.
export async function startLinkedStudy(browser, server, config) {
  server.routes[`/${config.id}.json`] = { body: JSON.stringify(config) };
  const { page, errors } = await openUi(browser.context);
  await addStudyLink(page, `${server.url}/${config.id}.json`);
  await page.getByText(`The study ${config.id} was added.`).waitFor({ timeout: 30_000 });
  const title = config.title.translations?.en ?? config.title;
  await page.getByRole('button', { name: `Start the study ${title}` }).click();
  return { page, errors };
}
