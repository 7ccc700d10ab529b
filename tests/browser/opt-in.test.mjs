// A non-TCF (opt-in) site: scripts blocked with
// <script type="text/plain" data-nexaguard-category="..."> run only after
// consent to their category, stay blocked after reject all, and withdrawing
// a category deletes the cookies the configuration lists for it.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { definePage, openPage, poll, repoJson, setup, withContext } from './lib/harness.mjs';
import {
  banner, bannerButton, consentToken, getConsent, openPreferencesFromBanner, pageErrors, prefs,
  prefsButton, sdkReady, setChoices, storedConsent,
} from './lib/sdk.mjs';

let env;
let site;

before(async () => {
  env = await setup();
  site = await env.server.createSite('opt-in', repoJson('crates/server/tests/fixtures/opt-in-site.json'));
});

after(async () => {
  await env?.close();
});

/**
 * The page sets the analytics cookies (as an analytics tag would have) and a
 * cookie of its own, and has one blocked script per category.
 */
const BODY = `<script>
document.cookie = '_ga_x=GA1.1.123; path=/';
document.cookie = '_gid=GA1.1.456; path=/';
document.cookie = 'site_pref=dark; path=/';
</script>
<script type="text/plain" data-nexaguard-category="analytics">window.__analyticsRan = (window.__analyticsRan || 0) + 1;</script>
<script type="text/plain" data-nexaguard-category="marketing">window.__marketingRan = (window.__marketingRan || 0) + 1;</script>`;

const ran = (page) => page.evaluate(() => ({
  analytics: window.__analyticsRan ?? 0,
  marketing: window.__marketingRan ?? 0,
}));

const pageCookies = (page) => page.evaluate(() => Object.fromEntries(
  document.cookie.split(';').map((c) => c.trim()).filter(Boolean).map((c) => [c.split('=')[0], c.slice(c.indexOf('=') + 1)]),
));

/** After the SDK's decision (ready, banner shown or not) and two frames. */
async function settled(page) {
  await sdkReady(page);
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
}

