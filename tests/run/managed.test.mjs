// Lab machines preset studies through chrome.storage.managed: a Chromium policy file gives the
// extension a valid and an invalid config; the valid one is listed and runs, the invalid one is
// reported with its path-pointing error.
//
// Chromium reads policies from /etc/chromium/policies/managed, for every browser on the machine,
// so this runs after the parallel e2e suite (./dev test) and removes its file when done. Writing
// there needs root, as CI has; elsewhere the test is skipped and says why.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { accessSync, constants, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { EXTENSION_ID, TINY_SCRIPT, launch, openUi, sendOnReview, studyConfig, waitForState } from '../e2e/support.mjs';

const POLICY_DIR = '/etc/chromium/policies/managed';
const POLICY_FILE = path.join(POLICY_DIR, 'port-e2e-managed.json');

function canWritePolicies() {
  try {
    mkdirSync(POLICY_DIR, { recursive: true });
    accessSync(POLICY_DIR, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

const translations = (en) => ({ translations: { en, nl: en } });

test('managed: presets from chrome.storage.managed are listed, run, and bad ones are reported', { timeout: 120_000 }, async (t) => {
  if (!canWritePolicies()) {
    t.skip(`cannot write ${POLICY_DIR}; run as root (CI does)`);
    return;
  }
  const lab = studyConfig({ id: 'lab-study', version: '2.0.0', title: translations('Lab study'), description: translations('Preset for the lab') });
  assert.equal(lab.script.source, TINY_SCRIPT);
  const broken = { ...lab, id: 'broken-study', script: { bundled: 'studies/demo/script.py' } };
  writeFileSync(POLICY_FILE, JSON.stringify({ '3rdparty': { extensions: { [EXTENSION_ID]: { studies: [lab, broken] } } } }));
  const browser = await launch();
  try {
    const { page } = await openUi(browser.context);
    const list = await page.evaluate(() => chrome.runtime.sendMessage({ target: 'background', type: 'list-studies' }));
    const preset = list.studies.find((study) => study.id === 'lab-study');
    assert.ok(preset, `the preset is listed: ${JSON.stringify(list)}`);
    assert.equal(preset.origin, 'managed');
    assert.equal(preset.removable, false, 'participants cannot remove a lab preset');
    assert.ok(!list.studies.some((study) => study.id === 'broken-study'), 'an invalid preset is not listed');
    assert.ok(list.problems.some((problem) => problem.startsWith('managed studies[1]: script')), JSON.stringify(list.problems));

    await page.getByRole('button', { name: 'Studies', exact: true }).click({ timeout: 30_000 });
    const studies = page.getByRole('region', { name: 'Studies on this device' });
    await studies.getByText('Lab study (version 2.0.0)').waitFor({ timeout: 30_000 });
    assert.equal(await studies.locator('li[data-study="lab-study"]').getByRole('button', { name: /Remove/ }).count(), 0);
    await studies.getByRole('button', { name: 'Start the study Lab study' }).click();
    // The tiny script donates a record no page showed: the participant reviews it first.
    await sendOnReview(page, /-tiny/);
    await page.getByRole('button', { name: 'Finish' }).waitFor({ timeout: 60_000 });
    const state = await waitForState(page, (view) => view.study?.title === 'Lab study');
    assert.equal(state.study.version, '2.0.0');
  } finally {
    await browser.close();
    rmSync(POLICY_FILE, { force: true });
  }
});
