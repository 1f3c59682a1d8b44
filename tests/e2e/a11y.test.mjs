// Accessibility of the real UI (ui.html as a tab, the built extension, the bundled demo study) in
// headless Chromium: the demo is driven from the file prompt to the questionnaire by keyboard only
// (except choosing the file itself), every visible control on the file, radio and consent pages has
// an accessible name, and a button focused by Tab shows a focus indicator.
//
// Build first (`port build`), then `node --test tests/e2e/a11y.test.mjs`. Helpers: ./support.mjs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { demoToConsent, generateDdp, launch, openUi, tempDir } from './support.mjs';

/// What has focus, described in the page (Playwright's evaluate is not subject to the page CSP).
async function active(page) {
  return page.evaluate(() => {
    const el = document.activeElement;
    if (!el) return null;
    return {
      tag: el.tagName.toLowerCase(),
      type: el.getAttribute('type'),
      label: el.getAttribute('aria-label'),
      text: (el.textContent ?? '').replace(/\s+/g, ' ').trim().slice(0, 80),
      className: el.className,
      checked: el.checked ?? null,
      disabled: el.disabled ?? null,
      focusVisible: el.matches(':focus-visible'),
      region: el.closest('section.consent-table')?.querySelector('h2')?.textContent ?? null,
      inMain: Boolean(el.closest('main')),
    };
  });
}

const show = (focus) => JSON.stringify(focus);

/// Presses `key` (Tab or Shift+Tab) until the focused element matches `want`; fails after `max` presses.
async function pressUntil(page, key, want, what, max = 60) {
  const path = [];
  for (let step = 0; step < max; step += 1) {
    await page.keyboard.press(key);
    const focus = await active(page);
    path.push(focus && `${focus.tag}${focus.type ? `[${focus.type}]` : ''}:${focus.label ?? focus.text.slice(0, 30)}`);
    if (focus && want(focus)) return focus;
  }
  assert.fail(`${what} not reached with ${max} × ${key}; focus went: ${path.join(' → ')}`);
}

async function expectFocus(page, want, what) {
  const focus = await active(page);
  assert.ok(focus && want(focus), `${what}; focus is on ${show(focus)}`);
  return focus;
}

/// Every visible interactive control in `page` with its accessible name (aria-label,
/// aria-labelledby, <label for>/wrapping label, text content for buttons/links/roles, value of
/// input buttons, title). Placeholders are not counted as names.
async function unnamedControls(page) {
  const controls = page.locator(
    'button, input, select, textarea, [role=radio], [role=checkbox], [role=button], a[href], [tabindex]:not([tabindex="-1"])',
  );
  const named = await controls.evaluateAll((elements) => {
    const text = (el) => (el?.textContent ?? '').replace(/\s+/g, ' ').trim();
    const visible = (el) => el.getClientRects().length > 0 && getComputedStyle(el).visibility !== 'hidden';
    const nameOf = (el) => {
      const ariaLabel = el.getAttribute('aria-label')?.trim();
      if (ariaLabel) return ariaLabel;
      const labelledBy = el.getAttribute('aria-labelledby');
      if (labelledBy) {
        const joined = labelledBy.split(/\s+/).map((id) => text(document.getElementById(id))).join(' ').trim();
        if (joined) return joined;
      }
      const labels = [...(el.labels ?? [])].map(text).join(' ').trim();
      if (labels) return labels;
      const tag = el.tagName.toLowerCase();
      if (tag === 'input' && ['button', 'submit', 'reset'].includes(el.type) && el.value.trim()) return el.value.trim();
      if (tag === 'input' && el.type === 'image' && el.alt?.trim()) return el.alt.trim();
      if (['button', 'a'].includes(tag) || el.hasAttribute('role')) {
        const content = text(el);
        if (content) return content;
      }
      return el.getAttribute('title')?.trim() ?? '';
    };
    return elements.filter(visible).map((el) => ({ html: el.outerHTML.slice(0, 200), name: nameOf(el) }));
  });
  assert.ok(named.length > 0, 'the page has visible controls');
  return named.filter((control) => !control.name).map((control) => control.html);
}

async function assertAllNamed(page, what) {
  const offenders = await unnamedControls(page);
  assert.deepEqual(offenders, [], `${what}: controls without an accessible name:\n${offenders.join('\n')}`);
}

/// The focus-related computed style of the element a locator points at.
const focusStyle = (locator) => locator.evaluate((el) => {
  const style = getComputedStyle(el);
  return { outlineStyle: style.outlineStyle, outlineWidth: style.outlineWidth, boxShadow: style.boxShadow };
});
const hasIndicator = (style) =>
  (style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0) || (style.boxShadow && style.boxShadow !== 'none');

