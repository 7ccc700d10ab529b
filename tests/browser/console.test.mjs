// The admin console end to end against the real server: the owner's first
// sign-in with TOTP enrolment (codes computed here); sign-in failures that
// read the same for a wrong password, an unknown address and a locked
// account, which the password with a current code still opens; the expiry
// message; sites, editor, preview, publish and promote; the viewer path
// (invited in the console, accepts the link, sees no edit controls, a
// forged post gets 403); API tokens (step-up, scopes off unless ticked,
// secret once, Bearer, revoke); the operator's keys and tenants; no
// sideways scrolling on a phone; and axe-core on every page visited.
// Screenshots go to SCREENSHOTS (harness.mjs): docs/images/console-*.png for
// docs/admin-console.md when regenerated with `npm --prefix tests/browser run screenshots`.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { SCREENSHOTS, demoOwner, newContext, setup, sleep } from './lib/harness.mjs';
import { assertNoAxeViolations, assertNoHorizontalOverflow } from './lib/console-checks.mjs';
import { Authenticator, totp } from './lib/totp.mjs';


let env;
let owner;
/** The owner's browser context, signed in after the enrolment test. */
let ownerCtx;
let totpSecret;

before(async () => {
  env = await setup();
  owner = demoOwner(env.server);
});

after(async () => {
  await viewerCtx?.context.close();
  await ownerCtx?.context.close();
  await env?.close();
});

const url = (p) => `${env.server.origin}${p}`;

async function shot(page, name) {
  await page.screenshot({ path: path.join(SCREENSHOTS, `console-${name}.png`), fullPage: true });
}

/** Signs in on `page`; returns the page after the redirect. */
async function signIn(page, email, password) {
  await page.goto(url('/admin/login'));
  await page.getByLabel('E-mail address').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForLoadState('domcontentloaded');
}

/** What every failed sign-in says, whatever the reason. */
const SIGN_IN_FAILED = 'Wrong e-mail address or password. After repeated failed attempts, '
  + 'also give the current code from your authenticator app.';

/**
 * Posts the sign-in form of `page` (on the sign-in page); the code goes into
 * the optional code field, which the page shows after a failure. Returns
 * the answer's status, its message and the page's main content with the
 * address taken out, so that two failures can be compared whole.
 */
async function attemptSignIn(page, { email, password, code }) {
  await page.getByLabel('E-mail address').fill(email);
  await page.getByLabel('Password').fill(password);
  if (code !== undefined) await page.locator('#login-code').fill(code);
  const [response] = await Promise.all([
    page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname === '/admin/login'),
    page.getByRole('button', { name: 'Sign in' }).click(),
  ]);
  await page.waitForLoadState('domcontentloaded');
  const headers = await response.allHeaders();
  if (response.status() !== 401) return { status: response.status(), location: headers.location };
  return {
    status: response.status(),
    message: (await page.locator('[role=alert]').textContent()).trim(),
    cookie: headers['set-cookie'] ?? null,
    retryAfter: headers['retry-after'] ?? null,
    main: (await page.locator('main').innerHTML()).replaceAll(email, 'EMAIL'),
  };
}

/** A code of the secret for a step not used yet (codes are single-use). */
let lastStep = 0;
function freshCode(secret) {
  let at = Date.now();
  while (Math.floor(at / 30000) <= lastStep) at += 30000;
  lastStep = Math.floor(at / 30000);
  return totp(secret, at);
}

