// Browser benchmark of the optimised build (`port build --optimised` → dist/optimised/extension: the
// release build's wasm, with the local dev host admitted) in headless Chromium. It PRINTS figures
// and asserts nothing: exit 0 unless it cannot run at all (no build, no browser).
//
//   node bench/browser.mjs
//
// Against a temporary copy of the build (the product is never touched), BENCH_RUNS times:
//   1. the floor: a bare `loadPyodide()` in a module worker of a plain extension page (`bench.html`
//      + `bench.js` + `bench-worker.js`, added to the copy only), on a fresh profile;
//   2. the first boot ever: opening `ui.html` on a fresh profile → the first study page's heading,
//      with the boot steps read from the `port-session` states; meanwhile the maker makes the snapshot;
//   3. the warm reopen: a second `ui.html` while the session waits on its page → that page's heading;
//   4. a later boot: the browser restarted on the same profile, so the session boots from the snapshot;
//   4b. (builds that admit a host page on 127.0.0.1: optimised and development) the same two boots the way a
//      participant meets them: `port host --study` serves a host page that pushes the demo's config
//      (live-init, its script inline), and the time runs to the first heading in the UI tab it opens;
//   5. (last run only) 1 000 `CommandSystemLog` round trips between two pages, with
//      `bench/fixtures/log_study.py` in place of the demo;
//   6. (last run only) P2: a 16 MiB member at the end of a 1 GiB (sparse) zip read in the browser
//      through the slice reader (`bench/fixtures/archive_study.py`), against native CPython's zipfile;
//   7. (last run only) P4: a consent form with a 50 010-row table (`bench/fixtures/table_study.py`):
//      its first rows drawn, a search keystroke, deleting every row found and its undo, and that the
//      donation carries the right rows.
//   8. (last run only) P5: a 200 MB donation (`bench/fixtures/donation_study.py`) to an http host
//      through the outbox, from the participant's "Send" on the review page to the host's last
//      byte, against a plain `fetch` POST of the same bytes from an extension page to the same host.
// Environment: PORT_BENCH_EXTENSION (another build), CHROMIUM (another browser), BENCH_RUNS (default
// 3), BENCH_LOGS (logs per batch, default 1000), BENCH_BATCHES (default 3), BENCH_KEEP=1 keeps the
// temporary directory, BENCH_ONLY=P5 (or P2) measures P5 (or P2) alone.
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { sampleRendererMemory } from '../tests/e2e/support.mjs';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const sourceExtension = process.env.PORT_BENCH_EXTENSION ?? path.join(repo, 'dist', 'optimised', 'extension');
const EXTENSION_ID = 'majacjgmojmpgjbcioomhloafcikglkl'; // fixed by the manifest `key`
const ORIGIN = `chrome-extension://${EXTENSION_ID}`;
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const N_LOGS = Number(process.env.BENCH_LOGS ?? 1000);
const N_BATCHES = Number(process.env.BENCH_BATCHES ?? 3);
const WAIT_MS = 120_000;
/// Reopens per run: each takes a fraction of a second, and a single one moves by 30 ms and more.
const REOPENS = 5;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
/// Whether the measured build ships a runtime snapshot (`build.json`'s `bundled_snapshot`).
let shipsSnapshot = false;

// ---------------------------------------------------------------------------------------------
// Test tooling added to the temporary copy only.

const BENCH_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>bench</title>
<script type="module" src="bench.js"></script></head><body>bench</body></html>
`;

// The page starts a module worker (as the offscreen document does) and reports its timings.
const BENCH_JS = `// Benchmark tooling (bench/browser.mjs), never part of the product.
window.runBare = () => new Promise((resolve, reject) => {
  const started = performance.now();
  const worker = new Worker('bench-worker.js', { type: 'module' });
  worker.onmessage = (event) => {
    const ready = performance.now();
    worker.terminate();
    if (event.data.error) reject(new Error(event.data.error));
    else resolve({ ...event.data, workerStartToReadyMs: ready - started });
  };
  worker.onerror = (event) => { worker.terminate(); reject(new Error(event.message || 'worker error')); };
  worker.postMessage({ indexURL: chrome.runtime.getURL('pyodide/') });
});
window.benchReady = true;
`;

// The warm reopen's floor: an extension page with no wasm and no drawing, which asks the running
// session for its state as ui.html does and reports when the state arrives.
const REOPEN_FLOOR_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>reopen floor</title>
<script type="module" src="reopen-floor.js"></script></head><body></body></html>
`;
const REOPEN_FLOOR_JS = `// Benchmark tooling (bench/browser.mjs), never part of the product.
const channel = new BroadcastChannel('port-session');
channel.onmessage = (event) => {
  if (event.data?.type === 'state' && event.data.page) {
    channel.close();
    console.debug('__bench state ' + JSON.stringify({ t: performance.now() }));
  }
};
channel.postMessage({ type: 'attach' });
`;