/// The style of `locator` (a button) while it is not focused; it must show no focus indicator.
async function unfocusedStyle(locator, what) {
  const before = await focusStyle(locator);
  assert.equal(await locator.evaluate((el) => el === document.activeElement), false, `${what} is not focused yet`);
  assert.ok(!hasIndicator(before), `${what} unfocused has no focus indicator: ${JSON.stringify(before)}`);
  return before;
}
/// Once Tab focused `locator`: it matches :focus-visible and its style shows an indicator that
/// differs from `before`.
async function assertFocusedStyle(locator, before, what) {
  assert.equal(await locator.evaluate((el) => el === document.activeElement && el.matches(':focus-visible')), true,
    `${what} is focused and :focus-visible`);
  const after = await focusStyle(locator);
  assert.ok(hasIndicator(after), `${what} focused by Tab shows a focus indicator: ${JSON.stringify(after)}`);
  assert.notDeepEqual(after, before, `${what}: the focused style differs from the unfocused one`);
}

const isMainHeading = (focus) => focus.tag === 'h1' && focus.inMain;

test('a11y: the demo by keyboard only, labelled controls, visible focus', { timeout: 90_000 }, async () => {
  const browser = await launch();
  const scratch = tempDir('ddp');
  try {
    const ddp = generateDdp(scratch);
    const { page, errors } = await openUi(browser.context);

    // --- File page: the new page's heading has focus; Tab reaches the file chooser.
    const chooser = page.getByLabel('Choose a file');
    await chooser.waitFor({ timeout: 60_000 });
    await expectFocus(page, isMainHeading, 'a new page focuses its heading');
    await assertAllNamed(page, 'file page');
    const skip = page.getByRole('button', { name: 'Skip' });
    const skipUnfocused = await unfocusedStyle(skip, 'Skip');
    await pressUntil(page, 'Tab', (focus) => focus.tag === 'input' && focus.type === 'file', 'the file chooser', 10);
    await chooser.setInputFiles(ddp);
    await page.getByText(/ddp\.zip/).waitFor();
    await expectFocus(page, (focus) => focus.tag === 'input' && focus.type === 'file', 'choosing the file keeps focus on the chooser');
    const proceed = page.getByRole('button', { name: 'Continue' });
    assert.equal(await proceed.isEnabled(), true, 'Continue is enabled once a file is chosen');
    const continueUnfocused = await unfocusedStyle(proceed, 'Continue (file page)');
    await page.keyboard.press('Tab');
    await expectFocus(page, (focus) => focus.tag === 'button' && focus.text === 'Continue', 'Tab from the chooser reaches Continue');
    await assertFocusedStyle(proceed, continueUnfocused, 'Continue (file page)');
    await page.keyboard.press('Tab');
    await expectFocus(page, (focus) => focus.tag === 'button' && focus.text === 'Skip', 'Tab from Continue reaches Skip');
    await assertFocusedStyle(skip, skipUnfocused, 'Skip');
    await page.keyboard.press('Shift+Tab');
    await expectFocus(page, (focus) => focus.tag === 'button' && focus.text === 'Continue', 'Shift+Tab goes back to Continue');
    await page.keyboard.press('Enter');

    // --- Radio page: Tab into the group, arrows move the choice, Space selects, Enter continues.
    const radios = page.getByRole('radio');
    await radios.first().waitFor({ timeout: 30_000 });
    await page.getByRole('heading', { name: 'What would you like to review?' }).waitFor();
    await expectFocus(page, isMainHeading, 'the radio page focuses its heading');
    await assertAllNamed(page, 'radio page');
    const firstName = await radios.first().evaluate((el) => el.labels[0].textContent.trim());
    await pressUntil(page, 'Tab', (focus) => focus.tag === 'input' && focus.type === 'radio', 'the radio group', 10);
    await expectFocus(page, (focus) => focus.checked === false, 'no choice is made yet');
    assert.equal(await radios.first().evaluate((el) => el === document.activeElement), true, 'Tab enters the group at its first radio');
    assert.ok(await radios.count() >= 2, 'the demo offers several choices');
    await page.keyboard.press('ArrowDown');
    assert.equal(await radios.nth(1).evaluate((el) => el === document.activeElement && el.checked), true, 'ArrowDown moves to and checks the second radio');
    await page.keyboard.press('ArrowUp');
    await page.keyboard.press('Space');
    assert.equal(await radios.first().evaluate((el) => el === document.activeElement && el.checked), true, `ArrowUp and Space choose "${firstName}"`);
    await assertAllNamed(page, 'radio page after choosing');
    await pressUntil(page, 'Tab', (focus) => focus.tag === 'button' && focus.text === 'Continue' && !focus.disabled, 'Continue (radio page)', 5);
    await page.keyboard.press('Enter');

    // --- Consent form: reach the first row's delete checkbox, delete it, then reach Donate.
    await page.getByRole('heading', { name: 'Your Demo platform data' }).waitFor({ timeout: 30_000 });
    await expectFocus(page, isMainHeading, 'the consent form focuses its heading');
    await assertAllNamed(page, 'consent page');
    const rowBox = await pressUntil(page, 'Tab',
      (focus) => focus.tag === 'input' && focus.type === 'checkbox' && /^Select row \d+$/.test(focus.label ?? ''),
      "the first table row's select checkbox", 40);
    assert.ok(rowBox.region, `the row checkbox sits in a consent table: ${show(rowBox)}`);
    const table = page.getByRole('region', { name: rowBox.region });
    await table.getByText('0 deleted').waitFor();
    const firstRowBox = table.locator('tbody tr').first().getByRole('checkbox');
    assert.equal(await firstRowBox.evaluate((el) => el === document.activeElement), true, 'it is the first row\'s checkbox');
    await page.keyboard.press('Space');
    await expectFocus(page, (focus) => focus.checked === true, 'Space checks the row');
    await pressUntil(page, 'Tab', (focus) => focus.tag === 'button' && /delete-selected/.test(focus.className),
      'the "Delete selected" button', 40);
    await expectFocus(page, (focus) => focus.text === 'Delete selected (1)' && !focus.disabled, 'Delete selected counts the row');
    await page.keyboard.press('Enter');
    await table.getByText('1 deleted').waitFor({ timeout: 10_000 });
    const afterDelete = await active(page);
    await assertAllNamed(page, 'consent page after a deletion');

    const donate = page.getByRole('button', { name: 'Yes, share for research' });
    const donateUnfocused = await unfocusedStyle(donate, 'Donate');
    await pressUntil(page, 'Tab', (focus) => focus.tag === 'button' && focus.text === 'Yes, share for research',
      'the Donate button', 400);
    await assertFocusedStyle(donate, donateUnfocused, 'Donate');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'A few questions' }).waitFor({ timeout: 30_000 });
    assert.deepEqual(errors, []);

    // Reported, not failed on here: where focus went when the delete button redrew the rows.
    if (afterDelete?.tag === 'body') {
      console.log(`note: after "Delete selected" focus fell back to <body> (${show(afterDelete)})`);
    }
  } finally {
    await browser.close();
    rmSync(scratch, { recursive: true, force: true });
  }
});

