// `port run`, the README's main job, with a stand-in browser that records how it was started:
// it builds, starts the dev host, points the build at it, and opens the UI in Chromium with the
// extension loaded. Runs after the e2e suite (./dev test), because it points dist/extension's
// dev-bridge.json at its host while it runs (and resets it when the browser exits).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { EXTENSION_ID, extensionDir, repo, tempDir } from '../e2e/support.mjs';

test('port run builds, starts the dev host and opens the UI with the extension loaded', async () => {
  const dir = tempDir('port-run');
  const argsFile = path.join(dir, 'browser-args.json');
  const bridgeFile = path.join(dir, 'bridge-seen.json');
  const fakeBrowser = path.join(dir, 'chromium');
  // The stand-in records its arguments and the dev bridge it finds, then exits like a closed browser.
  writeFileSync(fakeBrowser, `#!/bin/sh
echo '[1201/120000.0:ERROR:bus.cc(407)] Failed to connect to the bus: Could not parse server address' >&2
printf '%s\\n' "$@" > ${JSON.stringify(argsFile)}
cp ${JSON.stringify(path.join(extensionDir, 'dev-bridge.json'))} ${JSON.stringify(bridgeFile)}
`);
  chmodSync(fakeBrowser, 0o755);
  const donations = path.join(dir, 'donations');
  const env = { ...process.env };
  delete env.DISPLAY;
  delete env.WAYLAND_DISPLAY;
  const child = spawn(path.join(repo, 'target/debug/port'), ['run', '--port', '0', '--dir', donations, '--browser', fakeBrowser], { cwd: repo, env });
  let stderr = '';
  child.stderr.on('data', (chunk) => { stderr += chunk; });
  child.stdout.resume();
  const code = await new Promise((resolve) => child.on('exit', resolve));
  assert.equal(code, 0, stderr);

  const hostUrl = stderr.match(/dev host: (http:\/\/127\.0\.0\.1:\d+)/)?.[1];
  assert.ok(hostUrl, `no dev host URL printed:\n${stderr}`);
  assert.match(stderr, new RegExp(`donations land in: ${donations.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  assert.deepEqual(JSON.parse(readFileSync(bridgeFile, 'utf8')), { kind: 'dev-host', url: hostUrl });
  assert.equal(readFileSync(path.join(extensionDir, 'dev-bridge.json'), 'utf8'), 'null', 'the build keeps no dead dev host');

  // The terminal shows what a researcher needs; the build's progress and the browser's own
  // messages go to log files it names.
  assert.doesNotMatch(stderr, /Failed to connect to the bus/, 'the browser\'s stderr is not in the terminal');
  assert.doesNotMatch(stderr, /\[build\]|Compiling/, 'the build\'s progress is not in the terminal');
  const browserLog = stderr.match(/browser log: (\S+)/)?.[1];
  assert.ok(browserLog, `no browser log printed:\n${stderr}`);
  assert.match(readFileSync(browserLog, 'utf8'), /Failed to connect to the bus/);
  const buildLog = stderr.match(/building the extension \(log: (\S+)\)/)?.[1];
  assert.ok(buildLog, `no build log printed:\n${stderr}`);
  assert.match(readFileSync(buildLog, 'utf8'), /\[build\] done/);
  assert.match(stderr, /stop: press Ctrl-C/);
  assert.match(stderr, /inspect it at http:\/\/127\.0\.0\.1:9222/);

  const args = readFileSync(argsFile, 'utf8').trim().split('\n');
  assert.ok(args.includes(`--load-extension=${extensionDir}`), args.join(' '));
  assert.ok(args.includes(`--disable-extensions-except=${extensionDir}`), args.join(' '));
  assert.ok(args.includes('--disable-background-networking'), args.join(' '));
  assert.ok(args.includes('--headless=new'), 'without a display Chromium must run headless');
  assert.equal(args.at(-1), `chrome-extension://${EXTENSION_ID}/ui.html`);
});