const BENCH_WORKER_JS = `// Benchmark tooling (bench/browser.mjs), never part of the product.
self.onmessage = async (event) => {
  try {
    const t0 = performance.now();
    const { loadPyodide } = await import('./pyodide/pyodide.mjs');
    const t1 = performance.now();
    const pyodide = await loadPyodide({ indexURL: event.data.indexURL });
    const t2 = performance.now();
    self.postMessage({ importMs: t1 - t0, loadPyodideMs: t2 - t1, version: pyodide.version });
  } catch (error) {
    self.postMessage({ error: String(error && error.stack || error) });
  }
};
`;

// Runs in every ui.html tab before its scripts: records, on the page's clock (ms since navigation
// start), every new study-page heading (`article#page h1`) and every click.
function uiProbe() {
  window.__bench = { headings: [], clicks: [] };
  // Created before the UI's own channel, so this listener hears each state before the UI draws it.
  window.__table = {};
  new BroadcastChannel('port-session').onmessage = (event) => {
    const body = event.data?.page?.body ?? [];
    if (window.__table.state == null && body.some((prompt) => prompt.__type__ === 'PropsUIPromptConsentFormViz')) {
      window.__table.state = performance.now();
    }
  };
  new MutationObserver(() => {
    if (window.__table.state != null && window.__table.rows == null && document.querySelector('#page table tbody tr')) {
      window.__table.rows = performance.now();
    }
  }).observe(document, { childList: true, subtree: true });
  let last = null;
  const look = () => {
    const heading = document.querySelector('#page h1');
    const text = heading ? heading.textContent : null;
    if (text !== last) {
      last = text;
      if (text !== null) {
        const heading = { t: performance.now(), text };
        window.__bench.headings.push(heading);
        // Heard by the benchmark without evaluating anything in the page (see `warmReopen`).
        console.debug(`__bench heading ${JSON.stringify(heading)}`);
      }
    }
  };
  new MutationObserver(look).observe(document, { childList: true, subtree: true, characterData: true });
  document.addEventListener('click', (event) => {
    window.__bench.clicks.push({ t: performance.now(), text: event.target && event.target.textContent });
  }, true);
}

// ---------------------------------------------------------------------------------------------

function median(values) {
  const sorted = values.filter((value) => Number.isFinite(value)).sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

const results = new Map(); // metric → { values: [], note }
function record(metric, value, note = '') {
  if (!results.has(metric)) results.set(metric, { values: [], note });
  results.get(metric).values.push(value);
}

async function launchBrowser(extension, profile) {
  return chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: [
      `--disable-extensions-except=${extension}`,
      `--load-extension=${extension}`,
      '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
  });
}

