import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { BUILT_IN_LANGUAGES, configUrl, localized, primary, uiStrings } from "../.build/logic.mjs";

// The built-in strings themselves live on the server and are tested there
// (crates/consent/src/ui_strings.rs); the SDK takes them from config.json.

test("the SDK's list of built-in languages is the server's", () => {
  const rust = readFileSync(new URL("../../../crates/consent/src/ui_strings.rs", import.meta.url), "utf8");
  const list = rust.match(/pub const BUILT_IN_LANGUAGES: \[&str; \d+\] = \[([^\]]*)\]/);
  assert.ok(list, "BUILT_IN_LANGUAGES in ui_strings.rs");
  assert.deepEqual(BUILT_IN_LANGUAGES, [...list[1].matchAll(/"([^"]+)"/g)].map((m) => m[1]));
});

test("the answer's strings are used as the server finished them", () => {
  const s = uiStrings({ title: "Titel", description: "Text", acceptAll: "Ja", close: "Schließen", retention: "Speicherdauer: {n} Tage" });
  assert.equal(s.title, "Titel");
  assert.equal(s.description, "Text");
  assert.equal(s.acceptAll, "Ja");
  assert.equal(s.close, "Schließen");
  assert.equal(s.retention, "Speicherdauer: {n} Tage");
});

test("localized texts: exact, primary subtag, default language, English", () => {
  const name = { en: "Analytics", de: "Statistik", "pt-br": "Análise" };
  assert.equal(localized(name, "de", "en"), "Statistik");
  assert.equal(localized(name, "de-CH", "en"), "Statistik");
  assert.equal(localized(name, "pt-BR", "en"), "Análise");
  assert.equal(localized(name, "fr", "de"), "Statistik");
  assert.equal(localized(name, "fr", "xx"), "Analytics");
  assert.equal(localized(undefined, "en", "en"), "");
  assert.equal(primary("pt_BR"), "pt");
});

test("config.json URL asks for the browser's first language", () => {
  assert.equal(
    configUrl("https://cmp.example", "ngp_1", { languages: ["de-AT", "en"] }),
    "https://cmp.example/v1/sites/ngp_1/config.json?lang=de-at",
  );
  assert.equal(configUrl("https://cmp.example", "ngp_1", { language: "FR" }), "https://cmp.example/v1/sites/ngp_1/config.json?lang=fr");
  assert.equal(configUrl("https://cmp.example", "a b", {}), "https://cmp.example/v1/sites/a%20b/config.json");
});
