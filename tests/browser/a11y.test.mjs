// Accessibility: a keyboard-only path through banner and preference center
// (focus moved into the dialogs and trapped in the modal one, Space toggles,
// Escape closes, Enter saves), and axe-core (from npm) with the WCAG 2.x
// A/AA rules on the banner, the preference center and the floating button,
// for the TCF demo site and an opt-in site.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { definePage, openPage, repoJson, setup, withContext } from './lib/harness.mjs';
import { sortNum } from './lib/expect.mjs';
import {
  BANNER, PREFS, banner, bannerButton, consentToken, deepFocus, pageErrors, prefs, reopenButton,
  storedConsent,
} from './lib/sdk.mjs';

const require = createRequire(import.meta.url);
const AXE = require.resolve('axe-core/axe.min.js');
const WCAG_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22a', 'wcag22aa'];

let env;
let demoKey;
let optIn;

before(async () => {
  env = await setup();
  demoKey = await env.server.demoKey();
  optIn = await env.server.createSite('opt-in a11y', repoJson('crates/server/tests/fixtures/opt-in-site.json'));
});

after(async () => {
  await env?.close();
});

const describeFocus = (f) => (f ? `${f.tag}${f.id ? `#${f.id}` : ''}${f.type ? `[type=${f.type}]` : ''} ${f.attrs}`.trim() : 'nothing');

/**
 * Presses `key` until `want(focus)` holds, at most `max` times; every focus
 * on the way must satisfy `stay` (e.g. inside the modal dialog).
 */
async function pressUntil(page, key, want, { max = 60, stay = null, what }) {
  const start = await deepFocus(page);
  if (want(start)) return start;
  const path = [describeFocus(start)];
  for (let i = 0; i < max; i += 1) {
    await page.keyboard.press(key);
    const f = await deepFocus(page);
    path.push(describeFocus(f));
    if (stay) assert.ok(stay(f), `${key} #${i + 1} moved focus outside the dialog to ${describeFocus(f)}; path: ${path.join(' → ')}`);
    if (want(f)) return f;
  }
  throw new Error(`${max} × ${key} never reached ${what}; path: ${path.join(' → ')}`);
}

const focusIn = (page, where) => page.waitForFunction((w) => {
  let a = document.activeElement;
  while (a && a.shadowRoot && a.shadowRoot.activeElement) a = a.shadowRoot.activeElement;
  return !!(a && a.closest(w));
}, where).catch(async (e) => {
  throw new Error(`focus is not inside ${where} but on ${describeFocus(await deepFocus(page))} (${e.message})`);
});

const inPrefs = (f) => f?.inPrefs;

/** The number of focusable controls in the open preference center (an upper bound). */
const focusableInPrefs = (page) => page.locator(PREFS).evaluate((el) => el.querySelectorAll(
  'button, input, select, textarea, summary, a[href], [tabindex]:not([tabindex="-1"])',
).length);

/** Opens the banner on a fresh page and moves by keyboard into the preference center. */
async function keyboardToPreferences(ctx, name) {
  const url = await definePage(ctx, { key: demoKey, name });
  const page = await openPage(ctx, url);
  await banner(page).waitFor({ state: 'visible' });
  await focusIn(page, '[data-nexaguard="banner"]');
  await pressUntil(page, 'Tab', (f) => f?.inBanner && f?.action === 'settings', { what: 'the settings button', max: 30 });
  await page.keyboard.press('Enter');
  await prefs(page).waitFor({ state: 'visible' });
  await focusIn(page, '[data-nexaguard="preferences"]');
  return page;
}

test('keyboard: focus moves into the banner, Tab reaches its buttons, the preference center traps and cycles focus', async () => {
  const { server, browser } = env;
  await withContext(browser, server, async (ctx) => {
    const url = await definePage(ctx, { key: demoKey, name: 'keyboard-trap' });
    const page = await openPage(ctx, url);
    await banner(page).waitFor({ state: 'visible' });
    await focusIn(page, '[data-nexaguard="banner"]');

    // Tab reaches all three banner buttons, each with a visible focus indicator.
    const reached = new Set();
    for (let i = 0; i < 30 && reached.size < 3; i += 1) {
      await page.keyboard.press('Tab');
      const f = await deepFocus(page);
      if (f.inBanner && f.tag === 'button') {
        assert.ok(f.visibleFocus, `the focused banner button ${describeFocus(f)} has no visible focus indicator (outline ${f.outline})`);
        reached.add(f.action);
      }
    }
    assert.deepEqual([...reached].sort(), ['accept-all', 'reject-all', 'settings'], 'Tab reaches every banner button');

    await pressUntil(page, 'Tab', (f) => f?.inBanner && f?.action === 'settings', { what: 'the settings button', max: 30 });
    await page.keyboard.press('Enter');
    await prefs(page).waitFor({ state: 'visible' });
    await focusIn(page, '[data-nexaguard="preferences"]');

    // More Tabs (then Shift+Tabs) than there are focusable controls: every one
    // moves focus, never out of the dialog, and goes all the way round (the
    // close button at the top and the save button at the bottom both reached).
    const focusable = await focusableInPrefs(page);
    assert.ok(focusable >= 4, `the preference center has focusable controls (${focusable})`);
    for (const key of ['Tab', 'Shift+Tab']) {
      const path = [];
      const actions = new Set();
      let prev = await deepFocus(page);
      for (let i = 0; i < focusable + 3; i += 1) {
        await page.keyboard.press(key);
        const f = await deepFocus(page);
        path.push(describeFocus(f));
        assert.ok(inPrefs(f), `${key} #${i + 1} left the preference center for ${describeFocus(f)}; path: ${path.join(' → ')}`);
        assert.notEqual(f.index, prev.index, `${key} #${i + 1} did not move focus off ${describeFocus(f)}; path: ${path.join(' → ')}`);
        if (f.action) actions.add(f.action);
        prev = f;
      }
      for (const action of ['close', 'save', 'accept-all', 'reject-all']) {
        assert.ok(actions.has(action), `${focusable + 3} × ${key} never reached button ${action}; path: ${path.join(' → ')}`);
      }
    }
    assert.equal(pageErrors(ctx), null);
  });
});

test('keyboard: Space toggles, Escape closes back to the banner, a choice saved by keyboard alone is recorded', async () => {
  const { server, browser } = env;
  await withContext(browser, server, async (ctx) => {
    const page = await keyboardToPreferences(ctx, 'keyboard-choice');
    const focusable = await focusableInPrefs(page);

    // Space toggles a purpose checkbox.
    const box = await pressUntil(page, 'Tab', (f) => f?.purpose, { stay: inPrefs, what: 'a purpose checkbox', max: focusable + 3 });
    await page.keyboard.press('Space');
    const toggled = await deepFocus(page);
    assert.equal(toggled.purpose, box.purpose, 'focus stays on the checkbox');
    assert.equal(toggled.checked, !box.checked, `Space toggles purpose ${box.purpose}`);

    // Escape closes the preference center; the banner is back, with focus.
    await page.keyboard.press('Escape');
    await prefs(page).waitFor({ state: 'hidden' });
    await banner(page).waitFor({ state: 'visible' });
    await focusIn(page, '[data-nexaguard="banner"]');

    // A whole choice by keyboard: settings, purpose 1 ticked, save (reached
    // backwards: the shortest way from the first purpose).
    await pressUntil(page, 'Tab', (f) => f?.inBanner && f?.action === 'settings', { what: 'the settings button', max: 30 });
    await page.keyboard.press('Enter');
    await prefs(page).waitFor({ state: 'visible' });
    await focusIn(page, '[data-nexaguard="preferences"]');
    const p1 = await pressUntil(page, 'Tab', (f) => f?.purpose === '1', { stay: inPrefs, what: 'purpose 1', max: focusable + 3 });
    if (!p1.checked) await page.keyboard.press('Space');
    assert.equal((await deepFocus(page)).checked, true, 'purpose 1 ticked by Space');
    const ticked = await page.locator(`${PREFS} input[data-purpose]`).evaluateAll(
      (els) => els.filter((e) => e.checked).map((e) => Number(e.getAttribute('data-purpose'))),
    );
    await pressUntil(page, 'Shift+Tab', (f) => f?.action === 'save', { stay: inPrefs, what: 'the save button', max: focusable + 3 });
    await page.keyboard.press('Enter');
    await prefs(page).waitFor({ state: 'hidden' });
    await banner(page).waitFor({ state: 'hidden' });

    const token = await consentToken(page);
    const stored = await storedConsent(server, token, demoKey);
    assert.equal(stored.event.action, 'custom', 'a custom choice is stored');
    assert.equal(stored.event.source, 'preference_center', 'made in the preference center');
    assert.deepEqual(sortNum(stored.event.purposes), sortNum(ticked), 'the stored purposes are the ones ticked by keyboard');
    assert.ok(stored.event.purposes.includes(1), 'purpose 1 is granted');
    assert.equal(await page.evaluate(() => window.NexaGuard.hasConsent(1)), true, 'hasConsent(1)');

    // The floating button opens the preference center by keyboard too.
    await pressUntil(page, 'Tab', (f) => f?.action === 'reopen', { what: 'the floating reopen button', max: 30 });
    await page.keyboard.press('Enter');
    await prefs(page).waitFor({ state: 'visible' });
    await focusIn(page, '[data-nexaguard="preferences"]');
    await page.keyboard.press('Escape');
    await prefs(page).waitFor({ state: 'hidden' });
    assert.equal(await banner(page).isVisible(), false, 'closing the reopened preference center does not bring the banner back');
    assert.equal(pageErrors(ctx), null);
  });
});

/** axe-core's WCAG 2.x A/AA violations on the whole document (shadow DOM included). */
async function axeViolations(page) {
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) await page.addScriptTag({ path: AXE });
  return page.evaluate(async (tags) => {
    const r = await window.axe.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] });
    return r.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.map((n) => ({ target: n.target, html: n.html.slice(0, 300), summary: n.failureSummary })),
    }));
  }, WCAG_TAGS);
}