async function main() {
  if (!existsSync(path.join(sourceExtension, 'manifest.json'))) {
    console.error(`no build at ${sourceExtension}; build it first:\n` +
      "  export PYO3_PYTHON=$(python3 -c 'import sys;print(sys.executable)'); cargo run --quiet --bin port -- build --optimised");
    process.exit(1);
  }
  const work = mkdtempSync(path.join(tmpdir(), 'port-bench-'));
  const extension = path.join(work, 'extension');
  cpSync(sourceExtension, extension, { recursive: true });
  writeFileSync(path.join(extension, 'bench.html'), BENCH_HTML);
  writeFileSync(path.join(extension, 'bench.js'), BENCH_JS);
  writeFileSync(path.join(extension, 'bench-worker.js'), BENCH_WORKER_JS);
  writeFileSync(path.join(extension, 'reopen-floor.html'), REOPEN_FLOOR_HTML);
  writeFileSync(path.join(extension, 'reopen-floor.js'), REOPEN_FLOOR_JS);
  const scriptPath = path.join(extension, 'studies', 'demo', 'script.py');
  const bundled = JSON.parse(readFileSync(path.join(extension, 'build.json'), 'utf8')).bundled_snapshot;
  shipsSnapshot = Boolean(bundled && existsSync(path.join(extension, bundled)));

  const machine = await import('node:os');
  console.log(`extension: ${sourceExtension} (copied to ${extension})`);
  console.log(`machine: ${machine.cpus().length} × ${machine.cpus()[0]?.model}, load average ${machine.loadavg().map((l) => l.toFixed(2)).join(' ')}`);

  const began = Date.now();
  const contexts = [];
  const open = async (profile) => {
    const context = await launchBrowser(extension, profile);
    contexts.push(context);
    return context;
  };
  const close = async (context) => {
    await context.close().catch(() => {});
    contexts.splice(contexts.indexOf(context), 1);
  };
  try {
    if (process.env.BENCH_ONLY === 'P5') {
      const context = await open(path.join(work, 'profile-p5'));
      await step('P5 big donation', async () => bigDonation(context, await openObserver(context)));
      await close(context);
    }
    if (process.env.BENCH_ONLY === 'P2') {
      const context = await open(path.join(work, 'profile-p2'));
      await step('P2 big archive', async () => bigArchive(context, await openObserver(context), scriptPath, work));
      await close(context);
    }
    for (let run = 1; run <= RUNS && !process.env.BENCH_ONLY; run += 1) {
      // The floor: a bare loadPyodide() in a plain extension page of a fresh profile.
      const bareContext = await open(path.join(work, `bare-${run}`));
      await step(`bare loadPyodide ${run} (fresh profile)`, () => bareBoot(bareContext));
      await close(bareContext);

      // The first boot ever: a fresh profile, so no snapshot and no cached code.
      const profile = path.join(work, `profile-${run}`);
      let context = await open(profile);
      await step(`extension boot ${run} (fresh profile)`, async () => {
        const observer = await openObserver(context);
        await extensionBoot(context, observer, 'fresh');
        await waitForStoredSnapshot(context);
        await step(`warm reopen ${run}`, () => warmReopen(context));
      });
      await close(context);

      // A later boot: the browser restarted on the same profile.
      context = await open(profile);
      await step(`extension boot ${run} (after a restart)`, async () => {
        const observer = await openObserver(context);
        await extensionBoot(context, observer, 'restart');
      });
      await close(context);

      // The participant's real path: a host page pushes the study (live-init), the UI tab opens.
      if (admitsLocalHostPage(extension)) {
        const hostProfile = path.join(work, `host-profile-${run}`);
        context = await open(hostProfile);
        await step(`host-page boot ${run} (fresh profile)`, async () => {
          await hostPageBoot(context, work, 'host page, first boot ever (fresh profile)');
          await waitForStoredSnapshot(context);
        });
        await close(context);
        context = await open(hostProfile);
        await step(`host-page boot ${run} (after a restart)`, () => hostPageBoot(context, work, 'host page, later boot (after a restart)'));
        await close(context);
      } else if (run === 1) {
        console.log('  host-page boots: skipped, this build admits no host page on 127.0.0.1 (a release build; measure `port build --optimised`)');
      }
      if (run === RUNS) {
        // The log study in the same copy: replace the demo, restart the session.
        context = await open(profile);
        let fixture = readFileSync(path.join(repo, 'bench', 'fixtures', 'log_study.py'), 'utf8');
        fixture = fixture.replace(/^N_LOGS = \d+/m, `N_LOGS = ${N_LOGS}`).replace(/^N_BATCHES = \d+/m, `N_BATCHES = ${N_BATCHES}`);
        writeFileSync(scriptPath, fixture);
        const observer = await openObserver(context);
        await step('log round trips', () => logRoundTrips(context, observer));
        await step('P2 big archive', () => bigArchive(context, observer, scriptPath, work));
        writeFileSync(scriptPath, readFileSync(path.join(repo, 'bench', 'fixtures', 'table_study.py'), 'utf8'));
        for (let table = 1; table <= RUNS; table += 1) {
          await step(`big table ${table}`, () => bigTable(context, observer));
        }
        await step('P5 big donation', () => bigDonation(context, observer));
        await close(context);
      }
    }
  } finally {
    for (const context of contexts) await context.close().catch(() => {});
    if (process.env.BENCH_KEEP) console.log(`kept ${work}`);
    else rmSync(work, { recursive: true, force: true });
  }
  printTable((Date.now() - began) / 1000);
  console.log(`load average at the end: ${machine.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
}

async function step(name, body) {
  const started = Date.now();
  try {
    await body();
    console.log(`  ${name}: done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  } catch (error) {
    console.log(`  ${name}: FAILED (${error.message.split('\n')[0]}); its figures are missing below`);
  }
}

async function waitForServiceWorker(context) {
  const find = () => context.serviceWorkers().find((worker) => worker.url().startsWith(ORIGIN));
  const deadline = Date.now() + 30_000;
  while (!find() && Date.now() < deadline) {
    await context.waitForEvent('serviceworker', { timeout: 5_000 }).catch(() => {});
  }
  const worker = find();
  if (!worker) throw new Error(`no service worker of ${EXTENSION_ID}`);
  return worker;
}

/// A tab on an extension page that timestamps (epoch ms, the page's clock) every session state.
async function openObserver(context) {
  const page = await context.newPage();
  await page.goto(`${ORIGIN}/manifest.json`);
  await page.evaluate(() => {
    window.portStates = [];
    const channel = new BroadcastChannel('port-session');
    channel.onmessage = (event) => {
      window.portStates.push({ t: performance.timeOrigin + performance.now(), message: event.data });
    };
    window.portChannel = channel;
  });
  return page;
}

/// Closes every ui.html tab and the offscreen document, so the next view starts a cold session.
async function resetSession(context, observer) {
  for (const page of context.pages()) {
    if (page.url().startsWith(`${ORIGIN}/ui.html`)) await page.close();
  }
  const worker = await waitForServiceWorker(context);
  await worker.evaluate(async () => {
    const contexts = await chrome.runtime.getContexts({ contextTypes: ['OFFSCREEN_DOCUMENT'] });
    if (contexts.length > 0) await chrome.offscreen.closeDocument();
  });
  await sleep(300);
  await observer.evaluate(() => { window.portStates = []; });
}

