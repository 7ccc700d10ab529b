// Replacing the second factor in the console (issue 13): a signed-in
// owner's session alone never shows a new secret; the replacement form
// wants the password and a current code (or a recovery code) first, and
// confirming the new authenticator ends every other session of the user
// while the old factor and its recovery codes stop working. Codes are
// computed here from the secrets the pages show; axe-core on every page.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { newContext, setup } from './lib/harness.mjs';
import { assertNoAxeViolations } from './lib/console-checks.mjs';
import { Authenticator, totp } from './lib/totp.mjs';

const OWNER = { email: 'second-owner@example.com', password: 'an owner password 678' };

let env;

before(async () => {
  env = await setup();
  process.env.NEXAGUARD_PASSWORD = OWNER.password;
  env.server.cli(['user', 'create', '--email', OWNER.email, '--role', 'owner', '--tenant', env.server.tenantId()]);
  delete process.env.NEXAGUARD_PASSWORD;
});

after(async () => {
  await env?.close();
});

const url = (p) => `${env.server.origin}${p}`;
const pathname = (page) => new URL(page.url()).pathname;

/** Signs in with the password on `page`; returns the page after the redirect. */
async function signIn(page) {
  await page.goto(url('/admin/login'));
  await page.getByLabel('E-mail address').fill(OWNER.email);
  await page.getByLabel('Password').fill(OWNER.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForLoadState('domcontentloaded');
}

/** Submits the second-factor page (`/admin/mfa`) with `code`; returns the POST's status. */
async function giveCode(page, code) {
  await page.getByLabel('Code', { exact: true }).fill(code);
  const [response] = await Promise.all([
    page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname === '/admin/mfa'),
    page.getByRole('button', { name: 'Continue' }).click(),
  ]);
  await page.waitForLoadState('domcontentloaded');
  return response.status();
}

/** Submits the replacement form (`/admin/mfa/replace`); returns the POST's status. */
async function replaceWith(page, password, code) {
  await page.locator('#replace-password').fill(password);
  await page.locator('#replace-code').fill(code);
  const [response] = await Promise.all([
    page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname === '/admin/mfa/replace'),
    page.getByRole('button', { name: 'Continue' }).click(),
  ]);
  await page.waitForLoadState('domcontentloaded');
  return response.status();
}

/** Asserts the page shows no TOTP secret, neither as text nor as a QR code. */
async function assertNoSecret(page, where) {
  assert.equal(await page.locator('#totp-secret').count(), 0, `${where}: no secret shown`);
  assert.equal(await page.locator('img.qr').count(), 0, `${where}: no QR code shown`);
}

test('replacing the second factor needs the password and a current code; confirming it signs out every other session', async () => {
  const mine = await newContext(env.browser, env.server);
  const other = await newContext(env.browser, env.server);
  try {
    // The owner's first sign-in: enrolment, ten recovery codes.
    const page = await mine.context.newPage();
    await signIn(page);
    assert.equal(pathname(page), '/admin/mfa/enrol');
    const oldApp = new Authenticator((await page.locator('#totp-secret').textContent()).trim());
    await page.getByLabel('Code from the app').fill(await oldApp.code());
    await page.getByRole('button', { name: 'Confirm' }).click();
    const oldRecovery = (await page.locator('#recovery-codes li').allTextContents()).map((c) => c.trim());
    assert.equal(oldRecovery.length, 10);

    // Another browser (another device, or one holding a stolen cookie)
    // signed in before the replacement.
    const elsewhere = await other.context.newPage();
    await signIn(elsewhere);
    assert.equal(pathname(elsewhere), '/admin/mfa');
    await assertNoAxeViolations(elsewhere, 'the second-factor page');
    assert.equal(await giveCode(elsewhere, await oldApp.code()), 303);
    assert.equal(pathname(elsewhere), '/admin/');

    // The signed-in session alone gets the replacement form, not a secret.
    const form = await page.goto(url('/admin/mfa/enrol'));
    assert.equal(form.status(), 200);
    await page.getByRole('heading', { name: 'Replace your second factor' }).waitFor();
    await assertNoSecret(page, 'the replacement form');
    await assertNoAxeViolations(page, 'the replacement form');

    // A wrong password, even with a valid recovery code: refused, no secret.
    assert.equal(await replaceWith(page, 'not the password at all', oldRecovery[0]), 401);
    assert.equal((await page.getByRole('alert').textContent()).trim(), 'Wrong password.');
    await assertNoSecret(page, 'after a wrong password');
    await assertNoAxeViolations(page, 'the replacement form with an error');
    // The right password with a code already used (one seen over a shoulder): refused.
    assert.equal(await replaceWith(page, OWNER.password, oldApp.usedCode()), 401);
    assert.match(await page.getByRole('alert').textContent(), /already used/);
    await assertNoSecret(page, 'after a replayed code');

    // The right password and a recovery code (the refused try above did
    // not spend it): the new secret to scan.
    assert.equal(await replaceWith(page, OWNER.password, oldRecovery[0]), 200);
    await page.getByRole('heading', { name: 'Set up your second factor' }).waitFor();
    assert.match(await page.locator('main').textContent(), /Until you confirm, your present factor stays/);
    assert.match(await page.locator('img.qr').getAttribute('src'), /^data:image\/svg\+xml;base64,/);
    const newApp = new Authenticator((await page.locator('#totp-secret').textContent()).trim());
    assert.notEqual(newApp.secret, oldApp.secret);
    await assertNoAxeViolations(page, 'the new secret offered for a replacement');
    // Not confirmed yet: the other session still works.
    await elsewhere.goto(url('/admin/'));
    assert.equal(pathname(elsewhere), '/admin/', 'before the confirmation the other session stays');

    await page.getByLabel('Code from the app').fill(await newApp.code());
    await page.getByRole('button', { name: 'Confirm' }).click();
    const newRecovery = (await page.locator('#recovery-codes li').allTextContents()).map((c) => c.trim());
    assert.equal(newRecovery.length, 10);
    assert.ok(newRecovery.every((c) => !oldRecovery.includes(c)), 'new recovery codes');
    await assertNoAxeViolations(page, 'the recovery codes after a replacement');
    await page.getByRole('link', { name: 'Continue to the console' }).click();
    await page.getByRole('heading', { name: 'Sites' }).waitFor();
    assert.equal(pathname(page), '/admin/', 'the session that replaced the factor stays signed in');

    // The other session has ended: its next navigation is the sign-in page.
    await elsewhere.goto(url('/admin/'));
    assert.equal(pathname(elsewhere), '/admin/login', 'the other session was ended by the replacement');

    // Signing in again there: the old factor and its recovery codes no
    // longer open the account, the new one does.
    await signIn(elsewhere);
    assert.equal(pathname(elsewhere), '/admin/mfa');
    assert.equal(await giveCode(elsewhere, totp(oldApp.secret)), 401, 'a current code of the old authenticator');
    assert.match(await elsewhere.getByRole('alert').textContent(), /not valid/);
    await assertNoAxeViolations(elsewhere, 'the second-factor page with an error');
    assert.equal(await giveCode(elsewhere, oldRecovery[1]), 401, 'a recovery code of the old factor');
    assert.equal(await giveCode(elsewhere, await newApp.code()), 303, 'a code of the new authenticator');
    assert.equal(pathname(elsewhere), '/admin/');
  } finally {
    await other.context.close();
    await mine.context.close();
  }
});
