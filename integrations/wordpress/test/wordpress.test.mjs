// The NexaGuard WordPress plugin in a real WordPress (Debian's 6.1) with
// the real NexaGuard server and headless Chromium: installed from its zip,
// activated and configured through the admin screens, then seen by
// visitors. Run by integrations/wordpress/test/run.sh.
//
// The NexaGuard site made here allows the WordPress origin; production
// serves an opt-in configuration with the categories necessary,
// preferences, analytics and marketing, staging the demo's TCF
// configuration. Tests run in order and build on the settings before them.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { freePort, newContext, poll, repoJson, setup, REPO } from '../../../tests/browser/lib/harness.mjs';
import {
  banner, bannerButton, openPreferencesFromBanner, prefs, prefsButton, sdkReady, setChoices,
} from '../../../tests/browser/lib/sdk.mjs';
import { SETTINGS_PATH, WordPress, activatePlugin, login, saveSettings } from './lib/wordpress.mjs';

const WP_CATEGORIES = ['functional', 'preferences', 'statistics', 'statistics-anonymous', 'marketing'];

let env;
let wp;
let site;
/** A browser context signed in as the WordPress administrator. */
let admin;
let adminPage;

before(async () => {
  env = await setup();
  const { server } = env;
  const port = await freePort();
  wp = await WordPress.start({ port, nexaguardOrigin: server.origin, ca: path.join(server.dataDir, 'tls', 'cert.pem') });
  // A site allowing the WordPress origin, with both environments published.
  const made = server.cli([
    'site', 'create', '--tenant', server.tenantId(), '--name', 'WordPress', '--origin', wp.origin,
  ]);
  site = { id: made.id, production: made.siteKeys.production, staging: made.siteKeys.staging };
  await server.publish(site.id, site.production, repoJson('crates/server/tests/fixtures/opt-in-site.json'));
  const stagingFile = path.join(REPO, 'crates', 'server', 'assets', 'demo-site.json');
  const out = server.cli(['site', 'config', 'publish', '--site', site.id, '--environment', 'staging', stagingFile]);
  await server.waitForConfigVersion(site.staging, out.version);
});

after(async () => {
  await admin?.context.close().catch(() => {});
  await wp?.stop();
  await env?.close();
});

/** A fresh visitor: own cookies and storage, records consent-change events. */
async function visitor() {
  const ctx = await newContext(env.browser, env.server);
  await ctx.context.addInitScript(() => {
    window.__consentChanges = [];
    document.addEventListener('wp_listen_for_consent_change', (e) => {
      window.__consentChanges.push(Object.assign({}, e.detail));
    });
  });
  return ctx;
}

async function open(ctx, url = `${wp.origin}/`) {
  const page = await ctx.context.newPage();
  await page.goto(url, { waitUntil: 'domcontentloaded' });
  return page;
}

/** wp_has_consent() of every API category, as the page's JavaScript answers it. */
function jsConsent(page) {
  return page.evaluate((cats) => Object.fromEntries(cats.map((c) => [c, window.wp_has_consent(c)])), WP_CATEGORIES);
}

/** What PHP's wp_has_consent() answered for this page (the test mu-plugin's meta). */
async function phpConsent(page) {
  const content = await page.getAttribute('meta[name="nexaguard-test-php-consent"]', 'content');
  return Object.fromEntries(content.split(',').map((kv) => kv.split('=')).map(([k, v]) => [k, v === 'allow']));
}

const expected = (allowed) => Object.fromEntries(WP_CATEGORIES.map((c) => [c, allowed.includes(c)]));

/** Waits until the API's cookies say exactly `allowed` (the SDK and the mapping run asynchronously). */
async function waitConsent(page, allowed, what) {
  const want = expected(allowed);
  await poll(what, async () => {
    const got = await jsConsent(page);
    return JSON.stringify(got) === JSON.stringify(want) ? got : false;
  }).catch(async (e) => {
    throw new Error(`${e.message}\nwp_has_consent: ${JSON.stringify(await jsConsent(page))}, wanted ${JSON.stringify(want)}`);
  });
}

