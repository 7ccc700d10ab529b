// TCF in a real browser: the demo site (a TCF site) through the
// installation snippet; a third-party listener registered on the stub
// before the SDK loaded; accept all, reject all and a custom choice, each
// decoded by the Rust tcf crate and found in the store; a cross-origin
// frame through postMessage; the choice after a reload.
//
//   npm ci --prefix tests/browser && node --test tests/browser/

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { definePage, openPage, setup, withContext } from './lib/harness.mjs';
import {
  NEVER_LI, consentModeFor, purposesDeclared, sortNum, subset, vendorsDeclaring,
} from './lib/expect.mjs';
import {
  PREFS, TCF_LISTENER, banner, bannerButton, checkboxIds, checkboxStates, consentToken, cookie,
  getConsent, openPreferencesFromBanner, pageErrors, prefs, prefsButton, reopenButton, sdkReady,
  setChoices, storedConsent, tcfEvents, tcfapi, waitTcfEvent,
} from './lib/sdk.mjs';

let env;
let key;
let config;

before(async () => {
  env = await setup();
  key = await env.server.demoKey();
  config = (await env.server.siteConfig(key)).config;
  assert.equal(config.regulation, 'tcf', 'the demo site is a TCF site');
});

after(async () => {
  await env?.close();
});

/** The custom choice of these tests, as checkbox ids per kind. */
function customChoice(liPresent) {
  return {
    purpose: new Set(['1', '2', '7']),
    purposeLi: new Set(liPresent.filter((p) => p !== '8')),
    specialFeature: new Set(['1']),
    vendor: new Set(['2']),
    vendorLi: new Set(['2']),
  };
}

/**
 * Makes the custom choice through the preference center; checks first that
 * it offers what the site configures and that no consent is pre-ticked.
 * Returns the purpose-LI checkbox ids it offered.
 */
async function chooseCustom(page) {
  await openPreferencesFromBanner(page);
  const has = async (attr, ids, what) => {
    const present = await checkboxIds(page, attr);
    const missing = ids.map(String).filter((id) => !present.includes(id));
    assert.deepEqual(missing, [], `the preference center lacks ${what} checkboxes (input[${attr}]) for ${missing}`);
    return present;
  };
  await has('data-purpose', config.purposes, 'purpose consent');
  await has('data-special-feature', config.specialFeatures, 'special feature');
  await has('data-vendor', vendorsDeclaring(config.vendors, 'purposes'), 'vendor consent');
  await has('data-vendor-li', vendorsDeclaring(config.vendors, 'legIntPurposes'), 'vendor legitimate-interest');
  const liPresent = await has('data-purpose-li', purposesDeclared(config, 'legIntPurposes'), 'purpose legitimate-interest');
  const badLi = liPresent.filter((p) => NEVER_LI.has(Number(p)) || !config.purposes.includes(Number(p)));
  assert.deepEqual(badLi, [], 'legitimate interest offered for purposes that cannot rest on it or are not the site\'s');
  for (const attr of ['data-purpose', 'data-special-feature', 'data-vendor']) {
    const ticked = Object.entries(await checkboxStates(page, attr)).filter(([, c]) => c).map(([id]) => id);
    assert.deepEqual(ticked, [], `consent checkboxes input[${attr}] are pre-ticked: ${ticked}`);
  }
  await setChoices(page, customChoice(liPresent));
  await prefsButton(page, 'save').click();
  await prefs(page).waitFor({ state: 'hidden' });
  return liPresent;
}

/**
 * One visitor, one choice: the page with a third-party __tcfapi listener
 * registered before the SDK, the banner, the choice, then the
 * useractioncomplete TC string decoded by the Rust crate, the cookies and
 * the stored consent event.
 */
