// The banner as a visitor meets it: it overlays the page without moving it
// (no layout shift), accept all and reject all have equal prominence, texts
// follow the browser's language, and the server's own demo page works under
// the server's own Content-Security-Policy; a publisher page with a strict
// script-src and the stub hash from x-nexaguard-stub-hash works too.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { definePage, openPage, repoJson, setup, withContext } from './lib/harness.mjs';
import { BANNER, banner, bannerButton, pageErrors, sdkReady } from './lib/sdk.mjs';

let env;
let key;

before(async () => {
  env = await setup();
  key = await env.server.demoKey();
});

after(async () => {
  await env?.close();
});

/** Records CSP violations and layout shifts from before the page's first script. */
const OBSERVE = `(() => {
  window.__csp = [];
  document.addEventListener('securitypolicyviolation', (e) => {
    window.__csp.push({ directive: e.violatedDirective, blocked: e.blockedURI, sample: e.sample, source: e.sourceFile, line: e.lineNumber });
  });
  window.__cls = 0;
  window.__shifts = [];
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        if (e.hadRecentInput) continue;
        window.__cls += e.value;
        window.__shifts.push({ value: e.value, sources: (e.sources || []).map((s) => s.node && s.node.nodeName) });
      }
    }).observe({ type: 'layout-shift', buffered: true });
  } catch (e) { window.__observeError = String(e); }
})();`;

/** Where the page's own content is, in page coordinates. */
const contentBoxes = (page) => page.evaluate(() => ['main', 'h1', 'main p'].map((s) => {
  const r = document.querySelector(s).getBoundingClientRect();
  return { s, top: r.top + scrollY, left: r.left + scrollX, width: r.width, height: r.height };
}));

test('the banner overlays the page: nothing of the page moves, no layout shift', async () => {
  const { server, browser } = env;
  await withContext(browser, server, async (ctx) => {
    await ctx.context.addInitScript({ content: OBSERVE });
    const url = await definePage(ctx, {
      key, name: 'overlay',
      after: '<script>document.addEventListener("DOMContentLoaded", () => { window.__before = ["main", "h1", "main p"].map((s) => { const r = document.querySelector(s).getBoundingClientRect(); return { s, top: r.top + scrollY, left: r.left + scrollX, width: r.width, height: r.height }; }); });</script>',
    });
    const page = await openPage(ctx, url);
    await banner(page).waitFor({ state: 'visible' });
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
    const before = await page.evaluate(() => window.__before);
    assert.ok(Array.isArray(before), 'content positions recorded at DOMContentLoaded');
    assert.deepEqual(await contentBoxes(page), before, 'the page content is where it was before the banner');
    const position = await page.locator(BANNER).evaluate((el) => getComputedStyle(el).position);
    assert.equal(position, 'fixed', 'the banner is position: fixed');
    const { cls, shifts } = await page.evaluate(() => ({ cls: window.__cls, shifts: window.__shifts }));
    assert.equal(cls, 0, `cumulative layout shift is 0; shifts: ${JSON.stringify(shifts)}`);
    assert.equal(pageErrors(ctx), null);
  });
});

test('accept all and reject all have equal prominence', async () => {
  const { server, browser } = env;
  await withContext(browser, server, async (ctx) => {
    const url = await definePage(ctx, { key, name: 'prominence' });
    const page = await openPage(ctx, url);
    await banner(page).waitFor({ state: 'visible' });
    const look = (action) => bannerButton(page, action).evaluate((el) => {
      const s = getComputedStyle(el);
      const r = el.getBoundingClientRect();
      return {
        style: {
          backgroundColor: s.backgroundColor,
          color: s.color,
          fontSize: s.fontSize,
          fontWeight: s.fontWeight,
          borderWidth: s.borderTopWidth,
          borderColor: s.borderTopColor,
          padding: s.padding,
          textDecoration: s.textDecorationLine,
        },
        height: Math.round(r.height),
        inViewport: r.top >= 0 && r.bottom <= innerHeight && r.left >= 0 && r.right <= innerWidth,
      };
    });
    const accept = await look('accept-all');
    const reject = await look('reject-all');
    assert.deepEqual(reject.style, accept.style, 'the two buttons look the same');
    assert.equal(reject.height, accept.height, 'the two buttons are as tall');
    assert.ok(accept.inViewport && reject.inViewport, 'both are in view without scrolling');
    assert.equal(pageErrors(ctx), null);
  });
});

