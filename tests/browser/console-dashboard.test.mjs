// The consent dashboard and the audit viewer: a tenant owner created with
// `nexaguard user create` signs in and enrols TOTP through the admin API
// (codes computed here), the browser gets the session cookie; consents are
// posted through the public API; the dashboard shows their numbers, finds
// a record by event id and links the export; the audit viewer lists the
// sign-in entries under "verified"; axe-core is clean; screenshots for the
// docs.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { SCREENSHOTS, repoJson, setup, withContext } from './lib/harness.mjs';
import { assertNoAxeViolations, assertNoHorizontalOverflow, tableMap } from './lib/console-checks.mjs';
import { totp } from './lib/totp.mjs';

const EMAIL = 'owner@dashboard.example';
const PASSWORD = 'correct horse battery staple 42';
const COOKIE = '__Host-nexaguard_session';

let env;
let site;
let session;
const events = [];

/** The session cookie's value from a response's Set-Cookie, if any. */
function cookieFrom(res) {
  const header = [res.headers['set-cookie'] ?? []].flat().find((c) => c.startsWith(`${COOKIE}=`));
  return header ? header.slice(COOKIE.length + 1).split(';')[0] : null;
}

/** One admin API call with the session so far; keeps a renewed cookie and CSRF token. */
async function api(method, urlPath, body) {
  const headers = { origin: env.server.origin };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (session?.cookie) headers.cookie = `${COOKIE}=${session.cookie}`;
  if (session?.csrf) headers['x-csrf-token'] = session.csrf;
  const res = await env.server.request(method, `/admin/api/v1${urlPath}`, {
    body: body === undefined ? undefined : JSON.stringify(body),
    headers,
  });
  const cookie = cookieFrom(res);
  if (cookie) session = { ...session, cookie };
  const json = res.text ? res.json() : {};
  if (json.csrfToken) session = { ...session, csrf: json.csrfToken };
  assert.ok(res.status < 300, `${method} ${urlPath}: HTTP ${res.status}: ${res.text.slice(0, 300)}`);
  return json;
}

/** Posts one consent event of the site through the public API; returns its receipt. */
async function postConsent(action, customPurposes) {
  const eventId = randomUUID();
  const body = {
    eventId,
    schemaVersion: 1,
    siteKey: site.key,
    environment: 'production',
    configVersion: site.version,
    timestamp: new Date().toISOString(),
    action,
    source: 'banner',
    consentMode: {
      ad_storage: 'denied',
      ad_user_data: 'denied',
      ad_personalization: 'denied',
      analytics_storage: customPurposes.includes('analytics') ? 'granted' : 'denied',
      functionality_storage: 'granted',
      personalization_storage: 'denied',
      security_storage: 'granted',
    },
    customPurposes,
    customVendors: [],
    language: 'en',
    sdkVersion: '1.0.0',
  };
  const res = await env.server.request('POST', '/v1/consents', {
    body: JSON.stringify(body),
    headers: { 'content-type': 'application/json', origin: env.server.origin },
  });
  assert.equal(res.status, 201, `POST /v1/consents: ${res.text}`);
  events.push({ eventId, action, ...res.json() });
}

before(async () => {
  env = await setup();
  const { server } = env;
  site = await server.createSite('Dashboard shop', repoJson('crates/server/tests/fixtures/opt-in-site.json'));
  process.env.NEXAGUARD_PASSWORD = PASSWORD;
  server.cli(['user', 'create', '--email', EMAIL, '--role', 'owner', '--tenant', server.tenantId()]);
  delete process.env.NEXAGUARD_PASSWORD;

  const signedIn = await api('POST', '/session', { email: EMAIL, password: PASSWORD });
  assert.equal(signedIn.next, 'mfa_enrolment');
  const enrolment = await api('POST', '/mfa/enrolment');
  await api('POST', '/mfa/enrolment/confirm', { code: totp(enrolment.secret) });

  await postConsent('accept_all', ['necessary', 'preferences', 'analytics', 'marketing']);
  await postConsent('custom', ['necessary', 'analytics']);
  await postConsent('reject_all', []);
});

after(async () => {
  await env?.close();
});

