import assert from "node:assert/strict";
import { test } from "node:test";
import { backoff, requiredCategories } from "../.build/logic.mjs";

test("retries back off exponentially, or as long as Retry-After says", () => {
  assert.deepEqual([1, 2, 3, 4].map((t) => backoff(t)), [1000, 2000, 4000, 8000]);
  assert.equal(backoff(1, 30), 30000);
  assert.equal(backoff(4, 1), 8000);
});

test("blocked scripts name one or more categories", () => {
  assert.deepEqual(requiredCategories("analytics"), ["analytics"]);
  assert.deepEqual(requiredCategories(" analytics, marketing 1 "), ["analytics", "marketing", "1"]);
  assert.deepEqual(requiredCategories(null), []);
});
