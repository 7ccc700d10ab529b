// The usual installation: the publisher's site is on its own origin and
// loads the SDK, its configuration and the consent API from the NexaGuard
// server's origin. The page https://publisher.test/... is served by request
// interception (no DNS needed); everything under the server's origin is the
// real server, so CORS and Subresource Integrity apply as in production.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { definePage, openPage, repoJson, setup, withContext } from './lib/harness.mjs';
import { sortNum } from './lib/expect.mjs';
import {
  TCF_LISTENER, banner, bannerButton, consentToken, pageErrors, sdkReady, storedConsent, waitTcfEvent,
} from './lib/sdk.mjs';

const PUBLISHER = 'https://publisher.test';
/**
 * In production the NexaGuard server has a public address; here it is on
 * loopback, which Chromium's Local Network Access lets a public page reach
 * only with this permission.
 */
const LOCAL_NETWORK = { permissions: ['local-network-access'] };

let env;
let site;

before(async () => {
  env = await setup();
  site = await env.server.createSite('publisher', repoJson('crates/server/assets/demo-site.json'), [PUBLISHER]);
});

after(async () => {
  await env?.close();
});

test('a publisher on its own origin loads the SDK cross-origin (SRI + CORS) and records a choice', async () => {
  const { server, browser } = env;
  await withContext(browser, server, async (ctx) => {
    const failed = [];
    ctx.context.on('requestfailed', (r) => failed.push(`${r.url()}: ${r.failure()?.errorText}`));
    const messages = [];
    ctx.context.on('console', (m) => { if (m.type() === 'error') messages.push(m.text()); });
    const url = await definePage(ctx, { key: site.key, name: 'publisher', origin: PUBLISHER, after: TCF_LISTENER });
    const page = await openPage(ctx, url);
    const sdkUrl = await page.evaluate(() => JSON.parse(document.getElementById('nexaguard-settings')?.textContent || '{}').sdkUrl);
    if (sdkUrl) {
      assert.equal(new URL(sdkUrl).origin, server.origin, 'the snippet loads the SDK from the NexaGuard server\'s origin');
    }
    await sdkReady(page).catch((e) => {
      throw new Error(`the SDK did not start on a publisher page of another origin: ${e.message}; `
        + `failed requests: ${JSON.stringify(failed)}; console errors: ${JSON.stringify(messages)}`);
    });
    await banner(page).waitFor({ state: 'visible' });
    await bannerButton(page, 'accept-all').click();
    const uac = await waitTcfEvent(page, 'useractioncomplete');
    const tc = server.decodeTc(uac.tcString);
    assert.deepEqual(sortNum(tc.purposeConsents), sortNum(repoJson('crates/server/assets/demo-site.json').purposes),
      'accept all on the publisher\'s page');
    const cookies = await ctx.context.cookies(PUBLISHER);
    assert.equal(cookies.find((c) => c.name === 'euconsent-v2')?.value, uac.tcString,
      'euconsent-v2 is a first-party cookie of the publisher');
    const token = await consentToken(page);
    const stored = await storedConsent(server, token, site.key);
    assert.equal(stored.event.tcString, uac.tcString, 'the consent posted cross-origin is stored');
    assert.equal(pageErrors(ctx), null);
  }, LOCAL_NETWORK);
});
