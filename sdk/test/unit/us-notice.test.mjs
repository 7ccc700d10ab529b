// The US notice and opt-out panel: the switches' starting positions and the
// strings (English built in, overridable per language like the others).
import assert from "node:assert/strict";
import { test } from "node:test";
import { BUILT_IN_LANGUAGES, uiStrings, usAllowed } from "../.build/logic.mjs";

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

test("the US strings are built in in English, for every language", () => {
  const en = uiStrings("en");
  assert.equal(en.dns, "Do not sell or share my personal information");
  assert.equal(en.sale, "Sale and sharing of my personal information");
  assert.equal(en.targeted, "Targeted advertising");
  assert.match(en.gpc, /^Your browser's Global Privacy Control signal was honoured: /);
  for (const lang of BUILT_IN_LANGUAGES.concat(["ja", ""])) {
    const s = uiStrings(lang);
    for (const k of US_KEYS) assert.equal(s[k], en[k], `${lang}.${k}`);
  }
  // The strings before them stay translated.
  assert.equal(uiStrings("de").close, "Schließen");
  assert.equal(uiStrings("de").reopen, "Datenschutz-Einstellungen");
});

test("configured texts override the US strings, then the default language's", () => {
  const base = { title: "T", description: "D", acceptAll: "A", rejectAll: "R", manage: "M", save: "S" };
  const s = uiStrings("es", { ...base, dns: "No vender ni compartir mi información personal", notice: "Aviso" }, { ...base, gpc: "GPC (en)" });
  assert.equal(s.dns, "No vender ni compartir mi información personal");
  assert.equal(s.notice, "Aviso");
  assert.equal(s.gpc, "GPC (en)");
  assert.equal(s.sale, "Sale and sharing of my personal information");
  assert.equal(s.close, "Cerrar");
});
