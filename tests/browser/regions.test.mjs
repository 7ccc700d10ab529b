// Regional experiences end to end: one TCF site with rules (TCF in the
// EEA/UK/CH, the US states' GPP sections where a state law applies, nothing
// elsewhere), a server that trusts the `x-geo` header as a CDN would set
// it, and Chromium as visitors in FR, US-CA (with Global Privacy Control),
// US-TX and JP. For each: what the page shows, __tcfapi and __gpp, the
// Consent Mode defaults in dataLayer order, the strings decoded by the
// Rust codecs and by @iabgpp/cmpapi, and the stored record.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { GppModel } from '@iabgpp/cmpapi';
import { definePage, openPage, poll, repoJson, setup, withContext } from './lib/harness.mjs';
import {
  banner, bannerButton, consentToken, DATALAYER_AT_STUB, pageErrors, sdkReady, storedConsent,
} from './lib/sdk.mjs';

const NOTICE = '[data-nexaguard="notice"][role="region"]';
const OPT_OUT = '[data-nexaguard="opt_out"][role="dialog"]';

let env;
let site;
let config;

before(async () => {
  env = await setup({ args: ['--region-header', 'x-geo'] });
  const optIn = repoJson('crates/server/tests/fixtures/opt-in-site.json');
  config = {
    ...repoJson('crates/server/tests/fixtures/tcf-site.json'),
    customPurposes: optIn.customPurposes,
    consentMode: optIn.consentMode,
    regions: [
      { match: ['eea_uk_ch'], experience: { kind: 'tcf' } },
      { match: ['us_comprehensive'], experience: { kind: 'us', gppSections: 'state' } },
      { match: ['everywhere'], experience: { kind: 'none' } },
    ],
  };
  site = await env.server.createSite('regions', config);
});

after(async () => {
  await env?.close();
});

/** A blocked marketing tag: it must not run while sale/sharing is opted out. */
const BODY = `<script type="text/plain" data-nexaguard-category="marketing">window.__marketingRan = (window.__marketingRan || 0) + 1;</script>`;

/**
 * A context whose requests to the region endpoint carry `headers`, as the
 * operator's CDN would add them (the page itself sets nothing); `gpc`
 * makes the browser send Global Privacy Control, as a browser with it
 * turned on does (the property and the Sec-GPC header).
 */
async function visitor(ctx, headers, { gpc = false } = {}) {
  await ctx.context.route((u) => u.pathname.endsWith('/region'), (route) => route.continue({
    headers: { ...route.request().headers(), ...headers },
  }));
  if (gpc) {
    await ctx.context.setExtraHTTPHeaders({ 'Sec-GPC': '1' });
    await ctx.context.addInitScript(() => {
      Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', { get: () => true, configurable: true });
    });
  }
}

const gpp = (page, command, parameter) => page.evaluate(([c, p]) => new Promise((resolve) => {
  window.__gpp(c, (value, success) => resolve({ value, success }), p);
}), [command, parameter]);

/** The gtag consent calls in the dataLayer, in order. */
const consentCalls = (page) => page.evaluate(() => (window.dataLayer || [])
  .filter((e) => Object.prototype.toString.call(e) === '[object Arguments]' && e[0] === 'consent')
  .map((e) => ({ command: e[1], states: JSON.parse(JSON.stringify(e[2])) })));

/** The settings element's consentDefaults: the server's per-region defaults, in rule order. */
const snippetDefaults = async (key) => {
  const { html } = await env.server.snippet(key);
  const json = /<script type="application\/json" id="nexaguard-settings">(.*?)<\/script>/s.exec(html)[1];
  return JSON.parse(json).consentDefaults;
};

