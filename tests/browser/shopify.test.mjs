// The Shopify bridge (integrations/shopify/nexaguard-shopify.js) on a
// storefront page: Shopify's Customer Privacy API follows the visitor's
// NexaGuard choice. Shopify's API is stood in for by a fake with the same
// surface (loadFeatures, customerPrivacy.currentVisitorConsent and
// setTrackingConsent) that records each call, since the real one exists
// only on Shopify's servers.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { REPO, definePage, openPage, repoJson, setup, withContext } from './lib/harness.mjs';
import {
  banner, bannerButton, openPreferencesFromBanner, pageErrors, prefs, prefsButton, sdkReady, setChoices,
} from './lib/sdk.mjs';

const BRIDGE = fs.readFileSync(path.join(REPO, 'integrations/shopify/nexaguard-shopify.js'), 'utf8');

/** Shopify's API as a storefront has it before `loadFeatures`. */
const FAKE_SHOPIFY = `<script>
window.__shopifyCalls = [];
window.Shopify = {
  loadFeatures(features, callback) {
    window.__shopifyCalls.push(['loadFeatures', features.map((f) => f.name).join()]);
    setTimeout(() => {
      let consent = { analytics: '', marketing: '', preferences: '', sale_of_data: '' };
      window.Shopify.customerPrivacy = {
        currentVisitorConsent: () => ({ ...consent }),
        setTrackingConsent(wanted, done) {
          window.__shopifyCalls.push(['setTrackingConsent', wanted]);
          consent = Object.fromEntries(Object.entries(wanted).map(([k, v]) => [k, v ? 'yes' : 'no']));
          setTimeout(done, 0);
        },
      };
      callback();
    }, 20);
  },
};
</script>`;

const calls = (page) => page.evaluate(() => window.__shopifyCalls);
const sets = async (page) => (await calls(page)).filter(([name]) => name === 'setTrackingConsent').map(([, c]) => c);

const ALL = { analytics: true, marketing: true, preferences: true, sale_of_data: true };
const NONE = { analytics: false, marketing: false, preferences: false, sale_of_data: false };

let env;
let site;

before(async () => {
  env = await setup();
  site = await env.server.createSite('shopify', repoJson('crates/server/tests/fixtures/opt-in-site.json'));
});

after(async () => {
  await env?.close();
});

/** A storefront page: Shopify's API, the NexaGuard snippet, the bridge. */
function storefront(ctx, name) {
  return definePage(ctx, { key: site.key, name, before: FAKE_SHOPIFY, after: `<script>${BRIDGE}</script>` });
}

test('Shopify is told nothing before the visitor chooses, then accept all, and the stored choice on the next page', async () => {
  const { server, browser } = env;
  await withContext(browser, server, async (ctx) => {
    const page = await openPage(ctx, await storefront(ctx, 'shopify-first'));
    await banner(page).waitFor({ state: 'visible' });
    await sdkReady(page);
    assert.deepEqual(await sets(page), [], 'no consent is set for a visitor who has not chosen');

    await bannerButton(page, 'accept-all').click();
    await page.waitForFunction(() => window.__shopifyCalls.some(([n]) => n === 'setTrackingConsent'));
    assert.deepEqual(await sets(page), [ALL], 'accept all grants every Shopify category');
    assert.deepEqual((await calls(page))[0], ['loadFeatures', 'consent-tracking-api'],
      'the Customer Privacy API is loaded the way Shopify documents');

    const next = await openPage(ctx, await storefront(ctx, 'shopify-returning'));
    await sdkReady(next);
    await next.waitForFunction(() => window.__shopifyCalls.some(([n]) => n === 'setTrackingConsent'));
    assert.deepEqual(await sets(next), [ALL], 'a returning visitor\'s stored choice is set on page load');
    assert.equal(pageErrors(ctx), null);
  });
});

test('reject all denies every Shopify category, and a later choice of analytics alone grants analytics only', async () => {
  const { server, browser } = env;
  await withContext(browser, server, async (ctx) => {
    const page = await openPage(ctx, await storefront(ctx, 'shopify-reject'));
    await banner(page).waitFor({ state: 'visible' });
    await bannerButton(page, 'reject-all').click();
    await page.waitForFunction(() => window.__shopifyCalls.some(([n]) => n === 'setTrackingConsent'));
    assert.deepEqual(await sets(page), [NONE], 'reject all denies analytics, marketing, preferences and the sale of data');

    await page.evaluate(() => window.NexaGuard.showPreferences());
    await prefs(page).waitFor({ state: 'visible' });
    await setChoices(page, { category: new Set(['analytics']) });
    await prefsButton(page, 'save').click();
    await page.waitForFunction(() => window.__shopifyCalls.filter(([n]) => n === 'setTrackingConsent').length === 2)
      .catch(async (e) => { throw new Error(`${e.message}: ${JSON.stringify(await calls(page))}`); });
    assert.deepEqual((await sets(page))[1], { ...NONE, analytics: true }, 'only analytics is granted');
    assert.equal(pageErrors(ctx), null);
  });
});

test('the same choice made again is not set again', async () => {
  const { server, browser } = env;
  await withContext(browser, server, async (ctx) => {
    const page = await openPage(ctx, await storefront(ctx, 'shopify-same'));
    await banner(page).waitFor({ state: 'visible' });
    await openPreferencesFromBanner(page);
    await setChoices(page, { category: new Set(['marketing']) });
    await prefsButton(page, 'save').click();
    await page.waitForFunction(() => window.__shopifyCalls.some(([n]) => n === 'setTrackingConsent'));
    await page.evaluate(() => window.NexaGuard.showPreferences());
    await prefsButton(page, 'save').click();
    await prefs(page).waitFor({ state: 'hidden' });
    // The second save's event has been handled once the API's promise ran.
    await page.evaluate(() => new Promise((r) => setTimeout(r, 200)));
    assert.deepEqual(await sets(page), [{ ...NONE, marketing: true, sale_of_data: true }],
      'marketing (and with it the sale of data) set once, not again for the same choice');
  });
});

test('outside Shopify the bridge does nothing and raises no error', async () => {
  const { server, browser } = env;
  await withContext(browser, server, async (ctx) => {
    const url = await definePage(ctx, { key: site.key, name: 'not-shopify', after: `<script>${BRIDGE}</script>` });
    const warnings = [];
    const page = await openPage(ctx, url);
    page.on('console', (m) => { if (m.type() === 'warning' || m.type() === 'error') warnings.push(m.text()); });
    await banner(page).waitFor({ state: 'visible' });
    await bannerButton(page, 'accept-all').click();
    await banner(page).waitFor({ state: 'hidden' });
    await page.evaluate(() => new Promise((r) => setTimeout(r, 200)));
    assert.equal(pageErrors(ctx), null);
    assert.deepEqual(warnings.filter((w) => w.includes('Shopify')), []);
  });
});