/** A browser context signed in with the API session's cookie. */
async function signedIn(fn, options) {
  return withContext(env.browser, env.server, async (ctx) => {
    await ctx.context.addCookies([{
      name: COOKIE,
      value: session.cookie,
      url: `${env.server.origin}/`,
      secure: true,
      httpOnly: true,
      sameSite: 'Strict',
    }]);
    return fn(ctx);
  }, options);
}

const dashboardUrl = () => `${env.server.origin}/admin/sites/${site.id}/consents`;

describe('the consent dashboard', () => {
  test('shows the numbers of the posted consents, as a chart and as tables', async () => {
    await signedIn(async (ctx) => {
      const page = await ctx.context.newPage();
      const response = await page.goto(dashboardUrl());
      assert.equal(response.status(), 200);
      assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'Consents: Dashboard shop');
      assert.equal((await page.locator('#total').textContent()).trim(), '3');
      assert.equal((await page.locator('#opt-in-rate').textContent()).trim(), '66.7 %');

      const chart = page.locator('svg#opt-in-chart');
      assert.equal(await chart.getAttribute('role'), 'img');
      assert.match(await chart.locator('title').first().textContent(), /^Opt-in rate by day/);
      assert.equal(await chart.locator('rect.bar').count(), 30);

      const actions = await tableMap(page, '#per-action');
      assert.deepEqual(actions, { 'Accept all': '1', 'Custom choice': '1', 'Reject all': '1' });
      const today = new Date().toISOString().slice(0, 10);
      const perDay = await page.locator('#per-day tbody tr').evaluateAll((rows) => rows.map((r) => [...r.cells].map((c) => c.textContent.trim())));
      assert.equal(perDay.length, 30);
      assert.deepEqual(perDay.at(-1), [today, '3', '2', '66.7 %']);
      const devices = await tableMap(page, '#per-device');
      assert.deepEqual(Object.values(devices), ['3']);

      // Staging has none of them.
      await page.getByRole('link', { name: 'Staging' }).click();
      await page.waitForURL(/environment=staging/);
      assert.equal((await page.locator('#total').textContent()).trim(), '0');
      assert.equal(await page.getByRole('link', { name: 'Staging' }).getAttribute('aria-current'), 'page');

      // An impossible range is a message on the page, not a 500.
      const bad = await page.goto(`${dashboardUrl()}?from=2026-11-05&to=2026-11-01`);
      assert.equal(bad.status(), 422);
      assert.match(await page.getByRole('alert').textContent(), /must not be after/);
    });
  });

  test('finds a record by event id and by consent token, and links the export', async () => {
    await signedIn(async (ctx) => {
      const page = await ctx.context.newPage();
      await page.goto(dashboardUrl());
      const wanted = events[1];
      await page.getByLabel('Event id').fill(wanted.eventId);
      await page.getByRole('button', { name: 'Find' }).click();
      await page.waitForURL(/event=/);
      assert.match(await page.locator('#lookup-result').textContent(), /1 record\(s\) found/);
      const rows = await page.locator('#records tbody tr').evaluateAll((trs) => trs.map((r) => [...r.cells].map((c) => c.textContent.trim())));
      assert.equal(rows.length, 1);
      assert.equal(rows[0][0], wanted.eventId);
      assert.equal(rows[0][2], 'Custom choice');

      await page.getByLabel('Event id').fill('');
      await page.getByLabel('Consent token').fill(events[0].consentToken);
      await page.getByRole('button', { name: 'Find' }).click();
      await page.waitForURL(/token=/);
      assert.equal(await page.locator('#records tbody tr').count(), 1);

      const notUuid = await page.goto(`${dashboardUrl()}?event=nope`);
      assert.equal(notUuid.status(), 422);
      assert.match(await page.getByRole('alert').textContent(), /not a UUID/);

      await page.goto(`${dashboardUrl()}?event=${wanted.eventId}`);
      const csv = await page.locator('#export-csv').getAttribute('href');
      assert.match(csv, new RegExp(`^/admin/api/v1/sites/${site.id}/consents/export\\?environment=production&from=.*&format=csv$`));
      const exported = await page.evaluate(async (href) => {
        const r = await fetch(href);
        return { status: r.status, text: await r.text() };
      }, csv);
      assert.equal(exported.status, 200);
      assert.equal(exported.text.trim().split('\n').length, 4, exported.text);
      assert.ok(exported.text.includes(wanted.eventId));

      await assertNoAxeViolations(page, 'the consent dashboard');
      await page.screenshot({ path: path.join(SCREENSHOTS, 'dashboard-consents.png'), fullPage: true });
    });
  });

  test('fits a phone screen', async () => {
    await signedIn(async (ctx) => {
      const page = await ctx.context.newPage();
      await page.goto(dashboardUrl());
      await assertNoHorizontalOverflow(page, 'the dashboard on a phone');
      await page.screenshot({ path: path.join(SCREENSHOTS, 'dashboard-phone.png') });
    }, { viewport: { width: 375, height: 740 }, isMobile: true, hasTouch: true });
  });
});