function cli(args) {
  const r = spawnSync(env.server.bin, args, { encoding: 'utf8' });
  assert.equal(r.status, 0, `nexaguard ${args.join(' ')}: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

/** @iabgpp/cmpapi's reading of a GPP string: section name to fields. */
function referenceDecode(gppString) {
  const model = new GppModel(gppString);
  const out = {};
  for (const id of model.getSectionIds()) {
    const name = { 2: 'tcfeuv2', 7: 'usnat', 8: 'usca' }[id] ?? String(id);
    out[name] = model.getSection(name);
  }
  return out;
}

async function regionAnswer(page) {
  return page.evaluate(() => window.__regionAnswer);
}

/** Records the region answer the SDK read, for the assertions. */
const REGION_SPY = `<script>
(function () {
  var f = window.fetch;
  window.fetch = function (u, o) {
    var p = f.call(this, u, o);
    if (String(u).indexOf('/region') >= 0) p.then(function (r) { return r.clone().json(); }).then(function (a) { window.__regionAnswer = a; });
    return p;
  };
})();
</script>`;

async function page(ctx, name) {
  const url = await definePage(ctx, { key: site.key, name, before: REGION_SPY, after: DATALAYER_AT_STUB, body: BODY });
  const p = await openPage(ctx, url);
  await sdkReady(p);
  await poll('the region answer', () => regionAnswer(p));
  return p;
}

test('the stub pushes every region\'s Consent Mode default, in rule order, before any update', async () => {
  const defaults = await snippetDefaults(site.key);
  assert.deepEqual(defaults.map((d) => d.region?.[0] ?? 'everywhere').slice(0, 1), ['AT'], 'the EEA rule comes first');
  assert.equal(defaults.at(-1).region, undefined, 'the catch-all comes last');
  const eea = defaults[0];
  assert.equal(eea.ad_storage, 'denied', 'opt-in law: denied by default');
  const us = defaults.find((d) => d.region?.includes('US-CA'));
  assert.equal(us.ad_user_data, 'granted', 'opt-out law: granted by default');
  await withContext(env.browser, env.server, async (ctx) => {
    await visitor(ctx, { 'x-geo': 'JP' });
    const p = await page(ctx, 'regions-order');
    const atStub = await p.evaluate(() => window.__dataLayerAtStub.filter((e) => e.gtag && e.gtag[0] === 'consent').map((e) => e.gtag[2]));
    assert.deepEqual(atStub, defaults, 'the dataLayer holds the snippet\'s defaults in its order before the SDK ran');
    assert.equal(pageErrors(ctx), null);
  });
});

test('FR: the TCF banner, and __gpp carries tcfeuv2 with the TC string of __tcfapi', async () => {
  await withContext(env.browser, env.server, async (ctx) => {
    await visitor(ctx, { 'x-geo': 'FR' });
    const p = await page(ctx, 'regions-fr');
    const answer = await regionAnswer(p);
    assert.equal(answer.region, 'FR');
    assert.equal(answer.experience.experience.kind, 'tcf');
    await banner(p).waitFor({ state: 'visible' });
    await bannerButton(p, 'accept-all').click();
    const token = await consentToken(p);
    const tc = await p.evaluate(() => new Promise((r) => window.__tcfapi('getTCData', 2, (d) => r(d.tcString))));
    assert.match(tc, /^C/);
    const ping = (await gpp(p, 'ping')).value;
    assert.deepEqual(ping.applicableSections, [2]);
    assert.equal(ping.signalStatus, 'ready');
    const decoded = cli(['gpp', 'decode', ping.gppString]);
    assert.deepEqual(decoded.sectionIds, [2]);
    assert.deepEqual(decoded.sections.tcfeuv2, cli(['gpp', 'decode', tc]).sections.tcfeuv2, 'the tcfeuv2 section is the TC string of __tcfapi');
    const reference = referenceDecode(ping.gppString);
    assert.deepEqual(Object.keys(reference), ['tcfeuv2'], '@iabgpp/cmpapi reads the same sections');
    assert.equal((await gpp(p, 'hasSection', 'tcfeuv2')).value, true);
    const tcDecoded = env.server.decodeTc(tc);
    assert.deepEqual(tcDecoded.purposeConsents.map(Number).sort((a, b) => a - b), config.purposes, 'accept all: every purpose of the site');

    const stored = (await storedConsent(env.server, token, site.key)).event;
    assert.equal(stored.region, 'FR');
    assert.equal(stored.experience, 'tcf');
    assert.equal(stored.tcString, tc);
    assert.equal(stored.gppString, ping.gppString);
    assert.deepEqual(stored.gppSectionIds, [2]);
    assert.equal(stored.noticeVersion, answer.noticeVersion);
    assert.match(stored.impressionId, /^[0-9a-f-]{36}$/, 'the choice names the impression of the banner it answered');
    assert.equal(pageErrors(ctx), null);
  });
});

test('US-CA with Global Privacy Control: no blocking banner, the opt-out is made before any tag, and shown', async () => {
  await withContext(env.browser, env.server, async (ctx) => {
    await visitor(ctx, { 'x-geo': 'US-CA' }, { gpc: true });
    const p = await page(ctx, 'regions-ca');
    const answer = await regionAnswer(p);
    assert.equal(answer.region, 'US-CA');
    assert.equal(answer.gpc, true, 'the server saw Sec-GPC');
    assert.equal(answer.experience.experience.kind, 'us');
    await p.locator(NOTICE).waitFor({ state: 'visible' });
    assert.equal(await banner(p).count(), 0, 'no banner dialog');
    assert.equal(await p.locator(`${NOTICE} [data-nexaguard="gpc"]`).count(), 1, 'the notice says the signal was honoured');
    assert.equal(await p.evaluate(() => typeof window.__tcfapi), 'undefined', 'no TCF here');
    assert.equal(await p.evaluate(() => window.__marketingRan ?? 0), 0, 'the marketing tag never ran');

    const updates = (await consentCalls(p)).filter((c) => c.command === 'update');
    assert.equal(updates[0].states.ad_user_data, 'denied', 'the first update already denies ad_user_data');
    assert.equal(updates[0].states.ad_personalization, 'denied');

    const ping = (await gpp(p, 'ping')).value;
    assert.deepEqual(ping.applicableSections, [8], 'usca');
    const usca = cli(['gpp', 'decode', ping.gppString]).sections.usca;
    assert.equal(usca.SaleOptOut, 1, 'opted out of sale');
    assert.equal(usca.SharingOptOut, 1, 'opted out of sharing');
    assert.equal(usca.Gpc, true, 'the GPC sub-section is set');
    const reference = referenceDecode(ping.gppString).usca;
    assert.equal(reference.SaleOptOut, 1, '@iabgpp/cmpapi reads the same opt-out');
    assert.equal(reference.Gpc, true);

    const token = await consentToken(p);
    const stored = (await storedConsent(env.server, token, site.key)).event;
    assert.equal(stored.source, 'gpc', 'the record says the choice came from GPC');
    assert.deepEqual(stored.gpc, { present: true, applied: true });
    assert.equal(stored.region, 'US-CA');
    assert.equal(stored.experience, 'us');
    assert.deepEqual(stored.gppSectionIds, [8]);
    assert.equal(stored.gppString, ping.gppString);
    assert.equal(pageErrors(ctx), null);
  });
});

test('US-TX without GPC: the notice blocks nothing until the visitor opts out, which the next page keeps', async () => {
  await withContext(env.browser, env.server, async (ctx) => {
    await visitor(ctx, { 'x-geo': 'US-TX' });
    const p = await page(ctx, 'regions-tx');
    const answer = await regionAnswer(p);
    assert.equal(answer.experience.experience.kind, 'us');
    await p.locator(NOTICE).waitFor({ state: 'visible' });
    assert.equal(await p.locator(`${NOTICE} [data-nexaguard="gpc"]`).count(), 0);
    await poll('the marketing tag to run (opt-out law, no opt-out yet)', () => p.evaluate(() => window.__marketingRan === 1));

    await p.locator(`${NOTICE} button[data-action="opt-out"]`).click();
    await p.locator(OPT_OUT).waitFor({ state: 'visible' });
    await p.locator(`${OPT_OUT} input[data-opt-out="sale"]`).uncheck();
    await p.locator(`${OPT_OUT} button[data-action="save"]`).click();
    await p.locator(OPT_OUT).waitFor({ state: 'hidden' });
    const token = await consentToken(p);
    const stored = (await storedConsent(env.server, token, site.key)).event;
    assert.equal(stored.source, 'preference_center');
    assert.deepEqual(stored.gpc, { present: false, applied: false });
    assert.deepEqual(stored.gppSectionIds, answer.experience.gppSectionIds);
    const decoded = cli(['gpp', 'decode', stored.gppString]);
    const section = Object.values(decoded.sections)[0];
    assert.equal(section.SaleOptOut, 1, 'opted out of sale');
    // The switch is "sale and sharing": where the state's section has no
    // sharing opt-out, sharing (cross-context advertising) counts as
    // targeted advertising, so that the opt-out is not dropped.
    assert.equal(section.TargetedAdvertisingOptOut, 'SharingOptOut' in section ? 2 : 1);

    // The next page: the stored opt-out wins over the region's granted default.
    await p.reload({ waitUntil: 'domcontentloaded' });
    await sdkReady(p);
    assert.equal(await p.locator(NOTICE).count(), 0, 'no notice again');
    const state = await p.evaluate(() => window.NexaGuard.getConsent());
    assert.equal(state.consentMode.ad_user_data, 'denied');
    assert.equal(state.categories.includes('marketing'), false);
    assert.equal(pageErrors(ctx), null);
  });
});

test('JP: nothing is shown, every category holds and __gpp applies no section', async () => {
  await withContext(env.browser, env.server, async (ctx) => {
    await visitor(ctx, { 'x-geo': 'JP' });
    const p = await page(ctx, 'regions-jp');
    assert.equal((await regionAnswer(p)).experience.experience.kind, 'none');
    assert.equal(await banner(p).count(), 0);
    assert.equal(await p.locator(NOTICE).count(), 0);
    assert.equal(await p.evaluate(() => window.NexaGuard.hasConsent('marketing')), true);
    assert.equal(await p.evaluate(() => typeof window.__tcfapi), 'undefined');
    assert.deepEqual((await gpp(p, 'ping')).value.applicableSections, [-1]);
    assert.equal(pageErrors(ctx), null);
  });
});

test('a region header the server was not told to trust changes nothing', async () => {
  await withContext(env.browser, env.server, async (ctx) => {
    await visitor(ctx, { 'cf-ipcountry': 'FR', 'cloudfront-viewer-country': 'FR' });
    const p = await page(ctx, 'regions-untrusted');
    const answer = await regionAnswer(p);
    assert.equal(answer.region, null, 'the untrusted headers gave no region');
    assert.equal(answer.experience.experience.kind, 'none', 'the catch-all applies, not the TCF of FR');
    assert.equal(await banner(p).count(), 0);
  });
});

test('a traveller keeps a choice within an experience and is asked again when the experience changes', async () => {
  await withContext(env.browser, env.server, async (ctx) => {
    let geo = 'DE';
    await ctx.context.route((u) => u.pathname.endsWith('/region'), (route) => route.continue({
      headers: { ...route.request().headers(), 'x-geo': geo },
    }));
    const p = await page(ctx, 'regions-travel');
    await banner(p).waitFor({ state: 'visible' });
    await bannerButton(p, 'reject-all').click();
    await consentToken(p);
    geo = 'IT';
    await p.reload({ waitUntil: 'domcontentloaded' });
    await sdkReady(p);
    assert.equal(await banner(p).count(), 0, 'DE to IT: same experience, the choice holds');
    assert.notEqual(await p.evaluate(() => window.NexaGuard.getConsent()), null);
    geo = 'US-CA';
    await p.reload({ waitUntil: 'domcontentloaded' });
    await sdkReady(p);
    await p.locator(NOTICE).waitFor({ state: 'visible' });
  });
});