async function choiceRoundTrip(name, choose, expect) {
  const { server, browser } = env;
  await withContext(browser, server, async (ctx) => {
    const url = await definePage(ctx, { key, name, after: TCF_LISTENER });
    const page = await openPage(ctx, url);

    const listener = await page.evaluate(() => window.__tcfListener);
    assert.equal(listener.apiType, 'function', 'the snippet\'s stub defines __tcfapi for the scripts after it');
    assert.equal(listener.sdkFetched, false, 'the listener must register on the stub, before the SDK loaded');

    await banner(page).waitFor({ state: 'visible' });
    for (const action of ['accept-all', 'reject-all', 'settings']) {
      assert.ok(await bannerButton(page, action).isVisible(), `banner button ${action} is visible`);
    }
    const shown = await waitTcfEvent(page, 'cmpuishown');
    assert.equal(shown.success, true, 'cmpuishown success');
    assert.equal(shown.gdprApplies, true, 'gdprApplies from the site configuration');

    const offered = await choose(page);

    const uac = await waitTcfEvent(page, 'useractioncomplete');
    assert.equal(uac.success, true, 'useractioncomplete success');
    assert.ok(typeof uac.tcString === 'string' && uac.tcString.length > 0, 'useractioncomplete carries a tcString');
    const tc = server.decodeTc(uac.tcString);
    const want = expect(offered);
    const got = {
      purposeConsents: sortNum(tc.purposeConsents),
      purposeLegitimateInterests: sortNum(tc.purposeLegitimateInterests),
      vendorConsents: sortNum(tc.vendorConsents),
      vendorLegitimateInterests: sortNum(tc.vendorLegitimateInterests),
      specialFeatureOptins: sortNum(tc.specialFeatureOptins),
    };
    for (const [field, rule] of Object.entries(want)) {
      if (field === 'action' || field === 'source') continue;
      if (Array.isArray(rule)) {
        assert.deepEqual(got[field], rule, `${field} of the TC string ${uac.tcString}`);
      } else {
        assert.ok(subset(rule.atLeast, got[field]) && subset(got[field], rule.atMost),
          `${field} of the TC string ${uac.tcString} is ${JSON.stringify(got[field])}; `
            + `expected all of ${JSON.stringify(rule.atLeast)} and nothing outside ${JSON.stringify(rule.atMost)}`);
      }
    }
    assert.deepEqual(sortNum(tc.vendorsDisclosed), sortNum(config.vendors),
      `vendorsDisclosed of ${uac.tcString} must be the site's vendors`);
    assert.equal(tc.cmpId, config.cmpId, 'cmpId');
    assert.equal(tc.cmpVersion, config.cmpVersion, 'cmpVersion');
    assert.equal(tc.isServiceSpecific, true, 'a CMP of one site writes service-specific TC strings');
    assert.equal(tc.publisherCountryCode, config.publisherCountry, 'publisherCountryCode');
    const granted = Object.entries(uac.purposeConsents ?? {}).filter(([, v]) => v).map(([k]) => Number(k));
    assert.deepEqual(sortNum(granted), got.purposeConsents, 'tcData.purpose.consents agrees with the TC string');

    assert.equal(await cookie(ctx.context, 'euconsent-v2'), uac.tcString, 'the euconsent-v2 cookie holds the TC string');
    await banner(page).waitFor({ state: 'hidden' });
    await reopenButton(page).waitFor({ state: 'visible' });

    const token = await consentToken(page);
    assert.equal(await cookie(ctx.context, 'nexaguard_token'), token, 'the nexaguard_token cookie holds the receipt\'s token');
    const stored = await storedConsent(server, token, key);
    const ev = stored.event;
    assert.equal(ev.tcString, uac.tcString, 'the stored event has the same TC string');
    assert.deepEqual(sortNum(ev.purposes), got.purposeConsents, 'the stored event has the same purposes');
    assert.deepEqual(sortNum(ev.vendors), got.vendorConsents, 'the stored event has the same vendors');
    assert.deepEqual(ev.consentMode, consentModeFor(config, { purposes: got.purposeConsents }),
      'the stored event\'s Consent Mode states follow from the choice');
    assert.equal(ev.action, want.action, 'the stored event\'s action');
    assert.equal(ev.source, want.source, 'the stored event\'s source');
    assert.equal(ev.configVersion, (await server.siteConfig(key)).configVersion, 'configVersion');

    assert.equal(pageErrors(ctx), null);
  });
}

