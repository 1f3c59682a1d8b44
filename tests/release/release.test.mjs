// The release build (`port build --release`): what goes to the Web Store, and that the optimised
// wasm still runs the demo study and a study from an https link, both in the sandbox. Run after
// `port build --release`; ./dev test does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:https';
import path from 'node:path';

import {
  addStudyLink, demoToConsent, generateDdp, launch, openUi, repo, sendOnReview, studyConfig, tempDir,
} from '../e2e/support.mjs';

const version = readFileSync(path.join(repo, 'Cargo.toml'), 'utf8').match(/^version = "(.+)"/m)[1];
const releaseDir = path.join(repo, 'dist', 'release');
const extensionDir = path.join(releaseDir, 'extension');
const zipPath = path.join(releaseDir, `port-extension-${version}.zip`);

/// `{name: text}` of the zip's small text entries, read with Python's zipfile.
function zipEntries() {
  const script = `
import json, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as archive:
    print(json.dumps({info.filename: (archive.read(info).decode() if info.filename.endswith(('.json', '.html', '.js')) and info.file_size < 200000 else info.file_size) for info in archive.infolist()}))
`;
  return JSON.parse(execFileSync('python3', ['-c', script, zipPath], { encoding: 'utf8', maxBuffer: 64 << 20 }));
}

test('release: the Web Store zip has no key, no dev host and no dev bridge', () => {
  assert.ok(existsSync(zipPath), `no zip at ${zipPath}; run port build --release`);
  const entries = zipEntries();
  const manifest = JSON.parse(entries['manifest.json']);
  assert.equal(manifest.version, version);
  assert.equal(manifest.key, undefined, 'the Web Store refuses a manifest key');
  const origins = JSON.stringify([manifest.externally_connectable ?? {}, manifest.host_permissions ?? []]);
  assert.ok(!origins.includes('127.0.0.1') && !origins.includes('localhost'), `dev origins in release: ${origins}`);
  assert.equal(entries['dev-bridge.json'], 'null');
  assert.deepEqual(manifest.sandbox, { pages: ['sandbox.html'] }, 'study scripts run in the sandbox page');
  assert.match(manifest.content_security_policy?.sandbox ?? '', /^sandbox allow-scripts; default-src 'none';/);
  for (const name of ['background.js', 'offscreen.html', 'ui.html', 'sandbox.html', 'sandbox.js', 'worker.js', 'pyodide/pyodide.js', 'pyodide/pyodide.asm.wasm', 'pyodide/pyodide-lock.json']) {
    assert.ok(name in entries, `${name} missing from the zip`);
  }
  assert.ok(Object.keys(entries).some((name) => /^pyodide\/port-.*\.whl$/.test(name)), 'runtime wheel missing');
});

test('release: the optimised build runs the demo study to its consent form', async () => {
  const manifest = JSON.parse(readFileSync(path.join(extensionDir, 'manifest.json'), 'utf8'));
  assert.ok(!JSON.stringify(manifest.host_permissions ?? []).includes('127.0.0.1'), `${extensionDir} is not a release build`);
  const browser = await launch({ extension: extensionDir });
  try {
    const { page, errors } = await openUi(browser.context);
    await demoToConsent(page, generateDdp(tempDir('release-ddp')));
    assert.deepEqual(errors, []);
    assert.deepEqual(browser.swConsole.filter((message) => message.type === 'error'), []);
  } finally {
    await browser.close();
  }
});

test('release: a study from an https link runs in the sandbox', { timeout: 120_000 }, async () => {
  // Release builds take https study links only: a local https server with a throwaway certificate
  // that this browser is told to accept.
  const dir = tempDir('release-tls');
  const keyFile = path.join(dir, 'key.pem');
  const certFile = path.join(dir, 'cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile,
    '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
  const config = JSON.stringify(studyConfig({ platform: 'ReleaseLink' }));
  const server = createServer({ key: readFileSync(keyFile), cert: readFileSync(certFile) }, (request, response) => {
    response.writeHead(200, { 'Content-Type': 'application/json', 'Access-Control-Allow-Origin': '*' }).end(config);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const browser = await launch({ extension: extensionDir, args: ['--ignore-certificate-errors'] });
  try {
    const { page, errors } = await openUi(browser.context);
    await addStudyLink(page, `https://127.0.0.1:${server.address().port}/study.json`);
    await page.getByText('The study tiny was added.').waitFor({ timeout: 30_000 });
    await page.getByRole('button', { name: 'Start the study Tiny study' }).click();
    await sendOnReview(page, /tiny/);
    await page.locator('main').getByText(/answer PayloadResponse success=True status=200 platform=ReleaseLink/).waitFor({ timeout: 60_000 });
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  }
});
