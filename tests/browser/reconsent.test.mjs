// Re-consent: a TCF site (a copy of the demo configuration without vendor
// 6) gets a choice; a new configuration version that changes only texts
// does not ask again; one that adds a vendor (reconsent.onNewVendors) does.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { definePage, openPage, repoJson, setup, withContext } from './lib/harness.mjs';
import { sortNum } from './lib/expect.mjs';
import {
  TCF_LISTENER, banner, bannerButton, pageErrors, sdkReady, tcfEvents, waitTcfEvent,
} from './lib/sdk.mjs';

let env;

before(async () => {
  env = await setup();
});

after(async () => {
  await env?.close();
});

test('re-consent after a configuration change its triggers name, not after others', async () => {
  const { server, browser } = env;
  const demo = repoJson('crates/server/assets/demo-site.json');
  assert.equal(demo.reconsent?.onNewVendors, true, 'the demo configuration re-asks on new vendors');
  const v1 = { ...demo, vendors: demo.vendors.filter((v) => v !== 6) };
  const site = await server.createSite('reconsent', v1);

  await withContext(browser, server, async (ctx) => {
    const url = await definePage(ctx, { key: site.key, name: 'reconsent', after: TCF_LISTENER });
    const page = await openPage(ctx, url);
    await banner(page).waitFor({ state: 'visible' });
    await bannerButton(page, 'accept-all').click();
    const first = await waitTcfEvent(page, 'useractioncomplete');
    assert.deepEqual(sortNum(server.decodeTc(first.tcString).vendorsDisclosed), sortNum(v1.vendors));

    /** Reloads; returns whether the banner came back, once the SDK decided. */
    const reloadShowsBanner = async () => {
      await page.reload({ waitUntil: 'domcontentloaded' });
      await sdkReady(page);
      await page.waitForFunction(
        () => (window.__tcfEvents || []).some((e) => e.eventStatus === 'tcloaded' || e.eventStatus === 'cmpuishown'),
      ).catch(async (e) => {
        throw new Error(`neither tcloaded nor cmpuishown after the reload: ${JSON.stringify(await tcfEvents(page))} (${e.message})`);
      });
      const statuses = (await tcfEvents(page)).map((e) => e.eventStatus);
      const visible = await banner(page).isVisible();
      assert.equal(visible, statuses.includes('cmpuishown'),
        `the banner's visibility (${visible}) agrees with the __tcfapi events ${statuses}`);
      return visible;
    };

    assert.equal(await reloadShowsBanner(), false, 'the choice holds while the configuration is unchanged');

    // Version 2: only a text changed. No trigger names it.
    const v2 = structuredClone(v1);
    v2.languages.en.title = 'We still value your privacy';
    await server.publish(site.id, site.key, v2);
    assert.equal(await reloadShowsBanner(), false, 'a text change does not ask again');

    // Version 3: vendor 6 is new. reconsent.onNewVendors asks again.
    const v3 = { ...structuredClone(v2), vendors: demo.vendors };
    const version = await server.publish(site.id, site.key, v3);
    assert.equal(await reloadShowsBanner(), true, `a new vendor (configVersion ${version}) asks again`);

    await bannerButton(page, 'accept-all').click();
    const again = await waitTcfEvent(page, 'useractioncomplete');
    const tc = server.decodeTc(again.tcString);
    assert.deepEqual(sortNum(tc.vendorsDisclosed), sortNum(demo.vendors), 'the new TC string discloses the new vendor');
    assert.ok(tc.vendorConsents.includes(6) || tc.vendorLegitimateInterests.includes(6), 'accept all now covers vendor 6');
    assert.equal(pageErrors(ctx), null);
  });
});