async function openUi(context) {
  const ui = await context.newPage();
  ui.on('pageerror', (error) => console.log(`  [ui error] ${error}`));
  await ui.addInitScript(uiProbe);
  await ui.goto(`${ORIGIN}/ui.html`);
  const origin = await ui.evaluate(() => performance.timeOrigin);
  return { ui, origin };
}

async function poll(read, found, what, timeout = WAIT_MS) {
  const deadline = Date.now() + timeout;
  let last;
  while (Date.now() < deadline) {
    last = await read();
    const hit = found(last);
    if (hit) return hit;
    await sleep(50);
  }
  throw new Error(`timed out waiting for ${what}; last seen: ${JSON.stringify(last)?.slice(0, 300)}`);
}

const firstStudyHeading = (ui, after = -Infinity) => poll(
  () => ui.evaluate(() => window.__bench.headings),
  (headings) => headings.find((heading) => heading.t > after),
  'a study page heading');

async function extensionBoot(context, observer, kind) {
  await resetSession(context, observer);
  const { ui, origin } = await openUi(context);
  const heading = await firstStudyHeading(ui);
  const states = await poll(
    () => observer.evaluate(() => window.portStates),
    (states) => (states.some((entry) => entry.message.page_seq >= 1) ? states : null),
    'the first page state');
  const bootAt = (step) => states.find((entry) =>
    entry.message.status?.state === 'booting' && entry.message.status.step === step)?.t;
  const start = states.find((entry) => entry.message.status?.state === 'booting')?.t;
  // A build that ships a snapshot boots from it on a fresh profile too.
  const fromSnapshot = bootAt('snapshot') !== undefined;
  const python = bootAt('snapshot') ?? bootAt('pyodide');
  const [runtime, study] = [bootAt('runtime'), bootAt('study')];
  const pageAt = states.find((entry) => entry.message.page_seq >= 1)?.t;
  const label = kind === 'fresh' ? 'first boot ever (fresh profile)' : 'later boot (after a restart)';
  record(`${label}: ui.html opened → first study heading`, heading.t, `heading "${heading.text}"`);
  record(`${label}: ui.html opened → offscreen up`, start - origin);
  record(`${label}: offscreen up → worker booting Python`, python - start);
  if (fromSnapshot) {
    record(`${label}: Pyodide from the snapshot`, study - python, 'compare: bare loadPyodide()');
  } else {
    record(`${label}: loadPyodide()`, runtime - python, 'compare: bare loadPyodide()');
    record(`${label}: runtime wheel + glue`, study - runtime);
  }
  record(`${label}: study load + first cycle → first page state`, pageAt - study);
  await ui.close();
}

/// Whether the build lets a page on 127.0.0.1 push studies (development builds do).
function admitsLocalHostPage(extension) {
  const manifest = JSON.parse(readFileSync(path.join(extension, 'manifest.json'), 'utf8'));
  return (manifest.externally_connectable?.matches ?? []).some((pattern) => pattern.includes('127.0.0.1'));
}

/// `port host --study` with the demo's config (its script inline) serves a host page that pushes
/// the demo with live-init; from that page's navigation start to the first study heading in the UI tab the
/// extension opens.
async function hostPageBoot(context, work, label) {
  const { spawn } = await import('node:child_process');
  const portBin = path.join(repo, 'target', 'debug', 'port');
  const dir = mkdtempSync(path.join(work, 'host-'));
  // A config from a web page cannot point at files inside the extension: the script goes inline.
  const study = JSON.parse(readFileSync(path.join(repo, 'studies', 'demo', 'study.json'), 'utf8'));
  study.script = { source: readFileSync(path.join(repo, 'studies', 'demo', 'script.py'), 'utf8') };
  const studyFile = path.join(dir, 'study.json');
  writeFileSync(studyFile, JSON.stringify(study));
  const host = spawn(portBin, ['host', '--port', '0', '--dir', dir, '--study', studyFile],
    { stdio: ['ignore', 'ignore', 'pipe'] });
  try {
    const url = await new Promise((resolve, reject) => {
      let stderr = '';
      host.stderr.setEncoding('utf8');
      host.stderr.on('data', (chunk) => {
        stderr += chunk;
        const match = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(stderr);
        if (match) resolve(match[1]);
      });
      host.on('exit', (code) => reject(new Error(`port host exited with ${code}: ${stderr}`)));
    });
    await context.addInitScript(uiProbe);
    const hostPage = await context.newPage();
    await hostPage.goto(`${url}/study`);
    const start = await hostPage.evaluate(() => performance.timeOrigin);
    // The tab the extension opens is announced before it navigates, so look for it by its URL.
    const ui = await poll(
      async () => context.pages().find((page) => page.url().startsWith(`${ORIGIN}/ui.html`)),
      (page) => page,
      'the UI tab the host page opens');
    const heading = await firstStudyHeading(ui);
    const origin = await ui.evaluate(() => performance.timeOrigin);
    record(`${label}: host page opened → first study heading in the UI tab`, origin + heading.t - start, `heading "${heading.text}"`);
    await ui.close();
    await hostPage.close();
  } finally {
    host.kill();
  }
}

