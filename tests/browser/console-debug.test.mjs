// The public debug tool at /debug, without signing in: a known TC string
// decoded into tables (core fields, purposes, vendors, Consent Mode,
// IABTCF_* keys), an AC string, a GPP string (header, section tables, GPC
// sub-section, findings, IABGPP_* keys), a bad string answered with 422 and a clear
// message, nothing of the string in the server's log, no-store, axe-core
// clean, no horizontal overflow on a phone, and a screenshot for the docs.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { SCREENSHOTS, setup, withContext } from './lib/harness.mjs';
import { assertNoAxeViolations, assertNoHorizontalOverflow, tableMap } from './lib/console-checks.mjs';

/** From docs/debug-tool.md: cmpId 300, purposes 1 2 3 4 7, vendors 2 and 755. */
const TC = 'CQtAQoAQtB-fQEsACAENCWFAAPIAAEIAAAYgF5wAgABALzAvOACAvMAEJABAAEA.IF5wAgABALzA';
const AC = '2~1.35.41~dv.9.1000';
/** From docs/gpp.md: usnat and usca, both with a GPC sub-section saying Gpc true. */
const GPP = 'DBABrw~CVVVqqqqqlSA.YA~BVUAAACA.YA';

let env;

before(async () => {
  env = await setup();
});

after(async () => {
  await env?.close();
});

/** Opens /debug, pastes `input`, submits; returns the page and the POST's response. */
async function decode(ctx, input, { gdprApplies = true } = {}) {
  const page = await ctx.context.newPage();
  await page.goto(`${env.server.origin}/debug`);
  await page.getByLabel('TC string or AC string').fill(input);
  await page.getByRole('radio', { name: gdprApplies ? /Yes/ : /No/ }).check();
  const [response] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith('/debug') && r.request().method() === 'POST'),
    page.getByRole('button', { name: 'Decode' }).click(),
  ]);
  await page.waitForLoadState('domcontentloaded');
  return { page, response };
}