async function assertNoViolations(page, where) {
  const violations = await axeViolations(page);
  if (violations.length) console.log(`axe-core violations (${where}):\n${JSON.stringify(violations, null, 2)}`);
  assert.deepEqual(violations.map((v) => `${v.id}: ${v.help} (${v.nodes.length} nodes: ${v.nodes.map((n) => JSON.stringify(n.target)).join(', ')})`), [],
    `axe-core finds WCAG A/AA violations with ${where}`);
}

describe('axe-core finds no WCAG 2.x A/AA violations', () => {
  test('control: axe-core sees into the SDK\'s shadow root (a nameless button planted there is reported)', async () => {
    const { server, browser } = env;
    await withContext(browser, server, async (ctx) => {
      const url = await definePage(ctx, { key: demoKey, name: 'axe-control' });
      const page = await openPage(ctx, url);
      await banner(page).waitFor({ state: 'visible' });
      await page.locator(BANNER).evaluate((el) => {
        const b = document.createElement('button');
        b.setAttribute('data-test-planted', '');
        el.appendChild(b);
      });
      const violations = await axeViolations(page);
      const planted = violations.find((v) => v.id === 'button-name');
      assert.ok(planted && planted.nodes.some((n) => n.html.includes('data-test-planted')),
        `axe-core did not report the planted nameless button: ${JSON.stringify(violations)}`);
    });
  });

  for (const [label, siteKey] of [['TCF demo site', () => demoKey], ['opt-in site', () => optIn.key]]) {
    test(`${label}: banner, preference center (expanded), floating button`, async () => {
      const { server, browser } = env;
      await withContext(browser, server, async (ctx) => {
        const url = await definePage(ctx, { key: siteKey(), name: `axe-${label.replace(/\W+/g, '-')}` });
        const page = await openPage(ctx, url);
        await banner(page).waitFor({ state: 'visible' });
        const sanity = await axeViolations(page).then(() => page.evaluate(() => window.axe.version));
        assert.match(sanity, /^4\./, 'axe-core is loaded');
        await assertNoViolations(page, 'the banner open');

        await bannerButton(page, 'settings').click();
        await prefs(page).waitFor({ state: 'visible' });
        await assertNoViolations(page, 'the preference center open');
        for (const summary of await page.locator(`${PREFS} details:not([open]) > summary`).all()) {
          if (await summary.isVisible()) await summary.click();
        }
        await assertNoViolations(page, 'the preference center with every section expanded');

        await page.locator(`${PREFS} button[data-action="reject-all"]`).click();
        await reopenButton(page).waitFor({ state: 'visible' });
        await assertNoViolations(page, 'the floating reopen button after a choice');
        assert.equal(pageErrors(ctx), null);
      });
    });
  }
});