/// The store holds a snapshot once the first boot made it; the restart boot needs it there. A
/// build that ships a snapshot makes none (nothing to wait for).
async function waitForStoredSnapshot(context) {
  if (shipsSnapshot) return;
  const page = await context.newPage();
  await page.goto(`${ORIGIN}/manifest.json`);
  await poll(
    () => page.evaluate(async () => (await (await caches.open('port-runtime-snapshots')).keys()).length),
    (count) => count > 0,
    'a stored runtime snapshot', 30_000);
  await page.close();
}

/// A second view while the session waits on its first page: from opening ui.html to the page;
/// then, as its floor, `reopen-floor.html` to the session's state. Nothing is evaluated in either
/// page until it is done: Playwright's first evaluation injects its own script (330 KB), which took
/// 10 ms and more of the page's thread in the middle of a reopen.
async function warmReopen(context) {
  for (let reopen = 1; reopen <= REOPENS; reopen += 1) {
    record('warm reopen: ui.html opened → current page heading', await timeToConsoleMark(context, 'ui.html', 'heading'), 'target ≤ 100 ms');
    record('warm reopen floor: a page without wasm opened → the session\'s state', await timeToConsoleMark(context, 'reopen-floor.html', 'state'), 'the floor');
  }
}

/// Opens `page` of the extension and returns the `t` of its first `__bench <mark>` console message.
async function timeToConsoleMark(context, page, mark) {
  const tab = await context.newPage();
  tab.on('pageerror', (error) => console.log(`  [${page} error] ${error}`));
  await tab.addInitScript(uiProbe);
  const marked = new Promise((resolve) => tab.on('console', (message) => {
    const found = new RegExp(`^__bench ${mark} (.*)$`).exec(message.text());
    if (found) resolve(JSON.parse(found[1]).t);
  }));
  await tab.goto(`${ORIGIN}/${page}`, { waitUntil: 'commit' });
  const t = await Promise.race([marked, sleep(WAIT_MS).then(() => { throw new Error(`no ${mark} in ${page}`); })]);
  await tab.close();
  return t;
}

async function bareBoot(context) {
  await waitForServiceWorker(context);
  const bare = await context.newPage();
  await bare.goto(`${ORIGIN}/bench.html`);
  await bare.waitForFunction(() => window.benchReady === true);
  const result = await bare.evaluate(() => window.runBare());
  record('bare: loadPyodide() in a module worker (fresh profile)', result.loadPyodideMs, 'the floor');
  record('bare: new Worker → Pyodide ready (fresh profile)', result.workerStartToReadyMs);
  await bare.close();
  return result;
}

async function logRoundTrips(context, observer) {
  await resetSession(context, observer);
  const { ui } = await openUi(context);
  let heading = await firstStudyHeading(ui);
  if (heading.text !== 'Bench: start') {
    throw new Error(`the log fixture did not run: first heading is "${heading.text}"`);
  }
  console.log(`  (log study booted: first page ${heading.t.toFixed(0)} ms after opening ui.html)`);
  const answer = async (expected) => {
    const previous = heading;
    const next = ui.getByRole('button', { name: 'Next', exact: true });
    await next.waitFor({ timeout: WAIT_MS });
    await next.click();
    heading = await poll(
      () => ui.evaluate(() => window.__bench.headings),
      (headings) => headings.find((entry) => entry.t > previous.t && entry.text === expected),
      `heading "${expected}"`);
    const clicks = await ui.evaluate(() => window.__bench.clicks);
    const click = clicks.filter((entry) => entry.t > previous.t && entry.t < heading.t).at(0);
    return heading.t - click.t;
  };
  const control = await answer('Bench: control');
  record('log: answer → next page, no commands between (control)', control);
  for (let batch = 1; batch <= N_BATCHES; batch += 1) {
    const total = await answer(`Bench: batch ${batch}`);
    record(`log: answer → next page, ${N_LOGS} logs between`, total);
    record('log: per log command (total / N)', total / N_LOGS);
    record('log: per log command ((total − control) / N)', (total - control) / N_LOGS);
  }
  await ui.close();
}

