// `port build` is incremental and writes the manifest the extension needs.
//
// Runs the real `target/debug/port build` twice: the second run must write nothing (so this test is
// safe next to the browser tests that node --test runs in parallel against dist/extension: it never
// deletes or rewrites a dist file that is up to date). Then checks the built manifest.
//
// Build first (`cargo build` or `port build`), then `node --test tests/e2e/build.test.mjs`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { extensionDir, repo } from './support.mjs';

const portBin = process.env.PORT_BIN ?? path.join(repo, 'target', 'debug', 'port');
const distDir = path.join(repo, 'dist');

/// Runs `port build`; resolves to its stderr (where the steps are reported). Rejects on failure.
async function portBuild(timeout) {
  const { stderr } = await promisify(execFile)(portBin, ['build'], {
    cwd: repo, timeout, maxBuffer: 64 * 1024 * 1024, encoding: 'utf8',
  }).catch((error) => {
    throw new Error(`port build failed (${error.code ?? error.signal}):\n${error.stderr}`);
  });
  return stderr;
}

/// Relative path -> [size, mtimeMs] of every file under `root`, hidden stamps included.
function snapshot(root) {
  const files = new Map();
  for (const relative of readdirSync(root, { recursive: true })) {
    const stat = statSync(path.join(root, relative));
    if (stat.isFile()) files.set(relative, [stat.size, stat.mtimeMs]);
  }
  return files;
}

/// `[workspace.package] version = "…"` of the root Cargo.toml.
function workspaceVersion() {
  const toml = readFileSync(path.join(repo, 'Cargo.toml'), 'utf8');
  const section = /^\[workspace\.package\]\s*$([\s\S]*?)(?=^\[|(?![\s\S]))/m.exec(toml);
  assert.ok(section, 'Cargo.toml has a [workspace.package] section');
  const version = /^version\s*=\s*"([^"]+)"/m.exec(section[1]);
  assert.ok(version, '[workspace.package] names a version');
  return version[1];
}

test('build: building twice without changes rebuilds nothing', { timeout: 900_000 }, async () => {
  assert.ok(existsSync(portBin), `no port binary at ${portBin}; run \`cargo build\` first`);
  // Only this repo's own dist is built by `port build`; a PORT_E2E_EXTENSION elsewhere is not ours to check.
  assert.equal(path.resolve(extensionDir), path.join(distDir, 'extension'),
    'PORT_E2E_EXTENSION points elsewhere; this test checks the dist/extension that `port build` writes');

  // The first run may write (sources changed since the last build); it brings dist up to date.
  await portBuild(900_000);
  const before = snapshot(extensionDir);
  const second = await portBuild(120_000);
  const after = snapshot(extensionDir);
  assert.ok(before.has('manifest.json') && before.size > 10, `dist/extension holds ${before.size} files`);

  const lines = second.split('\n').filter((line) => line.startsWith('[build] '));
  assert.match(second, /^\[build\] done: .*\(0 files written\)$/m, second);
  // Every step that can write says it wrote nothing / is up to date.
  const bindgen = lines.filter((line) => line.startsWith('[build] bindgen: '));
  assert.ok(bindgen.length >= 1, `no bindgen step reported:\n${second}`);
  for (const line of bindgen) assert.match(line, /: up to date$/, `bindgen rebuilt on a no-change run:\n${second}`);
  assert.match(second, /^\[build\] static: .*\(0 written\)$/m, second);
  assert.match(second, /^\[build\] npm: pyodide \S+ present$/m, 'npm installed nothing');
  assert.doesNotMatch(second, /npm (ci|install)|pip download|wasm-bindgen --target|wasm-opt/, second);
  // Cargo itself had nothing to compile.
  assert.doesNotMatch(second, /^\s*Compiling /m, `cargo recompiled on a no-change run:\n${second}`);

  // And indeed no file under dist/extension changed, appeared or vanished.
  const changed = [...new Set([...before.keys(), ...after.keys()])]
    .filter((file) => JSON.stringify(before.get(file)) !== JSON.stringify(after.get(file)));
  assert.deepEqual(changed, [], 'files rewritten by a no-change build');
});

test('build: the manifest carries the workspace version and the strict CSP', () => {
  const manifest = JSON.parse(readFileSync(path.join(extensionDir, 'manifest.json'), 'utf8'));
  assert.equal(manifest.manifest_version, 3);
  assert.equal(manifest.version, workspaceVersion());
  assert.equal(manifest.content_security_policy?.extension_pages, "script-src 'self' 'wasm-unsafe-eval'; object-src 'self'");
  // Study scripts run in the sandbox page: an opaque origin, scripts but no forms, popups,
  // navigation of the top or same-origin access, and no network but the extension's own files.
  assert.deepEqual(manifest.sandbox, { pages: ['sandbox.html'] });
  assert.equal(manifest.content_security_policy?.sandbox,
    "sandbox allow-scripts; default-src 'none'; script-src 'self' 'wasm-unsafe-eval' blob:; worker-src blob:; connect-src 'self'");
  assert.deepEqual(Object.keys(manifest.content_security_policy), ['extension_pages', 'sandbox']);
});
