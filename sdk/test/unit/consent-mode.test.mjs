import assert from "node:assert/strict";
import { test } from "node:test";
import { consentModeFor, hasConsentDefault } from "../.build/logic.mjs";
import { demoConfig, optInConfig } from "./helpers.mjs";

test("TCF mapping: a type is granted when every mapped purpose has consent", () => {
  const cm = consentModeFor(demoConfig.consentMode, [1, 7], ["necessary"]);
  assert.deepEqual(cm, {
    ad_storage: "granted",
    ad_user_data: "granted",
    ad_personalization: "denied",
    analytics_storage: "denied",
    functionality_storage: "granted",
    personalization_storage: "granted",
    security_storage: "granted",
  });
});

test("nothing granted: only types mapped to necessary purposes stay granted", () => {
  const cm = consentModeFor(demoConfig.consentMode, [], ["necessary"]);
  assert.equal(cm.security_storage, "granted");
  assert.equal(cm.functionality_storage, "granted");
  assert.equal(cm.ad_storage, "denied");
  assert.equal(cm.analytics_storage, "denied");
});

test("opt-in mapping uses custom purposes", () => {
  const cm = consentModeFor(optInConfig.consentMode, [], ["necessary", "analytics"]);
  assert.equal(cm.analytics_storage, "granted");
  assert.equal(cm.ad_storage, "denied");
  assert.equal(cm.personalization_storage, "denied");
  assert.equal(cm.security_storage, "granted");
});

test("unmapped and empty mappings are denied, all seven types present", () => {
  const cm = consentModeFor({ mapping: { ad_storage: { purposes: [], customPurposes: [] } } }, [1, 2, 3], ["x"]);
  assert.equal(Object.keys(cm).length, 7);
  assert.ok(Object.values(cm).every((v) => v === "denied"));
  assert.ok(Object.values(consentModeFor(undefined, [1], [])).every((v) => v === "denied"));
});

test("a consent default already in the dataLayer is detected", () => {
  function args() {
    return arguments;
  }
  assert.equal(hasConsentDefault([]), false);
  assert.equal(hasConsentDefault([{ event: "gtm.js" }, args("set", "x", 1)]), false);
  assert.equal(hasConsentDefault([args("consent", "default", {})]), true);
  assert.equal(hasConsentDefault(undefined), false);
});