// P2: a 1 GiB file (a hole, then a zip whose 16 MiB member of random bytes is read) made by Python.
const BIG_ZIP_PY = `
import io, os, random, sys, zipfile
path, hole = sys.argv[1], 1024 ** 3
buffer = io.BytesIO()
with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
    archive.writestr("bench/readme.txt", "a hole of 1 GiB, then this zip")
    archive.writestr("bench/member.bin", random.Random(7).randbytes(16 * 1024 * 1024))
with open(path, "wb") as file:
    file.truncate(hole)
    file.seek(hole)
    file.write(buffer.getvalue())
`;
const NATIVE_READ_PY = `
import sys, time, zipfile
started = time.perf_counter()
with zipfile.ZipFile(sys.argv[1]) as archive:
    n_bytes = len(archive.read("bench/member.bin"))
print((time.perf_counter() - started) * 1000)
`;

/// P2: the same member read by native CPython's zipfile, then in the browser through the slice
/// reader (bench/fixtures/archive_study.py), on the same file.
async function bigArchive(context, observer, scriptPath, work) {
  const { execFileSync } = await import('node:child_process');
  const python = process.env.PYTHON ?? 'python3';
  const file = path.join(work, 'big.zip');
  execFileSync(python, ['-c', BIG_ZIP_PY, file]);
  for (let run = 1; run <= RUNS; run += 1) {
    record('P2 native CPython zipfile: read a 16 MiB member at the end of a 1 GiB zip', Number(execFileSync(python, ['-c', NATIVE_READ_PY, file], { encoding: 'utf8' })), 'the floor');
  }
  let fixture = readFileSync(path.join(repo, 'bench', 'fixtures', 'archive_study.py'), 'utf8');
  writeFileSync(scriptPath, fixture.replace(/^N_READS = \d+/m, `N_READS = ${RUNS}`));
  await resetSession(context, observer);
  const { ui } = await openUi(context);
  for (let run = 1; run <= RUNS; run += 1) {
    const chooser = ui.getByLabel('Choose a file');
    await ui.getByRole('heading', { name: `Bench: choose ${run}` }).waitFor({ timeout: WAIT_MS });
    await chooser.setInputFiles(file);
    const memory = sampleRendererMemory();
    await ui.getByRole('button', { name: 'Continue' }).click();
    const heading = ui.getByRole('heading', { name: /^Bench: read / });
    await heading.waitFor({ timeout: WAIT_MS });
    const headingText = await heading.innerText();
    record('P2 browser (Pyodide, slice reader): the same read', Number(/in ([\d.]+) ms/.exec(headingText)[1]), 'target ≤ 3 × native');
    record('P2 memory: Pyodide\'s wasm memory grew during the read (MiB, not ms)', Number(/wasm memory \+(\d+) MiB/.exec(headingText)?.[1]),
      'the worker\'s Python heap, which never shrinks');
    record('P2 memory: the most one renderer grew during the read (MiB, not ms)', memory.stop().growthMiB,
      'target ≤ 64 MiB + the 16 MiB member; the first read grows Pyodide\'s memory, later ones reuse it');
    await ui.getByRole('button', { name: 'Next', exact: true }).click();
    await heading.waitFor({ state: 'detached', timeout: WAIT_MS });
  }
  await ui.close();
  rmSync(file, { force: true });
}

/// P4: the consent form of bench/fixtures/table_study.py (50 010 rows, cut at 50 000) in the real
/// UI. Event handlers run synchronously, so each interaction is timed around its dispatch.
async function bigTable(context, observer) {
  await resetSession(context, observer);
  const { ui } = await openUi(context);
  const next = ui.getByRole('button', { name: 'Next', exact: true });
  await next.waitFor({ timeout: WAIT_MS });
  await next.click();
  const drawn = await poll(() => ui.evaluate(() => window.__table), (times) => (times.rows && times.state ? times : null), 'the big table');
  record('P4 table: state arrives → first rows drawn', drawn.rows - drawn.state, 'target ≤ 200 ms');
  const timed = (script) => ui.evaluate(script);
  record('P4 table: search keystroke → rows updated', await timed(() => {
    const input = document.querySelector('#page input[type=search]');
    const started = performance.now();
    input.value = 'match';
    input.dispatchEvent(new Event('input', { bubbles: true }));
    return performance.now() - started;
  }), 'target ≤ 50 ms');
  const found = await ui.locator('#page .counts').first().innerText();
  record('P4 table: delete every row found', await timed(() => {
    const button = [...document.querySelectorAll('#page button')].find((element) => element.textContent.startsWith('Delete all'));
    const started = performance.now();
    button.click();
    return performance.now() - started;
  }), `target ≤ 100 ms; search showed "${found}"`);
  record('P4 table: undo', await timed(() => {
    const started = performance.now();
    document.querySelector('#page [data-focus=undo]').click();
    return performance.now() - started;
  }), 'target ≤ 100 ms');
  // Delete them again and donate: the donation must hold the other rows, and only the first 50 000.
  await timed(() => [...document.querySelectorAll('#page button')].find((element) => element.textContent.startsWith('Delete all')).click());
  await ui.getByRole('button', { name: 'Yes, share for research' }).click();
  await ui.getByRole('heading', { name: 'Bench: done' }).waitFor({ timeout: WAIT_MS });
  const donated = await ui.evaluate(async () => {
    const list = await chrome.runtime.sendMessage({ target: 'background', type: 'list-local-donations' });
    const donation = list.donations.filter((entry) => entry.key.endsWith('-bench-table')).at(-1);
    const cache = await caches.open('port-donation-bodies');
    const body = await cache.match(`https://donation-body.invalid/${donation.session_id}/${donation.key}/${donation.body.sha256}`);
    const [table] = JSON.parse(await body.text());
    return { rows: table.bench_table.length, deleted: table['deleted row count'], matching: table.bench_table.filter((row) => row.Title.includes('match')).length };
  });
  const right = donated.rows === 45_000 && donated.deleted === '5000' && donated.matching === 0;
  console.log(`  P4 donation: ${donated.rows} rows, ${donated.deleted} deleted, ${donated.matching} found rows left (${right ? 'right' : 'WRONG: expected 45000, 5000, 0'})`);
  await ui.close();
}