// A consent table's controls that redraw the rows (Delete selected, Undo, Previous/Next page, the
// select-page checkbox) are replaced while focused; crates/ui/src/render.rs `table_results` moves
// the focus to the replacement, so a keyboard or screen-reader user keeps their place.
test('a11y: focus stays on a consent table control that redraws the rows', { timeout: 90_000 }, async () => {
  const browser = await launch();
  const scratch = tempDir('ddp');
  try {
    const { page } = await openUi(browser.context);
    await demoToConsent(page, generateDdp(scratch));
    const table = page.getByRole('region', { name: 'Watch history' });
    await table.getByText('0 deleted').waitFor();
    const lost = [];
    const check = async (what) => {
      const focus = await active(page);
      if (!focus || focus.tag === 'body' || focus.region !== 'Watch history') lost.push(`${what}: ${show(focus)}`);
    };
    await table.locator('tbody tr').first().getByRole('checkbox').focus();
    await page.keyboard.press('Space');
    await table.getByRole('button', { name: 'Delete selected (1)' }).focus();
    await page.keyboard.press('Enter');
    await table.getByText('1 deleted').waitFor();
    await check('Delete selected');
    await table.getByRole('button', { name: 'Undo' }).focus();
    await page.keyboard.press('Enter');
    await table.getByText('0 deleted').waitFor();
    await check('Undo');
    await table.getByRole('checkbox', { name: 'Select all rows on this page' }).focus();
    await page.keyboard.press('Space');
    await check('select page');
    const next = table.getByRole('button', { name: 'Next page' });
    if (await next.isEnabled()) {
      await next.focus();
      await page.keyboard.press('Enter');
      await check('Next page');
    }
    assert.deepEqual(lost, [], `focus was lost after:\n${lost.join('\n')}`);
  } finally {
    await browser.close();
    rmSync(scratch, { recursive: true, force: true });
  }
});
