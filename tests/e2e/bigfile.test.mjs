// A file larger than 2 GiB works in the browser: the study gets a lazy reader, zipfile finds the
// small archive at the end of a sparse 2 GiB + 4 MiB file, and only a few kilobytes are read.
//
// A fixture copy of dist/extension runs tests/e2e/fixtures/bigfile_study.py (logging to the real
// `port host` through dev-bridge.json); Playwright chooses the file by path, which for a local
// browser hands Chromium the path (DOM.setFileInputFiles), so the file is never copied or loaded.
//
// Build first (`port build`), then `node --test tests/e2e/bigfile.test.mjs`. Helpers: ./support.mjs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, rmSync, statSync, writeSync, ftruncateSync } from 'node:fs';
import path from 'node:path';
import { extensionDir, fixtureExtension, launch, openUi, repo, sleep, startDevHost, tempDir, waitForState } from './support.mjs';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const CONTENT = 'hello from the end';
const study = readFileSync(path.join(repo, 'tests/e2e/fixtures/bigfile_study.py'), 'utf8');

/// A small zip made by Python's zipfile: `hello.txt` holding CONTENT.
function smallZip() {
  const code = [
    'import io, sys, zipfile',
    'buffer = io.BytesIO()',
    `with zipfile.ZipFile(buffer, "w") as archive: archive.writestr("hello.txt", ${JSON.stringify(CONTENT)})`,
    'sys.stdout.buffer.write(buffer.getvalue())',
  ].join('\n');
  return execFileSync(process.env.PYTHON ?? 'python3', ['-c', code]);
}

/// A sparse file of `zerosLength` bytes of nothing (a hole, never written), then `zip`. The zip's
/// offsets count from its own start; zipfile accepts data before an archive and finds it from the end.
function sparseFileWithZipAtEnd(file, zerosLength, zip) {
  const fd = openSync(file, 'w');
  try {
    ftruncateSync(fd, zerosLength);
    assert.equal(writeSync(fd, zip, 0, zip.length, zerosLength), zip.length);
  } finally {
    closeSync(fd);
  }
}

test('bigfile: a zip at the end of a file over 2 GiB is read by slices in the browser', { timeout: 90_000 }, async () => {
  assert.ok(existsSync(path.join(extensionDir, 'manifest.json')), `no build at ${extensionDir}; run \`port build\` first`);
  const dir = tempDir('bigfile');
  let host;
  let fixture;
  let browser;
  try {
    const big = path.join(dir, 'large.zip');
    sparseFileWithZipAtEnd(big, 2 * GiB + 4 * MiB, smallZip());
    const { size, blocks } = statSync(big);
    assert.ok(size > 2 * GiB, `${size} bytes`);
    // Sparse where the file system allows it (st_blocks counts 512-byte blocks actually stored).
    if (blocks != null) assert.ok(blocks * 512 < 64 * MiB, `the big file takes ${blocks * 512} bytes on disk`);

    host = await startDevHost();
    fixture = fixtureExtension(study, { devBridgeUrl: host.url });
    browser = await launch({ extension: fixture.dir });
    const { page, errors } = await openUi(browser.context);
    const chooser = page.getByLabel('Choose a file');
    await chooser.waitFor({ timeout: 60_000 });
    // A path, not a buffer: a local Chromium opens the file itself.
    await chooser.setInputFiles(big);
    await page.getByRole('button', { name: 'Continue' }).click();

    const heading = page.getByRole('heading', { name: `read '${CONTENT}' from a ${size}-byte file` });
    await heading.waitFor({ timeout: 30_000 });
    const text = await page.locator('main').innerText();
    const bytesRead = Number(/bytes read through the adapter: (\d+)/.exec(text)?.[1]);
    assert.ok(Number.isInteger(bytesRead) && bytesRead > 0, `no byte count on the page:\n${text}`);
    assert.ok(bytesRead < 10 * MiB, `the study read ${bytesRead} bytes of a ${size}-byte file`);

    // The study's log reached the dev host, with the size the reader reported.
    const deadline = Date.now() + 10_000;
    while (!/bytes_read=/.test(host.output()) && Date.now() < deadline) await sleep(100);
    assert.match(host.output(), new RegExp(`size=${size} adapter=AsyncFileAdapter`));
    assert.match(host.output(), new RegExp(`bytes_read=${bytesRead} `));

    await page.getByRole('button', { name: 'Finish' }).click();
    const finished = await waitForState(page, (state) => state.status.state === 'finished', 30_000);
    assert.equal(finished.status.code, 0);
    assert.deepEqual(errors, []);
    assert.deepEqual(await host.donations(), []);
  } finally {
    await browser?.close();
    await host?.close();
    fixture?.cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
});
