// The pure parts of the regional experiences: the region URL, and the
// Consent Mode values and categories of an opt-out (US) region.
import { test } from "node:test";
import assert from "node:assert/strict";
import { regionQuery, regionUrl, usCategories, usConsentMode } from "../.build/logic.mjs";

const BASE = "https://cmp.example";

test("the region URL carries a staging page's override before the region the site declared", () => {
  const url = (declared, search) => regionUrl(BASE, "ngs_k", regionQuery(declared, search));
  assert.equal(url(undefined, ""), BASE + "/v1/sites/ngs_k/region");
  assert.equal(url("US-CA", ""), BASE + "/v1/sites/ngs_k/region?region=US-CA");
  assert.equal(url("US-CA", "?a=1&nexaguard_region=fr#x"), BASE + "/v1/sites/ngs_k/region?nexaguard_region=fr");
  assert.equal(url(undefined, "?xnexaguard_region=fr"), BASE + "/v1/sites/ngs_k/region");
});

test("an opt-out denies ad_user_data and ad_personalization and keeps the region's other defaults", () => {
  const defaults = { ad_storage: "granted", analytics_storage: "denied" };
  const none = usConsentMode(defaults, { sale: false, targeted: false });
  assert.equal(none.ad_user_data, "granted");
  assert.equal(none.ad_personalization, "granted");
  assert.equal(none.analytics_storage, "denied");
  for (const o of [{ sale: true, targeted: false }, { sale: false, targeted: true }]) {
    const out = usConsentMode(defaults, o);
    assert.equal(out.ad_user_data, "denied");
    assert.equal(out.ad_personalization, "denied");
    assert.equal(out.ad_storage, "granted");
    assert.equal(out.security_storage, "granted");
  }
});

test("an opt-out withholds the categories mapped to advertising and keeps the others", () => {
  const cm = { enabled: true, mapping: { ad_user_data: { customPurposes: ["ads"] }, ad_personalization: { customPurposes: ["ads", "retargeting"] } } };
  const ids = ["necessary", "analytics", "ads", "retargeting"];
  assert.deepEqual(usCategories(cm, ids, { sale: false, targeted: false }), ids);
  assert.deepEqual(usCategories(cm, ids, { sale: true, targeted: false }), ["necessary", "analytics"]);
  assert.deepEqual(usCategories(undefined, ids, { sale: false, targeted: true }), ids);
});
