// PayloadFileArray in the real extension: a multiple-file prompt hands the study one lazy reader
// per chosen file, and zipfile reads each through the runtime's AsyncFileAdapter.
//
// A fixture copy of dist/extension runs the study below in place of the demo.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';

import { fixtureExtension, launch, openUi, tempDir, waitForState } from './support.mjs';

const STUDY = `
import zipfile

from port.api.file_utils import AsyncFileAdapter
from port.api.props import PropsUIPromptConfirm, PropsUIPromptFileInputMultiple, Translatable
from port.helpers import port_helpers as ph


def t(text):
    return Translatable({"en": text, "nl": text})


def process(session_id, platform):
    answer = yield ph.render_page(t("Choose your files"), PropsUIPromptFileInputMultiple(t("Two zips"), "application/zip"))
    kind = getattr(answer, "__type__", None)
    readers = list(answer.value) if kind == "PayloadFileArray" else []
    found = []
    for reader in readers:
        with zipfile.ZipFile(AsyncFileAdapter(reader)) as archive:
            found.append(f"{reader.name}:{archive.read('member.txt').decode()}")
    summary = f"{kind} with {len(readers)} files: " + ", ".join(sorted(found))
    yield ph.render_page(t(summary), PropsUIPromptConfirm(t("Done?"), t("Finish"), t("Back")))
`;

function zipWithMember(file, text) {
  const code = `import sys, zipfile\nwith zipfile.ZipFile(sys.argv[1], "w") as archive: archive.writestr("member.txt", sys.argv[2])`;
  execFileSync(process.env.PYTHON ?? 'python3', ['-c', code, file, text]);
  return file;
}

test('filearray: a multiple-file prompt gives the study a reader per file', { timeout: 120_000 }, async () => {
  const dir = tempDir('filearray');
  const first = zipWithMember(path.join(dir, 'first.zip'), 'alpha');
  const second = zipWithMember(path.join(dir, 'second.zip'), 'beta');
  const fixture = fixtureExtension(STUDY);
  const browser = await launch({ extension: fixture.dir });
  try {
    const { page, errors } = await openUi(browser.context);
    const chooser = page.locator('input[type="file"][multiple]');
    await chooser.waitFor({ state: 'attached', timeout: 60_000 });
    await chooser.setInputFiles([first, second]);
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByRole('heading', { name: 'PayloadFileArray with 2 files: first.zip:alpha, second.zip:beta' })
      .waitFor({ timeout: 60_000 });
    await page.getByRole('button', { name: 'Finish' }).click();
    const finished = await waitForState(page, (state) => state.status.state === 'finished', 30_000);
    assert.equal(finished.status.code, 0);
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    fixture.cleanup();
  }
});