test('opt-in: a blocked script runs only after consent to its category; withdrawal deletes its cookies', async () => {
  const { server, browser } = env;
  await withContext(browser, server, async (ctx) => {
    const url = await definePage(ctx, { key: site.key, name: 'opt-in-accept', body: BODY });
    const page = await openPage(ctx, url);
    await banner(page).waitFor({ state: 'visible' });
    await settled(page);
    assert.deepEqual(await ran(page), { analytics: 0, marketing: 0 }, 'no blocked script runs before a choice');

    await openPreferencesFromBanner(page);
    await setChoices(page, { category: new Set(['analytics']) });
    await prefsButton(page, 'save').click();
    await prefs(page).waitFor({ state: 'hidden' });
    await page.waitForFunction(() => window.__analyticsRan === 1).catch(async (e) => {
      throw new Error(`the analytics script did not run after consent to analytics: ${JSON.stringify(await ran(page))} (${e.message})`);
    });
    await settled(page);
    assert.deepEqual(await ran(page), { analytics: 1, marketing: 0 }, 'analytics ran once, marketing not at all');
    const token = await consentToken(page);
    const stored = await storedConsent(server, token, site.key);
    assert.ok(stored.event.customPurposes.includes('analytics'), `stored custom purposes ${stored.event.customPurposes} include analytics`);
    assert.ok(!stored.event.customPurposes.includes('marketing'), 'stored custom purposes exclude marketing');
    assert.equal(stored.event.tcString, undefined, 'an opt-in site records no TC string');
    assert.equal(await page.evaluate(() => window.NexaGuard.hasConsent('analytics')), true, 'hasConsent(analytics)');
    assert.equal(await page.evaluate(() => window.NexaGuard.hasConsent('marketing')), false, 'hasConsent(marketing)');

    await page.reload({ waitUntil: 'domcontentloaded' });
    await page.waitForFunction(() => window.__analyticsRan === 1).catch(async (e) => {
      throw new Error(`after a reload the consented analytics script did not run: ${JSON.stringify(await ran(page))} (${e.message})`);
    });
    await settled(page);
    assert.deepEqual(await ran(page), { analytics: 1, marketing: 0 }, 'after a reload: analytics once, marketing never');
    assert.equal(await banner(page).isVisible(), false, 'no banner after the reload');
    const cookies = await pageCookies(page);
    assert.ok(cookies._ga_x && cookies._gid, `the page's analytics cookies exist before withdrawal: ${JSON.stringify(cookies)}`);

    // Withdrawal: the preference center again, analytics unticked.
    await page.evaluate(() => window.NexaGuard.showPreferences());
    await prefs(page).waitFor({ state: 'visible' });
    await setChoices(page, { category: new Set() });
    await prefsButton(page, 'save').click();
    await prefs(page).waitFor({ state: 'hidden' });
    await page.waitForFunction(() => !/(^|;\s*)(_ga_x|_gid)=/.test(document.cookie)).catch(async (e) => {
      throw new Error(`withdrawing analytics did not delete _ga_x and _gid: document.cookie = ${JSON.stringify(await pageCookies(page))} (${e.message})`);
    });
    const left = await pageCookies(page);
    assert.equal(left.site_pref, 'dark', 'withdrawal deletes only the configured cookies');
    assert.equal(await page.evaluate(() => window.NexaGuard.hasConsent('analytics')), false, 'hasConsent(analytics) after withdrawal');
    assert.equal(await page.evaluate(() => window.NexaGuard.getConsent().consentToken), token,
      'the withdrawal is posted with the earlier consentToken, which the receipt keeps');
    await poll('the withdrawal (analytics no longer granted) in the store', async () => {
      const s = await server.consentState(token, site.key);
      return !s.event.customPurposes.includes('analytics');
    });
    assert.equal(pageErrors(ctx), null);
  });
});

test('opt-in: after reject all the blocked scripts stay blocked, also after a reload', async () => {
  const { server, browser } = env;
  await withContext(browser, server, async (ctx) => {
    const url = await definePage(ctx, { key: site.key, name: 'opt-in-reject', body: BODY });
    const page = await openPage(ctx, url);
    await banner(page).waitFor({ state: 'visible' });
    await bannerButton(page, 'reject-all').click();
    await banner(page).waitFor({ state: 'hidden' });
    await consentToken(page);
    await settled(page);
    assert.deepEqual(await ran(page), { analytics: 0, marketing: 0 }, 'nothing runs after reject all');
    const consent = await getConsent(page);
    assert.equal(consent.tcString ?? undefined, undefined, 'no TC string on an opt-in site');

    await page.reload({ waitUntil: 'domcontentloaded' });
    await settled(page);
    assert.equal(await banner(page).isVisible(), false, 'the rejection holds: no banner after a reload');
    assert.deepEqual(await ran(page), { analytics: 0, marketing: 0 }, 'nothing runs after a reload either');
    assert.equal(pageErrors(ctx), null);
  });
});

test('opt-in: accept all runs every blocked script once', async () => {
  const { server, browser } = env;
  await withContext(browser, server, async (ctx) => {
    const url = await definePage(ctx, { key: site.key, name: 'opt-in-accept-all', body: BODY });
    const page = await openPage(ctx, url);
    await banner(page).waitFor({ state: 'visible' });
    await bannerButton(page, 'accept-all').click();
    await page.waitForFunction(() => window.__analyticsRan === 1 && window.__marketingRan === 1).catch(async (e) => {
      throw new Error(`after accept all not every blocked script ran: ${JSON.stringify(await ran(page))} (${e.message})`);
    });
    await settled(page);
    assert.deepEqual(await ran(page), { analytics: 1, marketing: 1 }, 'each ran exactly once');
    assert.equal(pageErrors(ctx), null);
  });
});