describe('the audit viewer', () => {
  test('shows the sign-in entries, newest first, under a verified chain', async () => {
    await signedIn(async (ctx) => {
      const page = await ctx.context.newPage();
      const response = await page.goto(`${env.server.origin}/admin/audit`);
      assert.equal(response.status(), 200);
      assert.match(await page.locator('#chain-status').textContent(), /^Chain verified up to entry \d+/);
      const rows = await page.locator('#audit-entries tbody tr').evaluateAll((trs) => trs.map((r) => [...r.cells].map((c) => c.textContent.trim())));
      const actions = rows.map((r) => r[2]);
      for (const wanted of ['auth.login', 'mfa.enrol', 'user.create', 'consents.export']) {
        assert.ok(actions.includes(wanted), `no ${wanted} entry in ${actions.join(', ')}`);
      }
      const seqs = rows.map((r) => Number(r[0]));
      assert.deepEqual(seqs, [...seqs].sort((a, b) => b - a), 'newest first');

      await page.getByLabel('Action').selectOption('auth.login');
      await page.getByRole('button', { name: 'Filter' }).click();
      await page.waitForURL(/action=auth.login/);
      const filtered = await page.locator('#audit-entries tbody tr td:nth-child(3)').allTextContents();
      assert.ok(filtered.length >= 1);
      assert.ok(filtered.every((a) => a.trim() === 'auth.login'), filtered.join(', '));

      const none = await page.goto(`${env.server.origin}/admin/audit?action=keys.rotate`);
      assert.equal(none.status(), 200);
      assert.equal(await page.locator('#no-entries').count(), 1);
      const bad = await page.goto(`${env.server.origin}/admin/audit?actor=alice`);
      assert.equal(bad.status(), 422);
      assert.match(await page.getByRole('alert').textContent(), /user:UUID/);

      await page.goto(`${env.server.origin}/admin/audit`);
      await assertNoAxeViolations(page, 'the audit viewer');
      await page.screenshot({ path: path.join(SCREENSHOTS, 'audit-viewer.png'), fullPage: true });
    });
  });

  test('pages older entries', async () => {
    await signedIn(async (ctx) => {
      const page = await ctx.context.newPage();
      // Enough entries for two pages: each export is audited.
      for (let i = 0; i < 50; i += 1) {
        const res = await env.server.request('GET', `/admin/api/v1/sites/${site.id}/consents/export?format=jsonl`, {
          headers: { cookie: `${COOKIE}=${session.cookie}` },
        });
        assert.equal(res.status, 200);
      }
      await page.goto(`${env.server.origin}/admin/audit`);
      const first = await page.locator('#audit-entries tbody tr th').allTextContents();
      assert.equal(first.length, 50);
      await page.locator('#older').click();
      await page.waitForURL(/before=/);
      const second = await page.locator('#audit-entries tbody tr th').allTextContents();
      assert.ok(second.length >= 1);
      assert.ok(Number(second[0]) < Number(first.at(-1)), `${second[0]} follows ${first.at(-1)}`);
    });
  });

  test('without a session, the console sends the browser to sign in', async () => {
    const res = await env.server.request('GET', '/admin/audit');
    assert.equal(res.status, 303);
    assert.equal(res.headers.location, '/admin/login');
  });
});