describe('TCF choices reach a listener registered before the SDK, decode exactly, and are stored', () => {
  test('accept all', async () => {
    const allowedLi = config.purposes.filter((p) => !NEVER_LI.has(p));
    await choiceRoundTrip('accept-all', (page) => bannerButton(page, 'accept-all').click(), () => ({
      action: 'accept_all',
      source: 'banner',
      purposeConsents: sortNum(config.purposes),
      purposeLegitimateInterests: { atLeast: purposesDeclared(config, 'legIntPurposes'), atMost: allowedLi },
      vendorConsents: { atLeast: vendorsDeclaring(config.vendors, 'purposes'), atMost: config.vendors },
      vendorLegitimateInterests: {
        atLeast: vendorsDeclaring(config.vendors, 'legIntPurposes'), atMost: config.vendors,
      },
      specialFeatureOptins: sortNum(config.specialFeatures),
    }));
  });

  test('reject all (no consent, every legitimate interest objected to)', async () => {
    await choiceRoundTrip('reject-all', (page) => bannerButton(page, 'reject-all').click(), () => ({
      action: 'reject_all',
      source: 'banner',
      purposeConsents: [],
      purposeLegitimateInterests: [],
      vendorConsents: [],
      vendorLegitimateInterests: [],
      specialFeatureOptins: [],
    }));
  });

  test('custom choice in the preference center: purposes 1, 2, 7, no LI for 8, vendor 2, special feature 1', async () => {
    await choiceRoundTrip('custom', chooseCustom, (liPresent) => ({
      action: 'custom',
      source: 'preference_center',
      purposeConsents: [1, 2, 7],
      purposeLegitimateInterests: sortNum(liPresent.filter((p) => p !== '8')),
      vendorConsents: [2],
      vendorLegitimateInterests: [2],
      specialFeatureOptins: [1],
    }));
  });
});

/** The frame's side of the TCF postMessage protocol, with no __tcfapi of its own. */
const FRAME_SCRIPT = `<script>
window.__returns = [];
window.__ownApi = typeof window.__tcfapi;
window.addEventListener('message', function (ev) {
  var d = ev.data;
  if (typeof d === 'string') { try { d = JSON.parse(d); } catch (e) { return; } }
  if (d && d.__tcfapiReturn) window.__returns.push(JSON.parse(JSON.stringify(d.__tcfapiReturn)));
});
window.__findLocator = function () {
  var f = window;
  for (;;) {
    try { if (f.frames.__tcfapiLocator) return f; } catch (e) {}
    if (f === window.top) return null;
    f = f.parent;
  }
};
window.__call = function (command, callId, parameter) {
  var target = window.__findLocator();
  if (!target) throw new Error('no ancestor has a __tcfapiLocator frame');
  target.postMessage({ __tcfapiCall: { command: command, version: 2, callId: callId, parameter: parameter } }, '*');
};
// As soon as the page's locator frame exists (the stub adds it once <body> does).
(function early(tries) {
  if (window.__findLocator()) window.__call('ping', 'ping-early');
  else if (tries > 0) setTimeout(function () { early(tries - 1); }, 10);
})(500);
</script>`;

