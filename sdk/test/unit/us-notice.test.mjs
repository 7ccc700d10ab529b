// The US notice and opt-out panel: the switches' starting positions, and
// that its strings come with config.json like the others (their English
// texts are built in on the server: crates/consent/src/ui_strings.rs).
import assert from "node:assert/strict";
import { test } from "node:test";
import { uiStrings, usAllowed } from "../.build/logic.mjs";

const US_KEYS = ["cancel", "allowed", "noticeTitle", "notice", "dns", "gpc", "sale", "targeted"];

test("switches show the opt-outs (on = allowed)", () => {
  const o = (sale, targeted, gpc = false) => ({ gpc, optedOut: { sale, targeted } });
  assert.equal(usAllowed(o(false, false), "sale"), true);
  assert.equal(usAllowed(o(false, false), "targeted"), true);
  assert.equal(usAllowed(o(true, false), "sale"), false);
  assert.equal(usAllowed(o(true, false), "targeted"), true);
  assert.equal(usAllowed(o(false, true), "sale"), true);
  assert.equal(usAllowed(o(false, true), "targeted"), false);
});

test("an honoured Global Privacy Control signal starts both switches opted out", () => {
  for (const sale of [false, true]) {
    for (const targeted of [false, true]) {
      const o = { gpc: true, optedOut: { sale, targeted } };
      assert.equal(usAllowed(o, "sale"), false);
      assert.equal(usAllowed(o, "targeted"), false);
    }
  }
});

test("the US strings come from the answer like the others", () => {
  const answer = Object.fromEntries(US_KEYS.map((k) => [k, `${k} text`]));
  const s = uiStrings(answer);
  for (const k of US_KEYS) assert.equal(s[k], `${k} text`, k);
});