describe('sign-in', () => {
  test('first sign-in of an owner: TOTP enrolment, then the recovery codes once', async () => {
    ownerCtx = await newContext(env.browser, env.server);
    const page = await ownerCtx.context.newPage();
    await page.goto(url('/admin/'));
    assert.equal(new URL(page.url()).pathname, '/admin/login', 'signed out, the console sends to the sign-in page');
    await assertNoAxeViolations(page, 'the sign-in page');
    await shot(page, 'login');
    await signIn(page, owner.email, owner.password);
    assert.equal(new URL(page.url()).pathname, '/admin/mfa/enrol');
    const qr = page.locator('img.qr');
    assert.match(await qr.getAttribute('src'), /^data:image\/svg\+xml;base64,/);
    totpSecret = (await page.locator('#totp-secret').textContent()).trim();
    assert.match(totpSecret, /^[A-Z2-7]+$/);
    await assertNoAxeViolations(page, 'the enrolment page');
    await shot(page, 'enrol');
    // A wrong code (not the current one of the offered secret) is refused.
    await page.getByLabel('Code from the app').fill(totp(totpSecret) === '000000' ? '111111' : '000000');
    await page.getByRole('button', { name: 'Confirm' }).click();
    assert.match(await page.locator('[role=alert]').textContent(), /does not match/);
    totpSecret = (await page.locator('#totp-secret').textContent()).trim();
    await page.getByLabel('Code from the app').fill(freshCode(totpSecret));
    await page.getByRole('button', { name: 'Confirm' }).click();
    const codes = await page.locator('#recovery-codes li').allTextContents();
    assert.equal(codes.length, 10, 'ten recovery codes');
    await assertNoAxeViolations(page, 'the recovery codes page');
    await page.getByRole('link', { name: 'Continue to the console' }).click();
    assert.equal(new URL(page.url()).pathname, '/admin/');
    await page.getByRole('heading', { name: 'Sites' }).waitFor();
    await assertNoAxeViolations(page, 'the sites page');
    await page.close();
  });

  test('sign-in failures read the same for a wrong password, an unknown address and a locked account; the password and a current code open a locked account', async () => {
    // A publisher: since issue 13 its role needs a second factor too.
    const publisher = { email: 'publisher@example.com', password: 'a publisher password 345' };
    process.env.NEXAGUARD_PASSWORD = publisher.password;
    env.server.cli(['user', 'create', '--email', publisher.email, '--role', 'publisher', '--tenant', env.server.tenantId()]);
    delete process.env.NEXAGUARD_PASSWORD;
    let app;
    const first = await newContext(env.browser, env.server);
    try {
      const page = await first.context.newPage();
      await signIn(page, publisher.email, publisher.password);
      assert.equal(new URL(page.url()).pathname, '/admin/mfa/enrol', 'a publisher signing in for the first time is sent to enrolment');
      app = new Authenticator((await page.locator('#totp-secret').textContent()).trim());
      await page.getByLabel('Code from the app').fill(await app.code());
      await page.getByRole('button', { name: 'Confirm' }).click();
      assert.equal(await page.locator('#recovery-codes li').count(), 10);
    } finally {
      await first.context.close();
    }

    const ctx = await newContext(env.browser, env.server);
    try {
      const page = await ctx.context.newPage();
      await page.goto(url('/admin/login'));
      const failed = await attemptSignIn(page, { email: publisher.email, password: 'wrong password 0' });
      assert.equal(failed.status, 401);
      assert.equal(failed.message, SIGN_IN_FAILED);
      assert.equal(await page.getByLabel('Code from your authenticator (if you have one)').count(), 1, 'after a failure the form offers the code field');
      await assertNoAxeViolations(page, 'the sign-in page after a failure, with the code field');
      for (let i = 1; i < 5; i += 1) {
        assert.deepEqual(await attemptSignIn(page, { email: publisher.email, password: `wrong password ${i}` }), failed, `wrong password ${i}`);
      }
      // Five failures: the account is locked. Nothing in the answer says so.
      assert.deepEqual(await attemptSignIn(page, { email: 'nobody@example.com', password: publisher.password }), failed, 'an unknown address');
      assert.deepEqual(await attemptSignIn(page, { email: publisher.email, password: publisher.password }), failed,
        'the right password alone, while locked');
      assert.deepEqual(await attemptSignIn(page, { email: publisher.email, password: publisher.password, code: app.usedCode() }), failed,
        'the right password with a code already used, while locked');
      await shot(page, 'lockout');
      // The owner of the account still gets in: the password with the next code.
      const opened = await attemptSignIn(page, { email: publisher.email, password: publisher.password, code: await app.code() });
      assert.equal(opened.status, 303, `the password and a current code open the locked account: ${JSON.stringify(opened)}`);
      assert.equal(new URL(page.url()).pathname, '/admin/', 'no second step: the code was given with the password');
      await page.getByRole('heading', { name: 'Sites' }).waitFor();
      assert.match(await page.locator('.role').textContent(), /publisher/);
    } finally {
      await ctx.context.close();
    }
  });

  test('an expired session sends to the sign-in page with a message', async () => {
    const ctx = await newContext(env.browser, env.server);
    try {
      const page = await ctx.context.newPage();
      process.env.NEXAGUARD_PASSWORD = 'a long enough password 456';
      env.server.cli(['user', 'create', '--email', 'expiring@example.com', '--role', 'viewer', '--tenant', env.server.tenantId()]);
      delete process.env.NEXAGUARD_PASSWORD;
      await signIn(page, 'expiring@example.com', 'a long enough password 456');
      assert.equal(new URL(page.url()).pathname, '/admin/');
      // Age the session past the idle timeout, as 30 idle minutes would.
      sql("UPDATE sessions SET last_seen_at = '2000-01-01T00:00:00.000000000Z' WHERE user_id = "
        + "(SELECT id FROM users WHERE role = 'viewer' ORDER BY created_at DESC LIMIT 1)");
      await page.goto(url('/admin/'));
      assert.equal(new URL(page.url()).pathname + new URL(page.url()).search, '/admin/login?expired=1');
      assert.match(await page.locator('[role=status]').textContent(), /session expired/);
    } finally {
      await ctx.context.close();
    }
  });
});

