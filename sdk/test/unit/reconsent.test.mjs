import assert from "node:assert/strict";
import { test } from "node:test";
import { decodeStored, encodeStored, reconsentReason } from "../.build/logic.mjs";
import { demoConfig, optInConfig } from "./helpers.mjs";

const DAY = 86400000;
const now = Date.UTC(2026, 10, 24);
const stored = (over = {}) => ({
  v: 1,
  cv: 1,
  ts: now - DAY,
  c: ["necessary"],
  p: [1, 2, 3, 4, 7, 8, 9, 10],
  f: [1, 2],
  q: ["necessary"],
  w: [],
  ...over,
});

test("a fresh choice on the same configuration holds", () => {
  assert.equal(reconsentReason(stored(), demoConfig, 1, [1, 2, 3, 5, 6], now), null);
});

test("older than the consent lifetime", () => {
  assert.equal(reconsentReason(stored({ ts: now - 391 * DAY }), demoConfig, 1, [1, 2, 3, 5, 6], now), "lifetime");
  assert.equal(reconsentReason(stored({ ts: now - 389 * DAY }), demoConfig, 1, [1, 2, 3, 5, 6], now), null);
  const short = { ...demoConfig, consentLifetimeDays: 30 };
  assert.equal(reconsentReason(stored({ ts: now - 31 * DAY }), short, 1, [1, 2, 3, 5, 6], now), "lifetime");
});

test("a vendor not disclosed at the time of the choice (onNewVendors)", () => {
  assert.equal(reconsentReason(stored(), demoConfig, 2, [1, 2, 3, 5], now), "new_vendors");
  const off = { ...demoConfig, reconsent: { onPurposeChange: true } };
  assert.equal(reconsentReason(stored(), off, 2, [1, 2, 3, 5], now), null);
});

test("a changed purpose set (onPurposeChange)", () => {
  assert.equal(reconsentReason(stored({ p: [1, 2] }), demoConfig, 2, [1, 2, 3, 5, 6], now), "purpose_change");
  assert.equal(reconsentReason(stored({ f: [1] }), demoConfig, 2, [1, 2, 3, 5, 6], now), "purpose_change");
  const opt = { ...optInConfig, reconsent: { onPurposeChange: true } };
  const ids = optInConfig.customPurposes.map((p) => p.id);
  assert.equal(reconsentReason(stored({ p: [], f: [], q: ids }), opt, 1, null, now), null);
  assert.equal(reconsentReason(stored({ p: [], f: [], q: ids.slice(1) }), opt, 1, null, now), "purpose_change");
});

test("minConfigVersion: choices made on an older version", () => {
  const cfg = { ...demoConfig, reconsent: { minConfigVersion: 3 } };
  assert.equal(reconsentReason(stored({ cv: 2 }), cfg, 3, [1, 2, 3, 5, 6], now), "min_config_version");
  assert.equal(reconsentReason(stored({ cv: 3 }), cfg, 4, [1, 2, 3, 5, 6], now), null);
  // A minimum above the served version cannot be met: no endless asking.
  assert.equal(reconsentReason(stored({ cv: 2 }), cfg, 2, [1, 2, 3, 5, 6], now), null);
});

test("the nexaguard_consent cookie value round-trips and rejects garbage", () => {
  const s = stored({ c: ["necessary", "analytics"], w: ["demo-analytics"] });
  const v = encodeStored(s);
  assert.match(v, /^[A-Za-z0-9_-]+$/);
  assert.deepEqual(decodeStored(v), s);
  assert.equal(decodeStored(undefined), null);
  assert.equal(decodeStored("not base64!"), null);
  assert.equal(decodeStored(encodeStored({ ...s, v: 2 })), null);
});