const ran = (page) => page.evaluate(() => ({
  analytics: window.__ngTestAnalytics ?? 0,
  analyticsAfter: window.__ngTestAnalyticsAfter ?? 0,
  marketing: window.__ngTestMarketing ?? 0,
  free: window.__ngTestFree ?? 0,
}));

function noPageErrors(ctx) {
  assert.deepEqual(ctx.errors, [], 'no uncaught errors in the pages');
}

test('WordPress installs, and the WP Consent API and the plugin from its zip activate through the Plugins screen', async () => {
  await wp.install();
  admin = await newContext(env.browser, env.server);
  adminPage = await admin.context.newPage();
  await login(adminPage, wp);
  await activatePlugin(adminPage, wp, 'WP Consent API');
  await activatePlugin(adminPage, wp, 'NexaGuard Consent');
});

test('the settings page saves the server, both keys and the blocking rules, and shows the snippet the server gave', async () => {
  const page = await saveSettings(adminPage, wp, {
    serverUrl: env.server.origin,
    productionKey: site.production,
    stagingKey: site.staging,
    environment: 'production',
    rules: [
      { kind: 'handle', match: 'nexaguard-test-analytics', category: 'analytics' },
      { kind: 'url', match: '*/nexaguard-test/marketing.js*', category: 'marketing' },
    ],
  });
  assert.match(await page.textContent('#setting-error-settings_updated'), /Settings saved/);
  assert.equal(await page.inputValue('#nexaguard-server-url'), env.server.origin);
  assert.equal(await page.inputValue('#nexaguard-production-key'), site.production);
  assert.equal(await page.inputValue('#nexaguard-staging-key'), site.staging);
  assert.equal(await page.inputValue('[name="nexaguard_settings[blocking][1][match]"]'), '*/nexaguard-test/marketing.js*');
  const status = await page.textContent('#nexaguard-status');
  assert.match(status, /\/sdk\/v1\/nexaguard-[0-9a-f]{16}\.js/, `the status shows the SDK URL the server gave: ${status}`);
  const snippet = await env.server.snippet(site.production);
  assert.equal(
    (await page.textContent('[data-nexaguard-stub-hash]')).replace(/'/g, ''),
    snippet.stubHash,
    'the stub hash shown for the CSP is the server\'s x-nexaguard-stub-hash',
  );
});

test('a visitor gets the snippet first in <head> and the banner on a front-end page, and no blocked script runs', async () => {
  const ctx = await visitor();
  try {
    const page = await open(ctx);
    const head = await page.evaluate(() => {
      const scripts = Array.from(document.querySelectorAll('script'));
      const sdk = document.querySelector('script[data-site-key][src]');
      return {
        first: scripts[0] && scripts[0].id,
        firstType: scripts[0] && scripts[0].type,
        secondIsStub: !!scripts[1] && !scripts[1].src && /nexaguard-settings/.test(scripts[1].textContent),
        inHead: scripts[0] && scripts[0].parentNode === document.head,
        sdkIntegrity: sdk && sdk.integrity,
        sdkCrossOrigin: sdk && sdk.crossOrigin,
        lang: document.documentElement.lang,
      };
    });
    assert.equal(head.first, 'nexaguard-settings', 'the settings element is the first script of the page');
    assert.equal(head.firstType, 'application/json');
    assert.ok(head.inHead, 'in <head>');
    assert.ok(head.secondIsStub, 'the stub follows it');
    assert.match(head.sdkIntegrity ?? '', /^sha384-/, 'the SDK is loaded with its SRI hash');
    assert.equal(head.sdkCrossOrigin, 'anonymous');
    assert.equal(head.lang, 'en-US', '<html lang> is the WordPress locale');
    const settings = JSON.parse(await page.textContent('#nexaguard-settings'));
    assert.equal(settings.siteKey, site.production, 'the production key is live');
    const served = (await env.server.snippet(site.production)).html;
    const stub = /\n<script>([\s\S]*)<\/script>\n$/.exec(served)[1];
    assert.equal(await page.evaluate(() => document.querySelectorAll('script')[1].textContent), stub,
      'the stub is printed byte for byte as served, so its CSP hash holds');
    assert.deepEqual(settings, JSON.parse(/id="nexaguard-settings">(.*?)<\/script>/s.exec(served)[1]), 'the settings are the server\'s');

    await banner(page).waitFor({ state: 'visible' });
    await sdkReady(page);
    assert.deepEqual(await ran(page), { analytics: 0, analyticsAfter: 0, marketing: 0, free: 1 }, 'only the unblocked script ran before a choice');
    const blocked = await page.evaluate(() => ['nexaguard-test-analytics-js', 'nexaguard-test-analytics-js-after', 'nexaguard-test-marketing-js']
      .map((id) => { const el = document.getElementById(id); return el && `${el.type} ${el.getAttribute('data-nexaguard-category')}`; }));
    assert.deepEqual(blocked, ['text/plain analytics', 'text/plain analytics', 'text/plain marketing'], 'the tags are in NexaGuard\'s blocked form');
    await poll('the WP Consent API type from the region', () => page.evaluate(() => window.wp_consent_type === 'optin'));
    assert.deepEqual(await jsConsent(page), expected(['functional']), 'only functional is allowed before a choice on an opt-in site');
    assert.deepEqual(await phpConsent(page), expected(['functional']), 'PHP\'s wp_has_consent allows only functional before a choice');
    noPageErrors(ctx);
  } finally {
    await ctx.context.close();
  }
});

test('a choice sets the WP Consent API categories, fires wp_listen_for_consent_change, and runs the blocked scripts of what was granted', async () => {
  const ctx = await visitor();
  try {
    const page = await open(ctx);
    await banner(page).waitFor({ state: 'visible' });
    await openPreferencesFromBanner(page);
    await setChoices(page, { category: new Set(['analytics']) });
    await prefsButton(page, 'save').click();
    await prefs(page).waitFor({ state: 'hidden' });
    await waitConsent(page, ['functional', 'statistics', 'statistics-anonymous'], 'the API categories after granting analytics');
    const changes = await page.evaluate(() => window.__consentChanges);
    assert.ok(changes.some((c) => c.statistics === 'allow'), `wp_listen_for_consent_change fired with statistics allow: ${JSON.stringify(changes)}`);
    assert.ok(changes.some((c) => c.marketing === 'deny'), 'and with marketing deny');
    await page.waitForFunction(() => window.__ngTestAnalytics === 1);
    assert.deepEqual(await ran(page), { analytics: 1, analyticsAfter: 1, marketing: 0, free: 1 }, 'the analytics script and its inline code ran once, marketing not');

    await page.reload({ waitUntil: 'domcontentloaded' });
    await sdkReady(page);
    await page.waitForFunction(() => window.__ngTestAnalytics === 1);
    assert.equal(await banner(page).isVisible(), false, 'no banner after the reload');
    assert.deepEqual(await phpConsent(page), expected(['functional', 'statistics', 'statistics-anonymous']), 'PHP reads the choice from the API\'s cookies');
    assert.deepEqual(await ran(page), { analytics: 1, analyticsAfter: 1, marketing: 0, free: 1 }, 'after the reload: analytics once, marketing never');

    await page.evaluate(() => window.NexaGuard.acceptAll());
    await waitConsent(page, WP_CATEGORIES, 'every API category after accept all');
    await page.waitForFunction(() => window.__ngTestMarketing === 1);
    assert.deepEqual(await ran(page), { analytics: 1, analyticsAfter: 1, marketing: 1, free: 1 }, 'marketing ran after accept all');

    await page.evaluate(() => window.NexaGuard.rejectAll());
    await waitConsent(page, ['functional'], 'only functional after reject all');
    const last = await page.evaluate(() => window.__consentChanges);
    assert.ok(last.some((c) => c.marketing === 'deny'), 'the withdrawal fired a change event for marketing');
    noPageErrors(ctx);
  } finally {
    await ctx.context.close();
  }
});

test('with the WordPress locale de_DE the banner is German', async () => {
  wp.setOption('WPLANG', 'de_DE');
  const ctx = await visitor();
  try {
    const page = await open(ctx);
    assert.equal(await page.evaluate(() => document.documentElement.lang), 'de-DE');
    await banner(page).waitFor({ state: 'visible' });
    assert.equal(await bannerButton(page, 'accept-all').textContent(), 'Alle akzeptieren');
  } finally {
    wp.setOption('WPLANG', '');
    await ctx.context.close();
  }
});

test('on the TCF configuration of the staging environment, accept all allows every API category and reject all only functional', async () => {
  await saveSettings(adminPage, wp, { environment: 'staging' });
  const ctx = await visitor();
  try {
    const page = await open(ctx);
    assert.equal(JSON.parse(await page.textContent('#nexaguard-settings')).siteKey, site.staging, 'the staging key is live');
    await banner(page).waitFor({ state: 'visible' });
    await poll('the WP Consent API type for a TCF region', () => page.evaluate(() => window.wp_consent_type === 'optin'));
    await bannerButton(page, 'accept-all').click();
    await waitConsent(page, WP_CATEGORIES, 'every API category from the IAB purposes and Consent Mode');
    await page.evaluate(() => window.NexaGuard.rejectAll());
    await waitConsent(page, ['functional'], 'only functional after reject all on TCF');
    noPageErrors(ctx);
  } finally {
    await ctx.context.close();
    await saveSettings(adminPage, wp, { environment: 'production' });
  }
});

test('the settings page escapes what it is given and refuses a server URL that is not https', async () => {
  const xss = 'a"onfocus="window.__xss=1"autofocus="<b>';
  const page = await saveSettings(adminPage, wp, {
    serverUrl: 'http://plain.example.test',
    rules: [
      { kind: 'handle', match: 'nexaguard-test-analytics', category: 'analytics' },
      { kind: 'url', match: '*/nexaguard-test/marketing.js*', category: 'marketing' },
      { kind: 'url', match: xss, category: 'marketing' },
    ],
  });
  const errors = await page.textContent('#wpbody-content .notice-error, #wpbody-content .error');
  assert.match(errors, /https/, `the page says why the URL was refused: ${errors}`);
  assert.equal(await page.inputValue('#nexaguard-server-url'), env.server.origin, 'the previous server URL was kept');
  const stored = await page.inputValue('[name="nexaguard_settings[blocking][2][match]"]');
  assert.equal(stored, 'a"onfocus="window.__xss=1"autofocus="', 'the value comes back as saved (tags stripped), as text');
  await page.waitForTimeout(300);
  assert.equal(await page.evaluate(() => window.__xss), undefined, 'no script ran from the value');
  assert.equal(await page.locator('#nexaguard-blocking [onfocus]').count(), 0, 'no attribute was injected');
  const html = await page.content();
  assert.ok(html.includes('value="a&quot;onfocus=&quot;window.__xss=1&quot;autofocus=&quot;"'), 'the value is escaped in the HTML');
});

test('a settings POST without a valid nonce changes nothing', async () => {
  const before = wp.option('nexaguard_settings');
  const post = (extra) => admin.context.request.post(`${wp.origin}/wp-admin/options.php`, {
    form: {
      option_page: 'nexaguard',
      action: 'update',
      _wp_http_referer: SETTINGS_PATH,
      'nexaguard_settings[server_url]': 'https://attacker.example.test',
      'nexaguard_settings[form]': '1',
      ...extra,
    },
    maxRedirects: 0,
  });
  const forged = await post({ _wpnonce: '0123456789' });
  assert.equal(forged.status(), 403, 'a wrong nonce is refused');
  const missing = await post({});
  assert.equal(missing.status(), 403, 'a missing nonce is refused');
  assert.equal(wp.option('nexaguard_settings'), before, 'the option is unchanged');
  await adminPage.goto(`${wp.origin}${SETTINGS_PATH}`);
  assert.equal(await adminPage.inputValue('#nexaguard-server-url'), env.server.origin);
});

test('an editor previewing a post gets no snippet unless "load for logged-in editors previewing" is on', async () => {
  // A draft, which WordPress shows its editors with ?preview=true.
  wp.sql("UPDATE wp_posts SET post_status = 'draft' WHERE ID = 1");
  const preview = `${wp.origin}/?p=1&preview=true`;
  await adminPage.goto(preview);
  assert.equal(await adminPage.evaluate(() => document.body.classList.contains('single-post') || /Hello world/.test(document.title)), true, 'the draft is previewed');
  assert.equal(await adminPage.locator('#nexaguard-settings').count(), 0, 'no snippet in the preview');
  assert.equal(await adminPage.getAttribute('#nexaguard-test-analytics-js', 'type'), 'text/plain', 'the blocked script stays blocked');
  await adminPage.goto(`${wp.origin}/`);
  assert.equal(await adminPage.locator('#nexaguard-settings').count(), 1, 'a page that is not a preview has the snippet for the editor too');

  await saveSettings(adminPage, wp, { loadWhenPreviewing: true });
  await adminPage.goto(preview);
  assert.equal(await adminPage.locator('#nexaguard-settings').count(), 1, 'the preview has the snippet once the toggle is on');
  await saveSettings(adminPage, wp, { loadWhenPreviewing: false });
});

test('when the server cannot be reached, pages keep the last snippet it gave and the settings page says why', async () => {
  await env.server.stop();
  // The cache period over: the next page has to ask the server again.
  wp.sql("DELETE FROM wp_options WHERE option_name LIKE '\\_transient%nexaguard\\_snippet'");
  const res = await fetch(`${wp.origin}/`);
  const html = await res.text();
  assert.match(html, new RegExp(`<script type="application/json" id="nexaguard-settings">\\{"siteKey":"${site.production}"`), 'the last good snippet is printed');
  await adminPage.goto(`${wp.origin}${SETTINGS_PATH}`);
  const error = await adminPage.textContent('#nexaguard-status-error');
  assert.match(error, /cURL error|could not|refused|connect/i, `the last error is shown: ${error}`);
  assert.match(error, /last snippet fetched is used/);
});

test('deleting the plugin from the Plugins screen removes its options', async () => {
  assert.ok(wp.optionNames('nexaguard%').length > 0, 'the plugin stored options');
  const page = adminPage;
  await page.goto(`${wp.origin}/wp-admin/plugins.php`);
  await Promise.all([page.waitForNavigation(), page.click('a[aria-label="Deactivate NexaGuard Consent"]')]);
  page.once('dialog', (d) => d.accept());
  await page.click('a[aria-label="Delete NexaGuard Consent"]');
  await page.locator('tr.plugin-deleted-tr').waitFor({ state: 'attached', timeout: 20_000 }).catch(async (e) => {
    throw new Error(`the Plugins screen did not report the deletion: ${(await page.textContent('#wpbody-content')).replace(/\s+/g, ' ').slice(0, 600)} (${e.message})`);
  });
  assert.equal(existsSync(path.join(wp.dir, 'wp-content', 'plugins', 'nexaguard')), false, 'the plugin\'s folder is gone');
  assert.deepEqual(wp.optionNames('nexaguard%'), [], 'no nexaguard option is left');
  assert.deepEqual(wp.optionNames('_transient%nexaguard%'), [], 'no nexaguard transient is left');
});

test('WordPress logged no PHP notice, warning or error from the plugin', () => {
  const lines = wp.debugLog().split('\n').filter((l) => /nexaguard/i.test(l));
  assert.deepEqual(lines, []);
});
