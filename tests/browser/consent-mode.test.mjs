// Google Consent Mode v2 in dataLayer: the snippet's `default` (with the
// configured values) before any `update`; after accept all, reject all and a
// custom choice an `update` with the states the site's mapping implies; then
// the `nexaguard_consent` event carrying the state.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { definePage, openPage, setup, withContext } from './lib/harness.mjs';
import { CONSENT_MODE_TYPES, consentModeDefault, consentModeFor, sortNum } from './lib/expect.mjs';
import {
  DATALAYER_AT_STUB, banner, bannerButton, dataLayer, openPreferencesFromBanner, pageErrors, prefs,
  prefsButton, sdkReady, setChoices,
} from './lib/sdk.mjs';

let env;
let key;
let config;

before(async () => {
  env = await setup();
  key = await env.server.demoKey();
  config = (await env.server.siteConfig(key)).config;
});

after(async () => {
  await env?.close();
});

const isConsent = (e, kind) => e.gtag && e.gtag[0] === 'consent' && e.gtag[1] === kind;
const fmt = (entries) => entries.map((e) => JSON.stringify(e)).join('\n  ');

/** Checks the `default` command the stub pushed. */
function checkDefault(entries, where) {
  const defaults = entries.filter((e) => isConsent(e, 'default'));
  assert.ok(defaults.length >= 1, `${where}: a gtag('consent', 'default', ...) arguments entry; dataLayer:\n  ${fmt(entries)}`);
  const regionless = defaults.filter((e) => !('region' in (e.gtag[2] ?? {})));
  assert.equal(regionless.length, 1, `${where}: exactly one default without region; dataLayer:\n  ${fmt(entries)}`);
  const { states, waitForUpdateMs } = consentModeDefault(config);
  const got = regionless[0].gtag[2];
  const gotStates = Object.fromEntries(CONSENT_MODE_TYPES.map((t) => [t, got[t]]));
  assert.deepEqual(gotStates, states, `${where}: the default states are the configuration's (types left out denied)`);
  assert.equal(got.wait_for_update, waitForUpdateMs, `${where}: wait_for_update from the configuration`);
}

/**
 * One visitor, one choice: the default from the stub, then after the
 * choice an update with `expected` and the nexaguard_consent event.
 */
async function consentModeRoundTrip(name, choose, grantedPurposes) {
  const { server, browser } = env;
  await withContext(browser, server, async (ctx) => {
    const url = await definePage(ctx, { key, name, after: DATALAYER_AT_STUB });
    const page = await openPage(ctx, url);

    const atStub = await page.evaluate(() => window.__dataLayerAtStub);
    checkDefault(atStub, 'dataLayer right after the snippet, before the SDK');
    const redaction = atStub.some((e) => e.gtag && e.gtag[0] === 'set' && e.gtag[1] === 'ads_data_redaction' && e.gtag[2] === true);
    assert.equal(redaction, config.consentMode.adsDataRedaction,
      `gtag('set', 'ads_data_redaction', true) before the SDK iff configured; dataLayer:\n  ${fmt(atStub)}`);
    const passthrough = atStub.some((e) => e.gtag && e.gtag[0] === 'set' && e.gtag[1] === 'url_passthrough' && e.gtag[2] === true);
    assert.equal(passthrough, config.consentMode.urlPassthrough, 'url_passthrough iff configured');

    await sdkReady(page);
    await banner(page).waitFor({ state: 'visible' });
    await choose(page);
    await page.waitForFunction(() => (window.dataLayer || []).some((e) => e && e.event === 'nexaguard_consent'))
      .catch(async (e) => {
        throw new Error(`no {event: 'nexaguard_consent'} in dataLayer after the choice; dataLayer:\n  ${fmt(await dataLayer(page))} (${e.message})`);
      });
    const entries = await dataLayer(page);
    const firstUpdate = entries.findIndex((e) => isConsent(e, 'update'));
    assert.ok(firstUpdate >= 0, `a gtag('consent', 'update', ...) after the choice; dataLayer:\n  ${fmt(entries)}`);
    const lastDefault = entries.findLastIndex((e) => isConsent(e, 'default'));
    assert.ok(lastDefault >= 0 && lastDefault < firstUpdate, `every default comes before the first update; dataLayer:\n  ${fmt(entries)}`);
    checkDefault(entries.slice(0, firstUpdate), 'dataLayer before the first update');

    const expected = consentModeFor(config, { purposes: grantedPurposes });
    const eventAt = entries.findIndex((e) => e.push && e.push.event === 'nexaguard_consent');
    const updates = entries.map((e, i) => [e, i]).filter(([e, i]) => isConsent(e, 'update') && i < eventAt);
    assert.ok(updates.length > 0, `the update comes before the nexaguard_consent event; dataLayer:\n  ${fmt(entries)}`);
    const update = updates.at(-1)[0].gtag[2];
    const got = Object.fromEntries(CONSENT_MODE_TYPES.map((t) => [t, update[t]]));
    assert.deepEqual(got, expected, `the update's states follow from purposes ${JSON.stringify(grantedPurposes)} through the mapping`);

    const state = entries[eventAt].push.nexaguard;
    assert.ok(state && typeof state === 'object', 'the nexaguard_consent event carries the state under `nexaguard`');
    assert.deepEqual(state.consentMode, expected, 'the state in the nexaguard_consent event has the Consent Mode states');
    const consentModeNow = await page.evaluate(() => window.NexaGuard.getConsent().consentMode);
    assert.deepEqual(consentModeNow, expected, 'getConsent().consentMode');
    assert.equal(pageErrors(ctx), null);
  });
}

test('Consent Mode: default before update, accept all grants every mapped type', async () => {
  await consentModeRoundTrip('cm-accept', (page) => bannerButton(page, 'accept-all').click(), sortNum(config.purposes));
});

test('Consent Mode: reject all leaves only what necessary purposes grant', async () => {
  await consentModeRoundTrip('cm-reject', (page) => bannerButton(page, 'reject-all').click(), []);
});

test('Consent Mode: a custom choice (purposes 1, 2, 7) grants exactly the types all of whose purposes are granted', async () => {
  const custom = async (page) => {
    await openPreferencesFromBanner(page);
    await setChoices(page, { purpose: new Set(['1', '2', '7']) });
    await prefsButton(page, 'save').click();
    await prefs(page).waitFor({ state: 'hidden' });
  };
  // ad_storage, ad_user_data, personalization_storage granted; ad_personalization
  // (3, 4) and analytics_storage (1, 8) denied; the necessary ones granted.
  await consentModeRoundTrip('cm-custom', custom, [1, 2, 7]);
});
