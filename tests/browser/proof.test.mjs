// Proof of consent: every choice is posted to /v1/consents; a failed post
// is retried with the same eventId and body without holding up the UI, and
// one that could not be delivered before a reload is delivered after it.
// Later choices carry the consentToken of the first receipt.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { definePage, openPage, poll, setup, withContext } from './lib/harness.mjs';
import {
  banner, bannerButton, consentToken, cookie, pageErrors, prefs, prefsButton, reopenButton,
  sdkReady, storedConsent,
} from './lib/sdk.mjs';

let env;
let key;

before(async () => {
  env = await setup();
  key = await env.server.demoKey();
});

after(async () => {
  await env?.close();
});

/**
 * Routes the context's POST /v1/consents: `plan[i]` decides the i-th post
 * of a choice ('fail' = HTTP 503, 'drop' = network error, else passed to
 * the server). Returns the posted choices; `posts.impressions` holds the
 * impressions (the banner was shown), which always pass.
 */
async function interceptPosts(ctx, plan) {
  const posts = [];
  posts.impressions = [];
  await ctx.context.route(`${ctx.server.origin}/v1/consents`, async (route) => {
    const req = route.request();
    if (req.method() !== 'POST') return route.continue();
    const body = req.postData();
    const event = JSON.parse(body);
    if (event.kind === 'impression') {
      posts.impressions.push(event);
      return route.continue();
    }
    const what = plan[posts.length] ?? 'pass';
    posts.push({ body, event, what });
    if (what === 'fail') {
      return route.fulfill({
        status: 503, contentType: 'application/json', body: '{"error":{"code":"unavailable","message":"test"}}',
      });
    }
    if (what === 'drop') return route.abort('connectionfailed');
    return route.continue();
  });
  return posts;
}

test('a failed consent post is retried with the same eventId and body; the UI does not wait', async () => {
  const { server, browser } = env;
  await withContext(browser, server, async (ctx) => {
    const posts = await interceptPosts(ctx, ['fail']);
    const url = await definePage(ctx, { key, name: 'retry' });
    const page = await openPage(ctx, url);
    await banner(page).waitFor({ state: 'visible' });
    await bannerButton(page, 'accept-all').click();
    await banner(page).waitFor({ state: 'hidden' });
    assert.ok(posts.length <= 1, `the banner closed without waiting for the post's retry (${posts.length} posts already)`);
    assert.ok(await page.evaluate(() => window.NexaGuard.hasConsent(1)), 'the choice applies before any receipt');

    const token = await consentToken(page);
    assert.ok(posts.length >= 2, `the post was retried (${posts.length} posts)`);
    assert.equal(posts[0].what, 'fail');
    assert.equal(posts[1].body, posts[0].body, 'the retry sends the same body');
    const stored = await storedConsent(server, token, key);
    assert.equal(stored.event.eventId, posts[0].event.eventId, 'the stored event has the first eventId');
    assert.equal(stored.event.action, 'accept_all');
    assert.equal(posts.impressions.length, 1, 'one impression: the banner was shown once');
    assert.equal(stored.event.impressionId, posts.impressions[0].eventId, 'the choice names the impression of the banner it answered');
    assert.equal(posts.impressions[0].noticeVersion, stored.event.noticeVersion, 'shown and chosen under the same notice version');
    assert.equal(pageErrors(ctx), null);
  });
});

test('a consent post that could not be delivered is delivered after a reload', async () => {
  const { server, browser } = env;
  await withContext(browser, server, async (ctx) => {
    const posts = await interceptPosts(ctx, ['drop']);
    const url = await definePage(ctx, { key, name: 'pending' });
    const page = await openPage(ctx, url);
    await banner(page).waitFor({ state: 'visible' });
    await bannerButton(page, 'reject-all').click();
    await poll('a consent post after reject all', () => posts.length >= 1);
    await page.reload({ waitUntil: 'domcontentloaded' });
    await sdkReady(page);
    const token = await consentToken(page);
    const ids = new Set(posts.map((p) => p.event.eventId));
    assert.equal(ids.size, 1, `every post carries the one eventId: ${[...ids]}`);
    const stored = await storedConsent(server, token, key);
    assert.equal(stored.event.eventId, posts[0].event.eventId, 'the stored event is the undelivered one');
    assert.equal(stored.event.action, 'reject_all');
    assert.equal(pageErrors(ctx), null);
  });
});

test('a later choice is posted with the consentToken of the first receipt', async () => {
  const { server, browser } = env;
  await withContext(browser, server, async (ctx) => {
    const posts = await interceptPosts(ctx, []);
    const url = await definePage(ctx, { key, name: 'token-chain' });
    const page = await openPage(ctx, url);
    await banner(page).waitFor({ state: 'visible' });
    await bannerButton(page, 'accept-all').click();
    const token = await consentToken(page);
    assert.equal(posts[0].event.consentToken, undefined, 'the first post has no token');

    await reopenButton(page).click();
    await prefs(page).waitFor({ state: 'visible' });
    await prefsButton(page, 'reject-all').click();
    await prefs(page).waitFor({ state: 'hidden' });
    const latest = await poll('the second choice as the token\'s newest event', async () => {
      const s = await server.consentState(token, key);
      return posts[1] && s.event.eventId === posts[1].event.eventId ? s : null;
    });
    assert.equal(posts[1].event.consentToken, token, 'the second post carries the first receipt\'s token');
    assert.ok(['reject_all', 'withdraw'].includes(latest.event.action), `the second choice is recorded (${latest.event.action})`);
    assert.deepEqual(latest.event.purposes, [], 'with no purposes');
    assert.equal(await cookie(ctx.context, 'nexaguard_token'), token, 'the token cookie is unchanged');
    assert.equal(pageErrors(ctx), null);
  });
});