test('a cross-origin frame reaches __tcfapi through postMessage', async () => {
  const { server, browser } = env;
  await withContext(browser, server, async (ctx) => {
    const frameUrl = await definePage(ctx, { name: 'ad-frame', origin: server.otherOrigin, before: FRAME_SCRIPT });
    const url = await definePage(ctx, {
      key, name: 'frame-parent',
      body: `<iframe id="adframe" title="An advertisement" width="300" height="250" src="${frameUrl}"></iframe>`,
    });
    const page = await openPage(ctx, url);
    const frame = await (await page.locator('#adframe').elementHandle()).contentFrame();
    await frame.waitForFunction(() => Array.isArray(window.__returns));
    assert.notEqual(new URL(frame.url()).origin, new URL(page.url()).origin, 'the frame is cross-origin');
    assert.equal(await frame.evaluate(() => window.__ownApi), 'undefined', 'the frame has no __tcfapi of its own');

    /** The first __tcfapiReturn of `callId` (with that eventStatus, if given). */
    const ret = async (callId, eventStatus = null) => {
      const h = await frame.waitForFunction(([id, status]) => window.__returns.find((r) => r.callId === id
        && (!status || (r.returnValue && r.returnValue.eventStatus === status))) || false, [callId, eventStatus])
        .catch(async (e) => {
          const seen = await frame.evaluate(() => window.__returns);
          throw new Error(`no __tcfapiReturn for callId ${callId} ${eventStatus ?? ''} in the frame; `
            + `returns: ${JSON.stringify(seen)} (${e.message})`);
        });
      return h.jsonValue();
    };

    await ret('ping-early'); // answered by the stub or the SDK, whichever was there
    await sdkReady(page);
    await banner(page).waitFor({ state: 'visible' });

    await frame.evaluate(() => window.__call('ping', 'ping-2'));
    const ping = await ret('ping-2');
    assert.equal(ping.returnValue?.cmpLoaded, true, `ping after load: cmpLoaded (${JSON.stringify(ping)})`);
    assert.equal(ping.returnValue?.gdprApplies, true, 'ping: gdprApplies');
    assert.equal(ping.returnValue?.cmpId, config.cmpId, 'ping: cmpId');

    await frame.evaluate(() => window.__call('addEventListener', 'ael-1'));
    await bannerButton(page, 'accept-all').click();
    const uac = await ret('ael-1', 'useractioncomplete');
    assert.equal(uac.success, true, 'addEventListener over postMessage: success');
    const tc = server.decodeTc(uac.returnValue.tcString);
    assert.deepEqual(sortNum(tc.purposeConsents), sortNum(config.purposes), 'accept all, as the frame sees it');
    assert.equal(uac.returnValue.tcString, await cookie(ctx.context, 'euconsent-v2'), 'the frame gets the page\'s TC string');

    await frame.evaluate(() => window.__call('getTCData', 'gtd-1'));
    const data = await ret('gtd-1');
    assert.equal(data.success, true, 'getTCData over postMessage: success');
    assert.equal(data.returnValue?.tcString, uac.returnValue.tcString, 'getTCData over postMessage: the tcString');
    assert.equal(pageErrors(ctx), null);
  });
});

test('the choice holds after a reload and on another page, and the floating button reopens it', async () => {
  const { server, browser } = env;
  await withContext(browser, server, async (ctx) => {
    const url = await definePage(ctx, { key, name: 'persist', after: TCF_LISTENER });
    const other = await definePage(ctx, { key, name: 'persist-other', after: TCF_LISTENER });
    const page = await openPage(ctx, url);
    await banner(page).waitFor({ state: 'visible' });
    await chooseCustom(page);
    const uac = await waitTcfEvent(page, 'useractioncomplete');
    await consentToken(page);
    const before = await getConsent(page);
    assert.equal(before.tcString, uac.tcString, 'getConsent().tcString is the TC string of the choice');

    for (const [label, target] of [['reload', null], ['another page', other]]) {
      if (target) await page.goto(target, { waitUntil: 'domcontentloaded' });
      else await page.reload({ waitUntil: 'domcontentloaded' });
      await sdkReady(page);
      const loaded = await waitTcfEvent(page, 'tcloaded');
      assert.equal(loaded.tcString, uac.tcString, `${label}: the listener gets tcloaded with the stored TC string`);
      const events = (await tcfEvents(page)).map((e) => e.eventStatus);
      assert.ok(!events.includes('cmpuishown'), `${label}: no banner is shown again (events: ${events})`);
      assert.equal(await banner(page).isVisible(), false, `${label}: the banner is not visible`);
      assert.deepEqual(await getConsent(page), before, `${label}: getConsent() is the same`);
      const { value, success } = await tcfapi(page, 'getTCData');
      assert.equal(success, true, `${label}: getTCData success`);
      assert.equal(value.tcString, uac.tcString, `${label}: getTCData's tcString`);
      assert.equal(value.eventStatus, 'tcloaded', `${label}: getTCData's eventStatus`);
    }

    await reopenButton(page).click();
    await prefs(page).waitFor({ state: 'visible' });
    const states = await checkboxStates(page, 'data-purpose');
    const checked = Object.entries(states).filter(([, c]) => c).map(([id]) => Number(id));
    assert.deepEqual(sortNum(checked), [1, 2, 7], `the reopened preference center shows the saved purposes (${PREFS})`);
    assert.equal(pageErrors(ctx), null);
  });
});