/// A loopback host for P5: serves the study config, and takes POSTs, noting when each body's last
/// byte arrived and its size.
async function startSink(config) {
  const { createServer } = await import('node:http');
  const received = [];
  const server = createServer((request, response) => {
    const headers = { 'Access-Control-Allow-Origin': '*', 'Access-Control-Allow-Headers': '*' };
    if (request.method === 'OPTIONS') return response.writeHead(204, headers).end();
    if (request.method === 'GET') return response.writeHead(200, { ...headers, 'Content-Type': 'application/json' }).end(JSON.stringify(config()));
    let n_bytes = 0;
    request.on('data', (chunk) => { n_bytes += chunk.length; });
    request.on('end', () => {
      received.push({ path: request.url, n_bytes, at: Date.now() });
      response.writeHead(200, { ...headers, 'Content-Type': 'application/json' }).end('{"status":"ok"}');
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${server.address().port}`, received, close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(resolve); }) };
}

/// P5: 200 MB through the review page and the outbox to an http host, RUNS times, each against a
/// plain POST of the same number of bytes from an extension page to the same host.
async function bigDonation(context, observer) {
  const source = readFileSync(path.join(repo, 'bench', 'fixtures', 'donation_study.py'), 'utf8');
  let sink;
  sink = await startSink(() => ({
    schema: 'port-study/1', id: 'bench-big', version: '1.0.0', title: 'Bench big donation', description: 'P5',
    script: { source }, locales: ['en'], donate: { mode: 'http', url: `${sink.url}/donate` }, ack_timeout_s: 120,
  }));
  try {
    await resetSession(context, observer);
    const { ui } = await openUi(context);
    const added = await ui.evaluate((url) => chrome.runtime.sendMessage({ target: 'background', type: 'add-study-link', url }), `${sink.url}/study.json`);
    if (!JSON.stringify(added).includes('bench-big')) throw new Error(`the study link was not added: ${JSON.stringify(added)}`);
    await ui.close();
    for (let run = 1; run <= RUNS; run += 1) {
      await resetSession(context, observer);
      const page = await context.newPage();
      await page.goto(`${ORIGIN}/ui.html`);
      const memory = sampleRendererMemory();
      await page.evaluate(() => chrome.runtime.sendMessage({ target: 'background', type: 'start-study', study_id: 'bench-big' }));
      const send = page.getByRole('button', { name: 'Send', exact: true });
      await send.waitFor({ timeout: WAIT_MS * 2 });
      const before = sink.received.length;
      const clicked = Date.now();
      await send.click();
      const arrived = await poll(async () => sink.received.slice(before).find((entry) => entry.path === '/donate'), (entry) => entry, 'the donation at the host', WAIT_MS * 2);
      record('P5 donation: Send → host has the last byte (200 MB, outbox)', arrived.at - clicked, `${arrived.n_bytes} bytes`);
      record('P5 memory: the largest renderer process at its peak, study start → host has the last byte (MiB, not ms)', memory.stop().peakMiB,
        'the study itself holds its 200 MB text and builds it from 200 MB of pieces');
      await page.getByRole('heading', { name: 'Bench: donated' }).waitFor({ timeout: WAIT_MS });
      const plain = await page.evaluate(async ({ url, n_bytes }) => {
        const blob = new Blob([new Uint8Array(n_bytes).fill(0x61)], { type: 'application/json' });
        const started = Date.now();
        const response = await fetch(url, { method: 'POST', body: blob });
        await response.text();
        return { started, status: response.status };
      }, { url: `${sink.url}/plain`, n_bytes: arrived.n_bytes });
      const plainEntry = sink.received.findLast((entry) => entry.path === '/plain');
      record('P5 floor: a plain fetch POST of the same bytes → host has the last byte', plainEntry.at - plain.started, 'the floor');
      await page.close();
    }
  } finally {
    await sink.close();
  }
}

function printTable(seconds) {
  const rows = [['metric', 'median ms', 'runs', 'each run (ms)']];
  for (const [metric, { values, note }] of results) {
    const precise = values.every((value) => Math.abs(value) < 10);
    const format = (value) => (Number.isFinite(value) ? value.toFixed(precise ? 2 : 0) : 'n/a');
    rows.push([metric + (note ? `  [${note}]` : ''), format(median(values)), String(values.length),
      values.map(format).join(', ')]);
  }
  const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => row[column].length)));
  const line = (row) => row.map((cell, column) =>
    (column === 1 || column === 2 ? cell.padStart(widths[column]) : cell.padEnd(widths[column]))).join(' | ');
  console.log('');
  console.log(line(rows[0]));
  console.log(widths.map((width) => '-'.repeat(width)).join('-|-'));
  for (const row of rows.slice(1)) console.log(line(row));
  const medianOf = (metric) => median(results.get(metric)?.values ?? []);
  const floor = medianOf('bare: loadPyodide() in a module worker (fresh profile)');
  console.log('');
  for (const [label, metric, target] of [
    ['host page, first boot ever', 'host page, first boot ever (fresh profile): host page opened → first study heading in the UI tab', '≤ 1.3 ×'],
    ['host page, later boot', 'host page, later boot (after a restart): host page opened → first study heading in the UI tab', '≤ 0.5 ×'],
    ['first boot ever', 'first boot ever (fresh profile): ui.html opened → first study heading', '≤ 1.3 ×'],
    ['later boot', 'later boot (after a restart): ui.html opened → first study heading', '≤ 0.5 ×'],
  ]) {
    const value = medianOf(metric);
    console.log(`${label}: ${value.toFixed(0)} ms = ${(value / floor).toFixed(2)} × bare loadPyodide() (${floor.toFixed(0)} ms); target ${target}`);
  }
  const reopen = medianOf('warm reopen: ui.html opened → current page heading');
  const reopenFloor = medianOf('warm reopen floor: a page without wasm opened → the session\'s state');
  console.log(`warm reopen: ${reopen.toFixed(0)} ms = ${(reopen / reopenFloor).toFixed(2)} × a page without wasm getting the state (${reopenFloor.toFixed(0)} ms); target ≤ 100 ms`);
  const p3 = medianOf(`log: answer → next page, ${N_LOGS} logs between`);
  const p3Control = medianOf('log: answer → next page, no commands between (control)');
  console.log(`P3: ${N_LOGS} log round trips between two pages ${p3.toFixed(0)} ms against ${p3Control.toFixed(0)} ms without: ${((p3 - p3Control) / N_LOGS).toFixed(2)} ms per round trip`);
  const p2 = medianOf('P2 browser (Pyodide, slice reader): the same read');
  const p2Native = medianOf('P2 native CPython zipfile: read a 16 MiB member at the end of a 1 GiB zip');
  console.log(`P2: ${p2.toFixed(0)} ms = ${(p2 / p2Native).toFixed(2)} × native CPython (${p2Native.toFixed(0)} ms); target ≤ 3 ×`);
  const p2Growth = results.get('P2 memory: the most one renderer grew during the read (MiB, not ms)')?.values ?? [];
  const p2Wasm = results.get('P2 memory: Pyodide\'s wasm memory grew during the read (MiB, not ms)')?.values ?? [];
  console.log(`P2 memory: Pyodide's wasm memory grew by at most ${Math.max(...p2Wasm).toFixed(0)} MiB in any read, the renderer by at most ${Math.max(...p2Growth).toFixed(0)} MiB (first read ${p2Growth[0]?.toFixed(0)} MiB); target ≤ 80 MiB (64 MiB + the member)`);
  for (const [metric, target] of [
    ['P4 table: state arrives → first rows drawn', 200],
    ['P4 table: search keystroke → rows updated', 50],
    ['P4 table: delete every row found', 100],
    ['P4 table: undo', 100],
  ]) {
    console.log(`${metric}: ${medianOf(metric).toFixed(0)} ms; target ≤ ${target} ms`);
  }
  const p5 = medianOf('P5 donation: Send → host has the last byte (200 MB, outbox)');
  const p5Plain = medianOf('P5 floor: a plain fetch POST of the same bytes → host has the last byte');
  console.log(`P5: ${p5.toFixed(0)} ms = ${(p5 / p5Plain).toFixed(2)} × a plain POST (${p5Plain.toFixed(0)} ms); target ≤ 2 ×`);
  const p5Memory = medianOf('P5 memory: the largest renderer process at its peak, study start → host has the last byte (MiB, not ms)');
  console.log(`P5 memory: the largest renderer peaked at ${p5Memory.toFixed(0)} MiB for a 200 MB donation`);
  console.log(`\n(${seconds.toFixed(0)} s in all; medians of ${RUNS} runs; figures vary with machine load)`);
}

main().catch((error) => {
  console.error(`benchmark could not run: ${error.stack ?? error}`);
  process.exit(1);
});
