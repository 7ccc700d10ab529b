// The admin console with the keyboard alone: the skip link comes first and
// moves focus to the content, every control of sign-in and enrolment is
// reached with Tab and used with typing and Enter, and the focused control
// is always visibly marked.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { demoOwner, newContext, setup } from './lib/harness.mjs';
import { totp } from './lib/totp.mjs';

let env;
let owner;

before(async () => {
  env = await setup();
  owner = demoOwner(env.server);
});

after(async () => {
  await env?.close();
});

/** What has focus: tag, type, label text or accessible name, and whether an outline shows. */
function focused(page) {
  return page.evaluate(() => {
    const el = document.activeElement;
    if (!el || el === document.body) return null;
    const style = getComputedStyle(el);
    const label = el.labels?.[0]?.textContent?.trim() ?? '';
    return {
      tag: el.tagName.toLowerCase(),
      type: el.getAttribute('type') ?? '',
      id: el.id,
      name: label || el.getAttribute('aria-label') || el.textContent.trim(),
      outlined: style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0,
    };
  });
}

/** Presses Tab until `wanted(focus)` holds; fails after `limit` presses. */
async function tabTo(page, wanted, what, limit = 25) {
  for (let i = 0; i < limit; i += 1) {
    await page.keyboard.press('Tab');
    const focus = await focused(page);
    if (focus && wanted(focus)) {
      assert.ok(focus.outlined, `${what} has focus but no visible focus outline: ${JSON.stringify(focus)}`);
      return focus;
    }
  }
  throw new Error(`${what} was not reached with ${limit} presses of Tab`);
}

test('sign-in and TOTP enrolment with the keyboard alone', async () => {
  const ctx = await newContext(env.browser, env.server);
  try {
    const page = await ctx.context.newPage();
    await page.goto(`${env.server.origin}/admin/login`);

    // The first Tab reaches the skip link, and Enter on it moves focus to
    // the main content.
    await page.keyboard.press('Tab');
    const first = await focused(page);
    assert.equal(first?.name, 'Skip to content', JSON.stringify(first));
    assert.ok(first.outlined, 'the skip link shows its focus');
    await page.keyboard.press('Enter');
    assert.equal(new URL(page.url()).hash, '#main');

    await tabTo(page, (f) => f.tag === 'input' && /e-mail/i.test(f.name), 'the e-mail field');
    await page.keyboard.type(owner.email);
    await tabTo(page, (f) => f.tag === 'input' && f.type === 'password', 'the password field');
    await page.keyboard.type(owner.password);
    await Promise.all([page.waitForURL(/\/admin\/mfa\/enrol/), page.keyboard.press('Enter')]);

    const secret = (await page.locator('#totp-secret').textContent()).trim();
    await tabTo(page, (f) => f.tag === 'input' && /code/i.test(f.name), 'the code field');
    await page.keyboard.type(totp(secret));
    await page.keyboard.press('Enter');
    await page.locator('#recovery-codes li').first().waitFor();
    await tabTo(page, (f) => f.tag === 'a' && /continue to the console/i.test(f.name), 'the link to the console');
    await Promise.all([page.waitForURL(/\/admin\/$/), page.keyboard.press('Enter')]);
    await page.getByRole('heading', { name: 'Sites' }).waitFor();
  } finally {
    await ctx.context.close();
  }
});
