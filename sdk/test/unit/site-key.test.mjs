import assert from "node:assert/strict";
import { test } from "node:test";
import { siteKeyOfSrc } from "../.build/logic.mjs";

// A script injected by Google Tag Manager cannot carry data-site-key, so
// the SDK also reads the key from its own URL (integrations/gtm/).

test("the site key is read from the SDK URL's siteKey parameter, wherever it stands", () => {
  assert.equal(siteKeyOfSrc("https://cmp.example/sdk/v1/nexaguard.js?siteKey=ngp_abc"), "ngp_abc");
  assert.equal(siteKeyOfSrc("https://cmp.example/sdk/v1/nexaguard.js?v=1&siteKey=ngs_x1&y=2"), "ngs_x1");
  assert.equal(siteKeyOfSrc("https://cmp.example/sdk/v1/nexaguard.js?siteKey=a%2Fb#frag"), "a/b");
});

test("a URL without the parameter, or with a broken escape, gives no key", () => {
  assert.equal(siteKeyOfSrc("https://cmp.example/sdk/v1/nexaguard.js"), "");
  assert.equal(siteKeyOfSrc("https://cmp.example/sdk/v1/nexaguard.js?mysiteKey=ngp_abc"), "");
  assert.equal(siteKeyOfSrc("https://cmp.example/sdk/v1/nexaguard.js?siteKey=%E0%A4%A"), "");
  assert.equal(siteKeyOfSrc(""), "");
});
