// Page-side helpers for the SDK's contract: its UI (in an open shadow root
// on #nexaguard-host, which Playwright's CSS selectors pierce), its
// window.NexaGuard API, __tcfapi and dataLayer.

import { WAIT_MS, poll } from './harness.mjs';

export const BANNER = '[data-nexaguard="banner"][role="dialog"]';
export const PREFS = '[data-nexaguard="preferences"][role="dialog"][aria-modal="true"]';

export const banner = (page) => page.locator(BANNER);
export const prefs = (page) => page.locator(PREFS);
export const bannerButton = (page, action) => page.locator(`${BANNER} button[data-action="${action}"]`);
export const prefsButton = (page, action) => page.locator(`${PREFS} button[data-action="${action}"]`);
export const reopenButton = (page) => page.locator('button[data-action="reopen"]');

/**
 * An inline script for the page, right after the stub: it calls
 * __tcfapi('addEventListener') as a third-party tag would, before the SDK
 * can have loaded, and records every callback in window.__tcfEvents. It
 * also records whether the SDK had been fetched at that moment (a script
 * that has no completed resource entry cannot have run).
 */
export const TCF_LISTENER = `<script>
(function () {
  window.__tcfEvents = [];
  var sdkFetched = performance.getEntriesByType('resource').some(function (e) {
    return /\\/sdk\\/.*nexaguard[^/]*\\.js/.test(e.name);
  });
  window.__tcfListener = {
    apiType: typeof window.__tcfapi,
    sdkFetched: sdkFetched,
    nexaguardApi: typeof (window.NexaGuard && window.NexaGuard.getConsent),
  };
  if (typeof window.__tcfapi !== 'function') return;
  window.__tcfapi('addEventListener', 2, function (tcData, success) {
    window.__tcfEvents.push({
      success: success,
      eventStatus: tcData && tcData.eventStatus,
      cmpStatus: tcData && tcData.cmpStatus,
      tcString: tcData && tcData.tcString,
      gdprApplies: tcData && tcData.gdprApplies,
      listenerId: tcData && tcData.listenerId,
      cmpId: tcData && tcData.cmpId,
      purposeConsents: tcData && tcData.purpose ? tcData.purpose.consents : null,
    });
  });
})();
</script>`;

/** Records the dataLayer as the stub left it, before the SDK loads. */
export const DATALAYER_AT_STUB = `<script>
window.__dataLayerAtStub = (window.dataLayer || []).map(function (e) {
  return Object.prototype.toString.call(e) === '[object Arguments]'
    ? { gtag: Array.prototype.slice.call(e) } : { push: e };
});
</script>`;

/** Waits until window.NexaGuard exists and its ready() has resolved. */
export async function sdkReady(page) {
  await page.waitForFunction(
    () => window.NexaGuard && typeof window.NexaGuard.ready === 'function',
    null,
    { timeout: WAIT_MS },
  ).catch((e) => {
    throw new Error(`window.NexaGuard.ready never appeared on ${page.url()}: ${e.message}`);
  });
  await page.evaluate((timeout) => new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`NexaGuard.ready() did not resolve within ${timeout} ms`)), timeout);
    const done = () => { clearTimeout(timer); resolve(); };
    const r = window.NexaGuard.ready(done);
    if (r && typeof r.then === 'function') r.then(done, reject);
  }), WAIT_MS);
}

/** window.NexaGuard.getConsent(), as JSON. */
export function getConsent(page) {
  return page.evaluate(() => JSON.parse(JSON.stringify(window.NexaGuard.getConsent() ?? null)));
}

/** Waits until the consent receipt's token is in getConsent(); returns it. */
export async function consentToken(page, { other } = {}) {
  const handle = await page.waitForFunction((previous) => {
    const c = window.NexaGuard && window.NexaGuard.getConsent();
    return c && c.consentToken && c.consentToken !== previous ? c.consentToken : false;
  }, other ?? null, { timeout: WAIT_MS }).catch((e) => {
    throw new Error(`no (new) consentToken in NexaGuard.getConsent() after the choice: ${e.message}`);
  });
  return handle.jsonValue();
}

/** The TCF events recorded by TCF_LISTENER. */
export function tcfEvents(page) {
  return page.evaluate(() => window.__tcfEvents || []);
}

/** Waits until TCF_LISTENER has seen `n` events with `status`; returns the last. */
export async function waitTcfEvent(page, status, n = 1) {
  await page.waitForFunction(
    ([s, count]) => (window.__tcfEvents || []).filter((e) => e.eventStatus === s).length >= count,
    [status, n],
    { timeout: WAIT_MS },
  ).catch(async (e) => {
    const seen = await tcfEvents(page).catch(() => []);
    throw new Error(`no ${status} event (#${n}) reached the __tcfapi listener; seen: ${JSON.stringify(seen.map((x) => x.eventStatus))} (${e.message})`);
  });
  const events = await tcfEvents(page);
  return events.filter((e) => e.eventStatus === status).at(n - 1);
}

/** __tcfapi(command, 2, cb[, param]) in the page; resolves { value, success }. */
export function tcfapi(page, command, param) {
  return page.evaluate(([cmd, p, timeout]) => new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`__tcfapi('${cmd}') did not call back within ${timeout} ms`)), timeout);
    const cb = (value, success) => {
      clearTimeout(timer);
      resolve({ value: JSON.parse(JSON.stringify(value ?? null)), success });
    };
    if (p === null) window.__tcfapi(cmd, 2, cb);
    else window.__tcfapi(cmd, 2, cb, p);
  }), [command, param ?? null, WAIT_MS]);
}