describe('the public debug tool', () => {
  test('decodes a known TC string into tables', async () => {
    await withContext(env.browser, env.server, async (ctx) => {
      const { page, response } = await decode(ctx, TC);
      assert.equal(response.status(), 200);
      assert.equal(response.headers()['cache-control'], 'no-store');
      assert.match(response.headers()['content-security-policy'], /script-src 'self'/);

      const core = await tableMap(page, 'table.fields');
      assert.equal(core.CmpId, '300');
      assert.equal(core.VendorListVersion, '150');
      assert.equal(core.PublisherCC, 'DE');
      assert.equal(core.Created, '2026-11-01T00:00:00Z');

      const purposes = await page.locator('table:has(caption:text-is("Purposes")) tbody tr').evaluateAll(
        (rows) => rows.map((r) => [...r.cells].map((c) => c.textContent.trim())),
      );
      const consented = purposes.filter((r) => r[2] === 'yes').map((r) => Number(r[0]));
      assert.deepEqual(consented, [1, 2, 3, 4, 7]);
      const li = purposes.filter((r) => r[3] === 'yes').map((r) => Number(r[0]));
      assert.deepEqual(li, [2, 7]);
      assert.equal(purposes[0][1], 'Store and/or access information on a device');

      const vendors = await page.locator('table:has(caption:text-is("Vendors")) tbody tr').evaluateAll(
        (rows) => rows.map((r) => [...r.cells].map((c) => c.textContent.trim())),
      );
      assert.deepEqual(vendors.map((r) => Number(r[0])), [2, 755]);
      assert.equal(vendors[0][1], 'Beta Measurement');
      assert.equal(vendors[1][1], 'not on the GVL');

      const restrictions = await page.locator('table:has(caption:text-is("Publisher restrictions")) tbody tr').count();
      assert.equal(restrictions, 1);
      await assert.doesNotReject(page.getByText('vendor_list_version_newer_than_gvl').first().waitFor());

      const mode = await tableMap(page, '#consent-mode');
      assert.deepEqual(mode, {
        ad_storage: 'granted',
        ad_user_data: 'granted',
        ad_personalization: 'granted',
        analytics_storage: 'granted',
      });
      const keys = await tableMap(page, '#iabtcf');
      assert.equal(keys.IABTCF_PurposeConsents, '111100100000000000000000');
      assert.equal(keys.IABTCF_CmpSdkID, '300');
      assert.equal(keys.IABTCF_gdprApplies, '1');
      assert.equal(keys.IABTCF_TCString, TC);

      // The pasted string stays in the form to edit, and nowhere in the log.
      assert.equal(await page.getByLabel('TC string or AC string').inputValue(), TC);
      assert.ok(!env.server.stderr.includes(TC.slice(0, 30)), 'the TC string appears in the server log');
      assert.ok(!env.server.stdout.includes(TC.slice(0, 30)), 'the TC string appears in the server output');

      await assertNoAxeViolations(page, 'the decoded TC string');
      await page.screenshot({ path: path.join(SCREENSHOTS, 'debug-tool.png'), fullPage: true });
    });
  });

  test('gdprApplies = false grants every Consent Mode value', async () => {
    await withContext(env.browser, env.server, async (ctx) => {
      const { page } = await decode(ctx, TC, { gdprApplies: false });
      const keys = await tableMap(page, '#iabtcf');
      assert.equal(keys.IABTCF_gdprApplies, '0');
      assert.equal(await page.getByRole('radio', { name: /No/ }).isChecked(), true);
    });
  });

  test('decodes an AC string into its Google ATP ids', async () => {
    await withContext(env.browser, env.server, async (ctx) => {
      const { page, response } = await decode(ctx, AC);
      assert.equal(response.status(), 200);
      assert.equal(await page.getByRole('heading', { name: 'Additional Consent string' }).count(), 1);
      assert.equal((await page.locator('#ac-consented').textContent()).trim(), '1, 35, 41');
      assert.equal((await page.locator('#ac-disclosed').textContent()).trim(), '9, 1000');
      await assertNoAxeViolations(page, 'the decoded AC string');
    });
  });

  test('decodes a GPP string into its header, sections, findings and IABGPP keys', async () => {
    await withContext(env.browser, env.server, async (ctx) => {
      const page = await ctx.context.newPage();
      await page.goto(`${env.server.origin}/debug`);
      await page.getByLabel('GPP string, TC string or AC string').fill(GPP);
      await page.getByRole('radio', { name: /Absent/ }).check();
      const [response] = await Promise.all([
        page.waitForResponse((r) => r.url().endsWith('/debug') && r.request().method() === 'POST'),
        page.getByRole('button', { name: 'Decode', exact: true }).click(),
      ]);
      await page.waitForLoadState('domcontentloaded');
      assert.equal(response.status(), 200);
      assert.equal(response.headers()['cache-control'], 'no-store');
      assert.equal(await page.getByRole('heading', { name: 'GPP string' }).count(), 1);

      const header = await tableMap(page, '#gpp-header');
      assert.deepEqual(header, { Version: '1', SectionIds: '7, 8' });
      const usnat = await tableMap(page, '#gpp-section-7');
      assert.equal(usnat.SaleOptOut, '1');
      assert.equal(usnat.KnownChildSensitiveDataConsents, '1: 1, 2: 1, 3: 1');
      const gpc = await tableMap(page, 'table:has(caption:text-is("usnat GPC sub-section"))');
      assert.equal(gpc.GpcSegmentIncluded, 'yes');
      assert.equal(gpc.Gpc, 'yes');

      // The signal is absent but both sections say Gpc: two findings.
      const codes = await page.locator('#gpp-findings tbody tr td:nth-child(2)').allTextContents();
      assert.deepEqual(codes.map((c) => c.trim()), ['gpc_disagrees', 'gpc_disagrees']);
      const keys = await tableMap(page, '#iabgpp');
      assert.equal(keys.IABGPP_HDR_GppString, GPP);
      assert.equal(keys.IABGPP_GppSID, '7_8');

      assert.equal(await page.getByRole('radio', { name: /Absent/ }).isChecked(), true);
      assert.ok(!env.server.stderr.includes(GPP), 'the GPP string appears in the server log');
      assert.ok(!env.server.stdout.includes(GPP), 'the GPP string appears in the server output');
      await assertNoAxeViolations(page, 'the decoded GPP string');
    });
  });

  test('a bad string gets a clear message and 422', async () => {
    await withContext(env.browser, env.server, async (ctx) => {
      const { page, response } = await decode(ctx, 'CPxxx');
      assert.equal(response.status(), 422);
      assert.equal(response.headers()['cache-control'], 'no-store');
      const alert = page.getByRole('alert');
      assert.match(await alert.textContent(), /This TC string cannot be decoded: .*truncated/);
      assert.equal(await page.locator('#result').count(), 0);
      await assertNoAxeViolations(page, 'the error message');

      const ac = await decode(ctx, '2~1.x');
      assert.equal(ac.response.status(), 422);
      assert.match(await ac.page.getByRole('alert').textContent(), /This AC string cannot be decoded/);

      const gpp = await decode(ctx, 'DBABMA');
      assert.equal(gpp.response.status(), 422);
      assert.match(await gpp.page.getByRole('alert').textContent(), /This GPP string cannot be decoded: .*\(section_count_mismatch\)/);
    });
  });

  test('the empty form is accessible and fits a phone screen', async () => {
    await withContext(env.browser, env.server, async (ctx) => {
      const page = await ctx.context.newPage();
      const response = await page.goto(`${env.server.origin}/debug`);
      assert.equal(response.status(), 200);
      await assertNoAxeViolations(page, 'the empty form');
    });
    await withContext(env.browser, env.server, async (ctx) => {
      const { page } = await decode(ctx, TC);
      await assertNoHorizontalOverflow(page, 'the decoded TC string on a phone');
      await page.screenshot({ path: path.join(SCREENSHOTS, 'debug-tool-phone.png') });
    }, { viewport: { width: 375, height: 740 }, isMobile: true, hasTouch: true });
  });

  test('posting the form without sign-in needs no cookie, and a plain curl-like POST works too', async () => {
    const res = await env.server.request('POST', '/debug', {
      body: `input=${encodeURIComponent(TC)}&gdprApplies=true`,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    assert.equal(res.status, 200);
    assert.match(res.text, /IABTCF_PurposeConsents/);
    const bad = await env.server.request('POST', '/debug', {
      body: 'input=',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    assert.equal(bad.status, 422);
    assert.match(bad.text, /Paste a TC string or an AC string/);
  });
});

test('the public POST is rate-limited per network', async () => {
  let limited;
  for (let i = 0; i < 40 && !limited; i += 1) {
    const res = await env.server.request('POST', '/debug', {
      body: `input=${encodeURIComponent(AC)}`,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    if (res.status === 429) limited = res;
    else assert.equal(res.status, 200);
  }
  assert.ok(limited, 'forty decodes in a row were never limited');
  assert.match(limited.headers['retry-after'], /^\d+$/);
  assert.match(limited.text, /Too many strings decoded from your network/);
});