let site;

describe('sites, editor, preview, publish and promote', () => {
  test('create a site', async () => {
    const page = await ownerCtx.context.newPage();
    await page.goto(url('/admin/'));
    await page.getByRole('link', { name: 'New site' }).click();
    await assertNoAxeViolations(page, 'the new site page');
    await page.getByLabel('Name').fill('Shop');
    await page.getByLabel('Origins, one per line').fill(env.server.origin);
    await page.getByRole('button', { name: 'Create site' }).click();
    await page.getByRole('heading', { name: 'Shop' }).waitFor();
    site = { path: new URL(page.url()).pathname };
    site.production = (await page.locator('tr', { hasText: 'Production' }).locator('code').textContent()).trim();
    assert.match(site.production, /^ngp_/);
    await assertNoAxeViolations(page, 'the site page');
    await page.close();
  });

  test('edit the draft: purposes, vendors by the picker, texts; findings next to a bad value', async () => {
    const page = await ownerCtx.context.newPage();
    await page.goto(url(`${site.path}/edit`));
    await page.getByLabel('Publisher country (ISO code)').fill('DE');
    await page.getByLabel('CMP id').fill('300');
    for (const id of [1, 2, 3, 4, 7, 8, 9, 10]) await page.locator(`input[name=purpose][value="${id}"]`).check();
    await page.locator('input[name=specialFeature][value="1"]').check();
    await page.getByLabel('Add a language (code)').fill('en');
    await page.getByRole('button', { name: 'Save draft' }).click();
    await page.getByText('Draft saved.').waitFor();
    // The picker: filter by purpose and legal basis, then search by name.
    await page.locator('#vpurpose').selectOption('7');
    await page.locator('#vbasis').selectOption('legint');
    await page.getByRole('button', { name: 'Search vendors' }).click();
    const results = page.locator('#vendor-results');
    await results.getByLabel('Zeta Insights (6)').waitFor();
    assert.equal(await results.getByLabel('Alpha Ads (1)').count(), 0, 'Alpha has purpose 7 on consent only');
    await results.getByLabel('Beta Measurement (2)').check();
    await page.locator('#vpurpose').selectOption('');
    await page.locator('#vbasis').selectOption('');
    await page.getByLabel('Name or id').fill('alpha');
    await page.getByRole('button', { name: 'Search vendors' }).click();
    await results.getByLabel('Alpha Ads (1)').check();
    assert.equal(await results.getByLabel('Zeta Insights (6)').count(), 0, 'the name search replaced the results');
    assert.equal(await page.locator('input[name=vendor][value="2"]:checked').count(), 1, 'the earlier pick stayed');
    for (const [label, value] of [['Title (en)', 'Your privacy'], ['Description (en)', 'We and our partners use cookies.'],
      ['Accept all button (en)', 'Accept all'], ['Reject all button (en)', 'Reject all'], ['Manage button (en)', 'Settings'],
      ['Save button (en)', 'Save']]) {
      await page.getByLabel(label, { exact: true }).fill(value);
    }
    await page.getByLabel('Accent colour (#rrggbb)').fill('red');
    await assertNoAxeViolations(page, 'the editor with search results');
    await page.getByRole('button', { name: 'Save draft' }).click();
    await page.getByText('Draft saved.').waitFor();
    const finding = page.locator('#f-banner-primaryColor-error');
    assert.match(await finding.textContent(), /"red" is not #rrggbb/, 'the finding is next to the colour field');
    assert.equal(await page.locator('#f-banner-primaryColor').getAttribute('aria-describedby'), 'f-banner-primaryColor-error');
    await assertNoAxeViolations(page, 'the editor with a finding');
    await shot(page, 'editor');
    await page.getByLabel('Accent colour (#rrggbb)').fill('#1f5eff');
    await page.getByRole('button', { name: 'Save draft' }).click();
    const status = await page.locator('#validation').textContent();
    assert.match(status, /No problems/, status);
    await page.close();
  });

  test('a stale draft revision is refused with 409 and a clear message', async () => {
    const first = await ownerCtx.context.newPage();
    const second = await ownerCtx.context.newPage();
    await first.goto(url(`${site.path}/edit`));
    await second.goto(url(`${site.path}/edit`));
    await first.getByRole('button', { name: 'Save draft' }).click();
    await first.getByText('Draft saved.').waitFor();
    const answer = await Promise.all([
      second.waitForResponse((r) => r.request().method() === 'POST'),
      second.getByRole('button', { name: 'Save draft' }).click(),
    ]);
    assert.equal(answer[0].status(), 409);
    assert.match(await second.locator('#stale').textContent(), /not saved/);
    await first.close();
    await second.close();
  });

  test('the preview frame shows the banner of the draft', async () => {
    const page = await ownerCtx.context.newPage();
    await page.goto(url(`${site.path}/preview`));
    const frame = page.frameLocator('#preview-frame');
    await frame.locator('[data-nexaguard="banner"][role="dialog"]').waitFor({ state: 'visible' });
    assert.match(await frame.locator('[data-nexaguard="banner"]').textContent(), /Your privacy/);
    await assertNoAxeViolations(page, 'the preview page');
    await shot(page, 'preview');
    await page.close();
  });

  test('a language added in the editor says whose IAB texts it shows and is previewed in that language', async () => {
    const page = await ownerCtx.context.newPage();
    await page.goto(url(`${site.path}/edit`));
    await page.getByLabel('Add a language (code)').fill('de');
    await page.getByRole('button', { name: 'Save draft' }).click();
    await page.getByText('Draft saved.').waitFor();
    await page.getByLabel('Title (de)', { exact: true }).fill('Ihre Privatsphäre');
    await page.getByLabel('Description (de)', { exact: true }).fill('Wir und unsere Partner nutzen Cookies.');
    await page.getByRole('button', { name: 'Save draft' }).click();
    await page.getByText('Draft saved.').waitFor();
    assert.match(await page.locator('#f-languages').textContent(), /the de translation of the Global Vendor List/);
    await page.goto(url(`${site.path}/preview`));
    await page.getByLabel('Language').selectOption('de');
    await page.getByRole('button', { name: 'Preview', exact: true }).click();
    const banner = page.frameLocator('#preview-frame').locator('[data-nexaguard="banner"][role="dialog"]');
    await banner.waitFor({ state: 'visible' });
    assert.equal(await banner.getAttribute('lang'), 'de');
    assert.match(await banner.textContent(), /Ihre Privatsphäre/);
    assert.equal(await page.getByLabel('Language').inputValue(), 'de', 'the field keeps the language shown');
    await assertNoAxeViolations(page, 'the preview page in German');
    await page.close();
  });

  test('publish to staging, then promote with the diff and a step-up code', async () => {
    const page = await ownerCtx.context.newPage();
    await page.goto(url(site.path));
    await page.getByRole('button', { name: 'Publish draft to staging' }).click();
    await page.locator('tr', { hasText: 'Staging' }).getByRole('cell', { name: '1', exact: true }).waitFor();
    await page.getByRole('link', { name: 'Promotion to production' }).click();
    const diff = page.locator('#promotion-diff');
    assert.match(await diff.textContent(), /vendors/);
    await assertNoAxeViolations(page, 'the promotion page');
    // Five minutes after the last code, as if they had passed.
    sql("UPDATE sessions SET mfa_at = '2000-01-01T00:00:00.000000000Z' WHERE mfa_at IS NOT NULL");
    await page.reload();
    await page.getByLabel('Code from your authenticator').fill(freshCode(totpSecret));
    await shot(page, 'promotion');
    await page.getByRole('button', { name: 'Promote to production' }).click();
    await page.locator('tr', { hasText: 'Production' }).getByRole('cell', { name: '1', exact: true }).waitFor();
    const served = await env.server.siteConfig(site.production);
    assert.deepEqual(served.config.vendors, [1, 2]);
    assert.equal(served.config.languages.en.title, 'Your privacy');
    await page.close();
  });
});

/**
 * The owner's next code for a step-up: a step after the last one used
 * (the server refuses replays), waiting for the clock when that step is
 * more than one ahead of now (the server allows one step of skew).
 */
async function nextCode(secret) {
  const target = lastStep + 1;
  while (Math.floor(Date.now() / 30000) + 1 < target) await sleep(1000);
  lastStep = target;
  return totp(secret, target * 30000);
}

/** A step-up code when the form asks for one (the last code is over five minutes old). */
async function stepUpIfAsked(page) {
  const field = page.getByLabel('Code from your authenticator');
  if (await field.count()) await field.fill(await nextCode(totpSecret));
}

/** Ages every session's second factor, as five minutes would. */
function ageSecondFactor() {
  sql("UPDATE sessions SET mfa_at = '2000-01-01T00:00:00.000000000Z' WHERE mfa_at IS NOT NULL");
}

let viewerCtx;

describe('users and the viewer path', () => {
  const viewer = { email: 'viewer@example.com', password: 'a viewer password 789' };

  test('the owner invites a viewer; the link is shown once', async () => {
    const page = await ownerCtx.context.newPage();
    await page.goto(url('/admin/'));
    await page.getByRole('link', { name: 'Users' }).click();
    await page.getByRole('heading', { name: 'Users' }).waitFor();
    assert.ok((await page.locator('#users').textContent()).includes(`${owner.email} (you)`), 'the owner is listed as you');
    await assertNoAxeViolations(page, 'the users page');
    const roles = await page.locator('#invite-role option').allTextContents();
    assert.ok(roles.includes('viewer') && roles.includes('admin') && !roles.includes('platform_operator'), roles.join());
    await page.getByLabel('E-mail address').fill(viewer.email);
    await page.getByLabel('Role', { exact: true }).selectOption('viewer');
    await page.getByRole('button', { name: 'Invite' }).click();
    const link = (await page.locator('#invitation-link').textContent()).trim();
    assert.ok(link.startsWith(url('/admin/invitations/accept?token=ngi_')), link);
    viewer.link = link;
    await assertNoAxeViolations(page, 'the invitation page');
    await page.getByRole('link', { name: 'Back to the users' }).click();
    const pending = await page.locator('#invitations').textContent();
    assert.match(pending, /viewer@example\.com/);
    assert.ok(!(await page.content()).includes(new URL(link).searchParams.get('token')), 'the link is not shown again');
    await shot(page, 'users');
    await page.close();
  });

  test('the invitee sets a password, is signed in, and sees no edit controls', async () => {
    viewerCtx = await newContext(env.browser, env.server);
    const page = await viewerCtx.context.newPage();
    await page.goto(viewer.link);
    await assertNoAxeViolations(page, 'the invitation acceptance page');
    await page.getByLabel('New password').fill(viewer.password);
    await page.getByLabel('The password again').fill(`${viewer.password} typo`);
    await page.getByRole('button', { name: 'Create account' }).click();
    assert.match(await page.locator('[role=alert]').textContent(), /passwords differ/);
    await page.getByLabel('New password').fill(viewer.password);
    await page.getByLabel('The password again').fill(viewer.password);
    await page.getByRole('button', { name: 'Create account' }).click();
    // A viewer needs no second factor: straight to the sites.
    await page.getByRole('heading', { name: 'Sites' }).waitFor();
    assert.equal(new URL(page.url()).pathname, '/admin/');
    assert.match(await page.locator('.role').textContent(), /viewer/);
    const nav = await page.getByRole('navigation', { name: 'Console' }).textContent();
    for (const hidden of ['Users', 'API tokens', 'Tenants', 'Keys', 'Audit log']) assert.ok(!nav.includes(hidden), `no ${hidden} link`);
    await page.getByRole('link', { name: 'Shop' }).click();
    await page.getByRole('heading', { name: 'Shop' }).waitFor();
    for (const where of [site.path, `${site.path}/promotion`, '/admin/']) {
      await page.goto(url(where));
      for (const name of [/save/i, /publish/i, /promote/i, /invite/i, /new site/i]) {
        assert.equal(await page.getByRole('button', { name }).count(), 0, `${where}: no ${name} button`);
        assert.equal(await page.getByRole('link', { name }).count(), 0, `${where}: no ${name} link`);
      }
      assert.equal(await page.locator('a[href$="/edit"], a[href="/admin/sites/new"]').count(), 0, `${where}: no edit links`);
    }
    const denied = await page.goto(url('/admin/users'));
    assert.equal(denied.status(), 403);
    await page.close();
  });

  test("a forged post with the viewer's valid CSRF token is refused with 403", async () => {
    const page = await viewerCtx.context.newPage();
    await page.goto(url(site.path));
    const csrf = await page.locator('input[name=csrf]').first().getAttribute('value');
    assert.ok(csrf);
    const statuses = await page.evaluate(async ({ csrf, sitePath }) => {
      const post = async (path, fields) => (await fetch(path, {
        method: 'POST',
        body: new URLSearchParams({ csrf, ...fields }),
        credentials: 'same-origin',
        redirect: 'manual',
      })).status;
      return {
        publish: await post(`${sitePath}/publish`, {}),
        edit: await post(`${sitePath}/edit`, { revision: '1', name: 'Hijacked' }),
        invite: await post('/admin/users/invite', { email: 'evil@example.com', role: 'viewer' }),
      };
    }, { csrf, sitePath: site.path });
    assert.deepEqual(statuses, { publish: 403, edit: 403, invite: 403 });
    await page.close();
  });
});

describe('API tokens', () => {
  test('create with step-up (secret shown once), use as Bearer, revoke', async () => {
    const page = await ownerCtx.context.newPage();
    await page.goto(url('/admin/tokens'));
    await assertNoAxeViolations(page, 'the tokens page');
    ageSecondFactor();
    await page.reload();
    await page.getByLabel('Name').fill('Deploy bot');
    await page.getByLabel('Role', { exact: true }).selectOption('editor');
    await page.getByLabel('Days until it expires').fill('30');
    assert.equal(await page.getByLabel('Code from your authenticator').count(), 1, 'the form asks for the second factor again');
    await stepUpIfAsked(page);
    await page.getByRole('button', { name: 'Create token' }).click();
    const secret = (await page.locator('#token-secret').textContent()).trim();
    assert.match(secret, /^ngt_/);
    await assertNoAxeViolations(page, 'the new token page');
    const call = () => env.server.request('GET', '/admin/api/v1/sites', { headers: { authorization: `Bearer ${secret}` } });
    assert.equal((await call()).status, 200);
    await page.getByRole('link', { name: 'Back to the tokens' }).click();
    const row = page.locator('#tokens tr', { hasText: 'Deploy bot' });
    assert.match(await row.textContent(), /active/);
    assert.ok(!(await page.content()).includes(secret), 'the secret is shown only once');
    await shot(page, 'tokens');
    await row.getByRole('button', { name: 'Revoke Deploy bot' }).click();
    await page.locator('#tokens tr', { hasText: 'Deploy bot' }).getByText('revoked').waitFor();
    assert.equal((await call()).status, 401);
    await page.close();
  });

  test('a token may promote to production only when its box was ticked', async () => {
    const siteId = site.path.split('/').pop();
    const promote = (secret) => env.server.request('POST', `/admin/api/v1/sites/${siteId}/promotion`, {
      headers: { authorization: `Bearer ${secret}` },
    });
    /** Creates a publisher token in the form, with the scope boxes given ticked; returns its secret. */
    const create = async (name, scopes) => {
      const page = await ownerCtx.context.newPage();
      await page.goto(url('/admin/tokens'));
      const boxes = page.locator('input[type=checkbox][name^=scope_]');
      assert.deepEqual(await boxes.evaluateAll((els) => els.map((e) => [e.name, e.checked])),
        [['scope_manage_users', false], ['scope_manage_tokens', false], ['scope_promote_production', false]],
        'three scope boxes, none ticked unless chosen');
      await page.getByLabel('Name').fill(name);
      await page.getByLabel('Role', { exact: true }).selectOption('publisher');
      await page.getByLabel('Days until it expires').fill('1');
      for (const scope of scopes) await page.locator(`input[name=${scope}]`).check();
      await stepUpIfAsked(page);
      await page.getByRole('button', { name: 'Create token' }).click();
      const secret = (await page.locator('#token-secret').textContent()).trim();
      await page.close();
      return secret;
    };
    const plain = await create('Build bot', []);
    const refused = await promote(plain);
    assert.equal(refused.status, 403, refused.text);
    assert.equal(refused.json().error.code, 'scope_required');
    const release = await create('Release bot', ['scope_promote_production']);
    const allowed = await promote(release);
    // Past the scope check: production already has staging's configuration.
    assert.equal(allowed.status, 409, allowed.text);
    assert.match(allowed.text, /already has staging's configuration/);
  });
});

describe('the operator: keys and tenants', () => {
  let opsCtx;
  after(async () => opsCtx?.context.close());

  test('an operator signs in with TOTP, rotates the keys and creates a tenant with its owner link', async () => {
    process.env.NEXAGUARD_PASSWORD = 'an operator password 012';
    env.server.cli(['user', 'create', '--email', 'ops@example.com', '--role', 'platform_operator']);
    delete process.env.NEXAGUARD_PASSWORD;
    opsCtx = await newContext(env.browser, env.server);
    const page = await opsCtx.context.newPage();
    await signIn(page, 'ops@example.com', 'an operator password 012');
    assert.equal(new URL(page.url()).pathname, '/admin/mfa/enrol');
    const secret = (await page.locator('#totp-secret').textContent()).trim();
    await page.getByLabel('Code from the app').fill(totp(secret));
    await page.getByRole('button', { name: 'Confirm' }).click();
    await page.getByRole('link', { name: 'Continue to the console' }).click();
    assert.equal(new URL(page.url()).pathname, '/admin/tenants', 'the operator starts at the tenants');

    await page.getByRole('link', { name: 'Keys' }).click();
    await page.getByRole('heading', { name: 'Keys', exact: true }).waitFor();
    const current = async () => (await page.locator('#key-ring tr', { hasText: 'Current key-encryption key' }).locator('code').textContent()).trim();
    const before = await current();
    await assertNoAxeViolations(page, 'the keys page');
    await page.getByRole('button', { name: 'Rotate keys' }).click();
    const report = await page.locator('#rotation-report').textContent();
    assert.match(report, /Rotation done: \d+ data keys re-wrapped/);
    const now = await current();
    assert.notEqual(now, before, 'a new key-encryption key is current');
    assert.match(report, new RegExp(`Retired: ${before}`));
    await assertNoAxeViolations(page, 'the keys page with the rotation report');
    await shot(page, 'keys');

    await page.getByRole('link', { name: 'Tenants' }).click();
    await assertNoAxeViolations(page, 'the tenants page');
    await page.getByLabel('Name').fill('Globex');
    await page.getByLabel("First owner's e-mail address").fill('boss@globex.example');
    await page.getByRole('button', { name: 'Create tenant' }).click();
    assert.match(await page.locator('#invitation-link').textContent(), /\/admin\/invitations\/accept\?token=ngi_/);
    await assertNoAxeViolations(page, 'the new tenant page');
    await page.getByRole('link', { name: 'Back to the tenants' }).click();
    assert.match(await page.locator('#tenants').textContent(), /Globex/);
    await shot(page, 'tenants');
    await page.close();
  });
});

describe('a phone-sized screen', () => {
  test('the main pages have no horizontal overflow at 390x844', async () => {
    const page = await ownerCtx.context.newPage();
    await page.setViewportSize({ width: 390, height: 844 });
    for (const where of ['/admin/', site.path, `${site.path}/edit`, `${site.path}/consents`, '/admin/audit', '/admin/users', '/admin/tokens']) {
      const res = await page.goto(url(where));
      assert.equal(res.status(), 200, where);
      await assertNoHorizontalOverflow(page, where);
    }
    await page.close();
  });
});

/** Runs SQL against the running server's SQLite database. */
function sql(statement) {
  const db = path.join(env.server.dataDir, 'nexaguard.db');
  const result = spawnSync('sqlite3', ['-cmd', '.timeout 5000', db, statement], { encoding: 'utf8' });
  assert.equal(result.status, 0, `sqlite3 failed: ${result.stderr}`);
  return result.stdout.trim();
}