test('texts follow the browser language (German browser, German texts)', async () => {
  const { server, browser } = env;
  const de = repoJson('crates/server/assets/demo-site.json').languages.de;
  await withContext(browser, server, async (ctx) => {
    const url = await definePage(ctx, { key, name: 'german', lang: 'de' });
    const page = await openPage(ctx, url);
    await banner(page).waitFor({ state: 'visible' });
    assert.equal((await page.locator(`${BANNER} h2`).textContent()).trim(), de.title, 'the title in German');
    assert.equal((await bannerButton(page, 'accept-all').textContent()).trim(), de.acceptAll, 'accept all in German');
    assert.equal((await bannerButton(page, 'reject-all').textContent()).trim(), de.rejectAll, 'reject all in German');
    assert.equal(await page.locator(BANNER).getAttribute('lang'), 'de', 'the banner says its language');
    assert.equal(pageErrors(ctx), null);
  }, { locale: 'de-DE' });
});

test('the server\'s demo page works under the server\'s own Content-Security-Policy', async () => {
  const { server, browser } = env;
  await withContext(browser, server, async (ctx) => {
    await ctx.context.addInitScript({ content: OBSERVE });
    const page = await ctx.context.newPage();
    const response = await page.goto(`${server.origin}/demo/`, { waitUntil: 'domcontentloaded' });
    assert.match(response.headers()['content-security-policy'] ?? '', /script-src/, 'the demo page has a CSP');
    await sdkReady(page);
    await banner(page).waitFor({ state: 'visible' });
    const position = await page.locator(BANNER).evaluate((el) => getComputedStyle(el).position);
    const violations = await page.evaluate(() => window.__csp);
    assert.deepEqual(violations, [], `no CSP violation on the demo page (CSP: ${response.headers()['content-security-policy']})`);
    assert.equal(position, 'fixed', 'the banner is styled (position: fixed) under the demo page\'s CSP');
    await bannerButton(page, 'accept-all').click();
    await banner(page).waitFor({ state: 'hidden' });
    assert.equal(pageErrors(ctx), null);
  });
});

test('a publisher page with a strict script-src and the stub\'s hash runs the snippet', async () => {
  const { server, browser } = env;
  const snippet = await server.snippet(key);
  assert.match(snippet.stubHash ?? '', /^sha256-[A-Za-z0-9+/]+=*$/, 'the snippet endpoint sends x-nexaguard-stub-hash: sha256-...');
  const csp = `default-src 'none'; script-src 'self' '${snippet.stubHash}'; connect-src 'self'; `
    + "style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-src 'self'";
  await withContext(browser, server, async (ctx) => {
    await ctx.context.addInitScript({ content: OBSERVE });
    const url = await definePage(ctx, { key, name: 'strict-csp', headers: { 'content-security-policy': csp } });
    const page = await openPage(ctx, url);
    await sdkReady(page);
    await banner(page).waitFor({ state: 'visible' });
    const violations = await page.evaluate(() => window.__csp);
    assert.deepEqual(violations, [], `no CSP violation under ${csp}`);
    const defaults = await page.evaluate(() => (window.dataLayer || []).filter((e) => e[0] === 'consent' && e[1] === 'default').length);
    assert.ok(defaults >= 1, 'the stub ran (Consent Mode default in dataLayer)');
    assert.equal(pageErrors(ctx), null);
  });
});