/** The dataLayer with gtag `arguments` entries marked { gtag: [...] }, others { push: obj }. */
export function dataLayer(page) {
  return page.evaluate(() => (window.dataLayer || []).map((e) => (
    Object.prototype.toString.call(e) === '[object Arguments]'
      ? { gtag: JSON.parse(JSON.stringify(Array.prototype.slice.call(e))) }
      : { push: JSON.parse(JSON.stringify(e ?? null)) })));
}

/** Value of the cookie `name` in the context, or undefined. */
export async function cookie(context, name) {
  const all = await context.cookies();
  return all.find((c) => c.name === name)?.value;
}

/** The element that has focus, through shadow roots, described for assertions. */
export function deepFocus(page) {
  return page.evaluate(() => {
    let a = document.activeElement;
    while (a && a.shadowRoot && a.shadowRoot.activeElement) a = a.shadowRoot.activeElement;
    if (!a) return null;
    const style = getComputedStyle(a);
    return {
      tag: a.tagName.toLowerCase(),
      id: a.id || null,
      /** Position in its tree: tells apart elements that look alike. */
      index: Array.prototype.indexOf.call(a.getRootNode().querySelectorAll('*'), a),
      type: a.getAttribute('type'),
      action: a.getAttribute('data-action'),
      purpose: a.getAttribute('data-purpose'),
      attrs: Array.from(a.attributes).filter((x) => x.name.startsWith('data-')).map((x) => `${x.name}=${x.value}`).join(' '),
      checked: 'checked' in a ? a.checked : null,
      inBanner: !!a.closest('[data-nexaguard="banner"]'),
      inPrefs: !!a.closest('[data-nexaguard="preferences"]'),
      inHost: a.getRootNode() !== document,
      outline: `${style.outlineStyle} ${style.outlineWidth}`,
      visibleFocus: (style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0)
        || (style.boxShadow && style.boxShadow !== 'none'),
    };
  });
}

/**
 * Makes a checkbox of the preference center reachable as a user would:
 * if it is inside a closed <details>, opens it by clicking its summary.
 */
async function reveal(page, locator, what) {
  for (let i = 0; i < 5 && !(await locator.isVisible()); i += 1) {
    // The outermost closed <details> around it, opened through its <summary>.
    const handle = await locator.evaluateHandle((el) => {
      const chain = [];
      for (let d = el.closest('details'); d; d = d.parentElement && d.parentElement.closest('details')) chain.unshift(d);
      const closed = chain.find((d) => !d.open);
      return closed ? closed.querySelector(':scope > summary') : null;
    });
    const summary = handle.asElement();
    if (!summary) break;
    await summary.click();
  }
  await locator.waitFor({ state: 'visible', timeout: 2000 }).catch(() => {
    throw new Error(`${what} is in the preference center but never visible, so a visitor cannot use it`);
  });
}

/** Checks or unchecks one checkbox of the preference center through the UI. */
export async function setCheckbox(page, selector, want) {
  const box = page.locator(`${PREFS} ${selector}`);
  const n = await box.count();
  if (n !== 1) throw new Error(`the preference center has ${n} checkboxes ${selector}, expected 1`);
  await reveal(page, box, `checkbox ${selector}`);
  await box.setChecked(want);
}

/** The ids of the checkboxes `input[attr]` in the preference center. */
export function checkboxIds(page, attr) {
  return page.locator(`${PREFS} input[${attr}]`).evaluateAll(
    (els, a) => els.map((e) => e.getAttribute(a)),
    attr,
  );
}

/** The checked state of each `input[attr]` in the preference center, by id. */
export function checkboxStates(page, attr) {
  return page.locator(`${PREFS} input[${attr}]`).evaluateAll(
    (els, a) => Object.fromEntries(els.map((e) => [e.getAttribute(a), e.checked])),
    attr,
  );
}

/**
 * Sets every checkbox of the kinds given: for each kind, a Set of the ids
 * that should end up checked (all others of that kind unchecked).
 * Kinds: purpose, purposeLi, specialFeature, vendor, vendorLi, category.
 */
export async function setChoices(page, wanted) {
  const attrs = {
    purpose: 'data-purpose',
    purposeLi: 'data-purpose-li',
    specialFeature: 'data-special-feature',
    vendor: 'data-vendor',
    vendorLi: 'data-vendor-li',
    category: 'data-category',
  };
  for (const [kind, ids] of Object.entries(wanted)) {
    const attr = attrs[kind];
    if (!attr) throw new Error(`unknown checkbox kind ${kind}`);
    const present = await checkboxIds(page, attr);
    for (const id of present) {
      const box = page.locator(`${PREFS} input[${attr}="${id}"]`);
      if (await box.isDisabled()) continue; // e.g. a necessary category
      await setCheckbox(page, `input[${attr}="${id}"]`, ids.has(id));
    }
  }
}

/** Opens the preference center from the banner and waits for it. */
export async function openPreferencesFromBanner(page) {
  await bannerButton(page, 'settings').click();
  await prefs(page).waitFor({ state: 'visible' });
}

/** Asserts no uncaught exception happened in any page of `ctx`. */
export function pageErrors(ctx) {
  return ctx.errors.length ? `uncaught page errors:\n${ctx.errors.join('\n')}` : null;
}

/** Waits for the store to have the consent of `token` (the POST is asynchronous). */
export function storedConsent(server, token, key) {
  return poll(`the consent event of ${token} in the store`, async () => {
    const res = await server.request('GET', `/v1/consents/${encodeURIComponent(token)}?siteKey=${key}`);
    return res.status === 200 ? res.json() : null;
  });
}
