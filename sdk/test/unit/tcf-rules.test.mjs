import assert from "node:assert/strict";
import { test } from "node:test";
import {
  acceptAllChoice,
  isWithdrawal,
  liPurposes,
  pickStacks,
  rejectAllChoice,
  sanitizeChoice,
  siteVendors,
} from "../.build/logic.mjs";
import { demoConfig, optInConfig, vendorList } from "./helpers.mjs";

test("legitimate interest only for purposes that allow it and that some vendor declares so", () => {
  const li = liPurposes(demoConfig, siteVendors(demoConfig, vendorList));
  assert.deepEqual(li, [2, 7, 8, 9, 10]);
  for (const p of [1, 3, 4, 5, 6]) assert.equal(li.includes(p), false);
});

test("accept all: every consent the vendors can carry, every allowed legitimate interest", () => {
  const c = acceptAllChoice(demoConfig, vendorList);
  assert.deepEqual(c.purposes, [1, 2, 3, 4, 7, 8, 9, 10]);
  assert.deepEqual(c.li, [2, 7, 8, 9, 10]);
  assert.deepEqual(c.specialFeatures, [1, 2]);
  // Vendors 3 and 6 declare no consent purpose, flexible purpose or special feature.
  assert.deepEqual(c.vendors, [1, 2, 5]);
  // Vendor 5 declares no legitimate interest, flexible or special purpose.
  assert.deepEqual(c.vendorLi, [1, 2, 3, 6]);
  assert.deepEqual(c.categories, ["necessary"]);
});

test("reject all: nothing but necessary categories", () => {
  assert.deepEqual(rejectAllChoice(demoConfig), {
    purposes: [],
    li: [],
    specialFeatures: [],
    vendors: [],
    vendorLi: [],
    categories: ["necessary"],
  });
  assert.deepEqual(rejectAllChoice(optInConfig).categories, ["necessary"]);
});

test("custom choices are cut to what the site asks and the policy allows", () => {
  const c = sanitizeChoice(
    { purposes: [1, 5, 7, 7], li: [1, 3, 7], specialFeatures: [2, 3], vendors: [3, 6, 1, 99], vendorLi: [5, 2], categories: ["x"] },
    demoConfig,
    vendorList,
  );
  assert.deepEqual(c, { purposes: [1, 7], li: [7], specialFeatures: [2], vendors: [1], vendorLi: [2], categories: ["necessary"] });
});

test("a choice that only takes back is a withdrawal", () => {
  const all = acceptAllChoice(demoConfig, vendorList);
  const none = rejectAllChoice(demoConfig);
  assert.equal(isWithdrawal(all, none), true);
  assert.equal(isWithdrawal(none, all), false);
  assert.equal(isWithdrawal(all, all), false);
  assert.equal(isWithdrawal(none, { ...none, purposes: [1] }), false);
});

test("stacks: fully covered by the site's purposes, largest first, not overlapping", () => {
  const ids = pickStacks(demoConfig, vendorList);
  const used = ids.flatMap((id) => vendorList.stacks[id].purposes);
  assert.equal(new Set(used).size, used.length);
  for (const id of ids) for (const p of vendorList.stacks[id].purposes) assert.ok(demoConfig.purposes.includes(p));
  assert.deepEqual(pickStacks(optInConfig, undefined), []);
});
