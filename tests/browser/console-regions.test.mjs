// The regional rules in the console's configuration editor, in Chromium
// against the real server: the demo owner signs in with TOTP (enrolled in
// the page, codes computed here) and opens the demo site's editor; the
// region preview shows a visitor from Japan getting the site's regulation,
// a rule for Japan added in the form changes that preview before anything
// is saved, Enter in the preview field previews rather than saves, and
// Save draft keeps the rule. A rule after `everywhere` gets its finding
// next to it and is not saved. axe-core is clean on the editor with rules,
// a preview and a finding. The screenshot goes to SCREENSHOTS (harness.mjs):
// docs/images/console-regions.png for docs/regions.md when regenerated.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { SCREENSHOTS, demoOwner, newContext, setup } from './lib/harness.mjs';
import { assertNoAxeViolations } from './lib/console-checks.mjs';
import { Authenticator } from './lib/totp.mjs';


let env;
let ctx;
/** The demo site's editor path. */
let editPath;

before(async () => {
  env = await setup();
});

after(async () => {
  await ctx?.context.close();
  await env?.close();
});

const url = (p) => `${env.server.origin}${p}`;

/** The saved draft of the demo site, through the admin API with the page's session. */
async function savedDraft(page) {
  const site = editPath.split('/')[3];
  const res = await page.request.get(url(`/admin/api/v1/sites/${site}/draft`));
  assert.equal(res.status(), 200, await res.text());
  return res.json();
}

describe('regional rules in the editor', () => {
  test('the demo owner signs in with TOTP and opens the demo site\'s editor', async () => {
    const owner = demoOwner(env.server);
    ctx = await newContext(env.browser, env.server);
    const page = await ctx.context.newPage();
    await page.goto(url('/admin/login'));
    await page.getByLabel('E-mail address').fill(owner.email);
    await page.getByLabel('Password').fill(owner.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(/\/admin\/mfa\/enrol/);
    const app = new Authenticator((await page.locator('#totp-secret').textContent()).trim());
    await page.getByLabel('Code from the app').fill(await app.code());
    await page.getByRole('button', { name: 'Confirm' }).click();
    await page.getByRole('link', { name: 'Continue to the console' }).click();
    await page.locator('ul.sites a').first().click();
    await page.getByRole('link', { name: 'Edit configuration' }).click();
    await page.getByRole('heading', { name: /^Edit / }).waitFor();
    editPath = new URL(page.url()).pathname;
    assert.match(editPath, /^\/admin\/sites\/[0-9a-f-]{36}\/edit$/);
    await page.locator('#no-rules').waitFor();
    await page.close();
  });

  test('a rule added in the form changes the preview of that region before saving, and Save draft keeps it', async () => {
    const page = await ctx.context.newPage();
    await page.goto(url(editPath));
    const before = await savedDraft(page);
    assert.equal(before.config.regions, undefined, 'the demo site starts without rules');

    await page.getByLabel('Preview as visitor from (region code)').fill('jp');
    await page.getByRole('button', { name: 'Preview region' }).click();
    assert.match(await page.locator('#preview-rule').textContent(), /No rule matches: the site's regulation \(tcf\) applies/);
    assert.match(await page.locator('#preview-experience').textContent(), /^tcf:/);
    assert.equal((await page.locator('#preview-gdpr').textContent()).trim(), 'true');

    await page.getByLabel('New rule: regions').fill('JP');
    await page.getByLabel('New rule: experience').selectOption('none');
    await page.getByRole('button', { name: 'Add the rule' }).click();
    await page.locator('#unsaved').waitFor();
    assert.match(await page.locator('#unsaved').textContent(), /Rule added\. Not saved yet/);
    assert.equal(await page.getByLabel('Rule 1: regions').inputValue(), 'JP');
    assert.equal((await page.locator('#preview-rule').textContent()).trim(), 'Rule 1: JP', 'the preview follows the form');
    assert.match(await page.locator('#preview-experience').textContent(), /^none:/);
    assert.equal((await page.locator('#preview-gdpr').textContent()).trim(), 'false');
    assert.equal((await page.locator('#preview-gpp').textContent()).trim(), 'none');
    assert.deepEqual(await savedDraft(page), before, 'adding a rule saves nothing');

    // A US rule with the state sections; the GPP choice shows only for us.
    await page.getByLabel('New rule: regions').fill('us_comprehensive');
    const gpp = page.getByLabel('New rule: GPP sections (us only)');
    assert.equal(await gpp.isVisible(), false, 'the GPP sections are hidden for another experience');
    await page.getByLabel('New rule: experience').selectOption('us');
    await gpp.selectOption('state');
    await page.getByRole('button', { name: 'Add the rule' }).click();
    await page.locator('#unsaved').waitFor();
    // Enter in the preview field previews (console.js), it does not save.
    await page.getByLabel('Preview as visitor from (region code)').fill('US-CA');
    await page.getByLabel('Preview as visitor from (region code)').press('Enter');
    await page.locator('#preview-rule', { hasText: 'Rule 2: us_comprehensive' }).waitFor();
    assert.equal((await page.locator('#preview-gpp').textContent()).trim(), '8 (usca)');
    assert.deepEqual(await savedDraft(page), before, 'previewing saves nothing');
    await assertNoAxeViolations(page, 'the editor with regional rules and a preview');
    await page.locator('#f-regions').screenshot({ path: path.join(SCREENSHOTS, 'console-regions.png') });

    await page.getByRole('button', { name: 'Save draft' }).click();
    await page.getByText('Draft saved.').waitFor();
    assert.equal(await page.getByLabel('Rule 1: regions').inputValue(), 'JP');
    assert.equal((await page.locator('#preview-rule').textContent()).trim(), 'Rule 2: us_comprehensive', 'the preview keeps its region');
    const saved = await savedDraft(page);
    assert.deepEqual(saved.config.regions, [
      { match: ['JP'], experience: { kind: 'none' } },
      { match: ['us_comprehensive'], experience: { kind: 'us', gppSections: 'state', honourGpc: true } },
    ]);
    assert.equal(saved.config.cmpId, before.config.cmpId, 'the rest of the draft is kept');
    await page.close();
  });

  test('a rule after everywhere gets its finding next to it and nothing is saved', async () => {
    const page = await ctx.context.newPage();
    await page.goto(url(editPath));
    const before = await savedDraft(page);
    await page.getByLabel('New rule: regions').fill('everywhere');
    await page.getByLabel('New rule: experience').selectOption('notice_only');
    await page.getByRole('button', { name: 'Add the rule' }).click();
    await page.locator('#unsaved').waitFor();
    await page.getByRole('button', { name: 'Move rule 3 up' }).click();
    assert.equal(await page.getByLabel('Rule 2: regions').inputValue(), 'everywhere');
    const finding = page.locator('#f-regions-2-error');
    assert.match(await finding.textContent(), /comes after regions\[1\], which matches everywhere/);
    const [answer] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'POST'),
      page.getByRole('button', { name: 'Save draft' }).click(),
    ]);
    assert.equal(answer.status(), 422);
    assert.match(await page.locator('#not-saved').textContent(), /Nothing was saved/);
    assert.match(await page.locator('#f-regions-2-error').textContent(), /can never apply/);
    assert.equal(await page.locator('#f-regions-2').getAttribute('aria-describedby'), 'f-regions-2-error');
    await assertNoAxeViolations(page, 'the editor with a refused rule');
    assert.deepEqual(await savedDraft(page), before, 'nothing was saved');
    await page.close();
  });
});
