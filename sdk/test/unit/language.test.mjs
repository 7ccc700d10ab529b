import assert from "node:assert/strict";
import { test } from "node:test";
import { BUILT_IN_LANGUAGES, configUrl, localized, primary, uiStrings } from "../.build/logic.mjs";

test("eight languages ship built in, each with every string", () => {
  assert.deepEqual(BUILT_IN_LANGUAGES.sort(), ["de", "en", "es", "fr", "it", "nl", "pl", "pt"]);
  const keys = Object.keys(uiStrings("en"));
  for (const lang of BUILT_IN_LANGUAGES) {
    const s = uiStrings(lang);
    for (const k of keys) if (k !== "title" && k !== "description") assert.ok(s[k], `${lang}.${k}`);
    assert.match(s.retention, /\{n\}/);
  }
});

test("built-in strings by primary subtag, English otherwise", () => {
  assert.equal(uiStrings("de-AT").li, "Berechtigtes Interesse");
  assert.equal(uiStrings("pt-BR").acceptAll, "Aceitar tudo");
  assert.equal(uiStrings("ja").acceptAll, "Accept all");
});

test("configured texts override the built-in ones, then the default language's", () => {
  const s = uiStrings("de", { title: "Titel", description: "Text", acceptAll: "Ja", rejectAll: "Nein", manage: "Mehr", save: "OK" });
  assert.equal(s.acceptAll, "Ja");
  assert.equal(s.title, "Titel");
  assert.equal(s.close, "Schließen");
  const f = uiStrings("fr", null, { title: "Fallback", description: "D", acceptAll: "A", rejectAll: "R", manage: "M", save: "S" });
  assert.equal(f.title, "Fallback");
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
