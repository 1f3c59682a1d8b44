// Bad data packages in the browser: one session meets a zip bomb, an encrypted export, a .tgz, a
// truncated download and an HTML-format export, each with its own page, then reads a ZIP64 file
// of more than 4 GiB, a zip made on Windows and a valid control, and goes on to a valid file.
//
// The files come from the corpus generator the native corpus test uses (tests/corpus/generate.py);
// the big one is sparse. The study is the demo study, looped so one session takes several files:
// each data round donates under its own key to `port host`.
//
// Build first (`port build`), then `node --test tests/e2e/badpackages.test.mjs`. Helpers: ./support.mjs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fixtureExtension, generateDdp, launch, openUi, repo, sessionId, startDevHost, tempDir, waitForState } from './support.mjs';

const python = process.env.PYTHON ?? 'python3';
const PROBLEM_SAMPLES = ['bomb_under_limit.zip', 'encrypted_zipcrypto.zip', 'tar_gz.tgz', 'truncated_half.zip', 'html_export.zip'];
const DATA_SAMPLES = ['zip64_beyond_4gib.zip', 'backslash_names.zip', 'control.zip'];

// The demo study, whose flow runs once per data file; rounds donate under their own keys.
const LOOPED_DEMO = `${readFileSync(path.join(repo, 'studies/demo/script.py'), 'utf8')}

ROUNDS = ${DATA_SAMPLES.length + 1}


class RoundFlow(DemoFlow):
    def __init__(self, session_id, round_number):
        super().__init__(session_id)
        self.round_number = round_number

    def donation_key(self):
        return f"{self.session_id}-round{self.round_number}"


def process(session_id, platform=None):
    for round_number in range(1, ROUNDS + 1):
        outcome = yield from RoundFlow(session_id, round_number).start_flow()
        yield from ph.emit_log("info", f"Round {round_number}: {outcome}")
    _ = yield ph.render_page(
        _t("All files read", "Alle bestanden gelezen"),
        PropsUIPromptConfirm(_t("That was the last file.", "Dat was het laatste bestand."), _t("Finish", "Afronden"), _t("Close", "Sluiten")),
    )
`;

/// The samples, written by the corpus generator, with their expectations.
function writeSamples(dir) {
  const names = [...PROBLEM_SAMPLES, ...DATA_SAMPLES];
  execFileSync(python, [path.join(repo, 'tests/corpus/generate.py'), dir, '--only', names.join(',')], { stdio: 'inherit' });
  const manifest = JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
  return Object.fromEntries(manifest.map((entry) => [entry.file, entry.expect]));
}

/// Each problem kind's English page header, from the runtime's own words.
function problemHeaders() {
  const code = [
    'import json',
    'from port.helpers.problems import KINDS, UploadProblem, problem_texts',
    "print(json.dumps({k: problem_texts(UploadProblem(k), 'Demo platform')['header']['en'] for k in KINDS}))",
  ].join('\n');
  const env = { ...process.env, PYTHONPATH: path.join(repo, 'python'), PYTHONDONTWRITEBYTECODE: '1' };
  return JSON.parse(execFileSync(python, ['-c', code], { env, encoding: 'utf8' }));
}

async function chooseFile(page, file) {
  const chooser = page.getByLabel('Choose a file');
  await chooser.waitFor({ timeout: 60_000 });
  await chooser.setInputFiles(file);
  await page.getByRole('button', { name: 'Continue' }).click();
}

function rowCounts(donation) {
  return Object.fromEntries(
    JSON.parse(donation).flatMap((table) => Object.entries(table).filter(([, rows]) => Array.isArray(rows)).map(([id, rows]) => [id, rows.length])),
  );
}

test('bad packages: one session shows each problem page, reads ZIP64 and Windows zips, and goes on', { timeout: 240_000 }, async () => {
  const dir = tempDir('badpackages');
  let host;
  let fixture;
  let browser;
  try {
    const expected = writeSamples(dir);
    const headers = problemHeaders();
    host = await startDevHost();
    fixture = fixtureExtension(LOOPED_DEMO, { devBridgeUrl: host.url });
    browser = await launch({ extension: fixture.dir });
    const { page, errors } = await openUi(browser.context);

    for (const name of PROBLEM_SAMPLES) {
      await chooseFile(page, path.join(dir, name));
      const kind = expected[name].problem;
      if (kind === 'unreadable') {
        // A recognised download: the demo asks what to review, then finds its files unreadable.
        await page.getByRole('radio').first().waitFor({ timeout: 30_000 });
        await page.getByRole('radio').first().check();
        await page.getByRole('button', { name: 'Continue' }).click();
      }
      const header = headers[kind];
      await page.getByRole('heading', { name: header }).waitFor({ timeout: 30_000 });
      await page.getByRole('button', { name: 'Choose another file' }).click();
    }
    const session = await sessionId(page);

    const dataFiles = [...DATA_SAMPLES.map((name) => path.join(dir, name)), generateDdp(dir)];
    for (const [index, file] of dataFiles.entries()) {
      await chooseFile(page, file);
      await page.getByRole('radio').first().waitFor({ timeout: 30_000 });
      await page.getByRole('radio').first().check();
      await page.getByRole('button', { name: 'Continue' }).click();
      await page.getByRole('heading', { name: 'Your Demo platform data' }).waitFor({ timeout: 30_000 });
      await page.getByRole('button', { name: 'Yes, share for research' }).click();
      const donation = await host.waitFor(String(session), `${session}-round${index + 1}`);
      const tables = expected[path.basename(file)]?.tables ?? { demo_watch_history: 20, demo_searches: 10, demo_profile: 3 };
      if (index < DATA_SAMPLES.length) assert.deepEqual(rowCounts(donation), tables, `${path.basename(file)} donates its rows`);
      else assert.ok(rowCounts(donation).demo_watch_history > 0, 'the valid file after the samples donates its watch history');
    }

    await page.getByRole('heading', { name: 'All files read' }).waitFor({ timeout: 30_000 });
    await page.getByRole('button', { name: 'Finish' }).click();
    const finished = await waitForState(page, (state) => state.status.state === 'finished', 30_000);
    assert.equal(finished.status.code, 0);
    // Every problem was logged by kind, and the bomb cost a count, not the worker.
    const log = host.output();
    for (const name of PROBLEM_SAMPLES) assert.match(log, new RegExp(`Validation problem: ${expected[name].problem}`));
    assert.match(log, /CompressionRatioTooHigh/);
    assert.deepEqual(errors, []);
  } finally {
    await browser?.close();
    await host?.close();
    fixture?.cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
});
