// The SDK as the Google Tag Manager template loads it (integrations/gtm/):
// GTM's injectScript adds a bare <script src> and can set no attribute, so
// the site key travels in the SDK's URL (?siteKey=). The template's own
// logic is tested under an emulation of GTM's sandbox
// (integrations/gtm/test/); this is the browser half: the SDK started that
// way shows the banner and reports the choice through NexaGuard.on.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { definePage, openPage, repoJson, setup, withContext } from './lib/harness.mjs';
import { banner, bannerButton, pageErrors, sdkReady } from './lib/sdk.mjs';

let env;
let site;

before(async () => {
  env = await setup();
  site = await env.server.createSite('gtm', repoJson('crates/server/tests/fixtures/opt-in-site.json'));
});

after(async () => {
  await env?.close();
});

/** What the template's injectScript and NexaGuard.on calls amount to on a page. */
function injected(server, key) {
  return `<script>
window.__events = [];
const s = document.createElement('script');
s.src = ${JSON.stringify(`${server.origin}/sdk/v1/nexaguard.js?siteKey=${encodeURIComponent(key)}`)};
s.onload = () => {
  window.NexaGuard.on('consent', (state) => window.__events.push(['consent', state.consentMode]));
  window.NexaGuard.on('ready', (state) => window.__events.push(['ready', state && state.consentMode]));
};
document.head.appendChild(s);
</script>`;
}

test('the SDK injected with ?siteKey= in its URL shows the banner and reports a choice, then the stored one', async () => {
  const { server, browser } = env;
  await withContext(browser, server, async (ctx) => {
    const url = await definePage(ctx, { name: 'gtm-injected', before: injected(server, site.key) });
    const page = await openPage(ctx, url);
    await banner(page).waitFor({ state: 'visible' });
    await sdkReady(page);
    assert.deepEqual(await page.evaluate(() => window.__events), [['ready', null]], 'a first visit: no choice yet');

    await bannerButton(page, 'accept-all').click();
    await page.waitForFunction(() => window.__events.some(([e]) => e === 'consent'));
    const [, states] = (await page.evaluate(() => window.__events)).find(([e]) => e === 'consent');
    assert.equal(states.analytics_storage, 'granted');
    assert.equal(states.ad_storage, 'granted');

    const again = await openPage(ctx, url);
    await sdkReady(again);
    await again.waitForFunction(() => window.__events.some(([e]) => e === 'ready'));
    const events = await again.evaluate(() => window.__events);
    assert.equal(await banner(again).isVisible(), false, 'a returning visitor sees no banner');
    assert.equal(events.find(([e]) => e === 'ready')[1].analytics_storage, 'granted', 'ready carries the stored choice');
    assert.equal(pageErrors(ctx), null);
  });
});
