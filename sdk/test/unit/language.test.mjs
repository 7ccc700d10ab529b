import assert from "node:assert/strict";
import { test } from "node:test";
import { configUrl, localized, pageLanguage, primary, uiStrings } from "../.build/logic.mjs";

// The built-in strings themselves live on the server and are tested there
// (crates/consent/src/ui_strings.rs and crates/consent/locales/); the SDK
// takes them from config.json, in the language the server picked.

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

test("config.json URL asks for the language given, lowercased", () => {
  assert.equal(configUrl("https://cmp.example", "ngp_1", "de-AT"), "https://cmp.example/v1/sites/ngp_1/config.json?lang=de-at");
  assert.equal(configUrl("https://cmp.example", "a b", ""), "https://cmp.example/v1/sites/a%20b/config.json");
  assert.equal(configUrl("https://cmp.example", "k", "x&y"), "https://cmp.example/v1/sites/k/config.json?lang=x%26y");
});

test("the language asked for is the page's <html lang>, then the browser's first", () => {
  const page = (lang) => ({ documentElement: { lang } });
  assert.equal(pageLanguage(page("fr-CA"), { languages: ["de-AT", "en"], language: "de-AT" }), "fr-CA");
  assert.equal(pageLanguage(page(""), { languages: ["de-AT", "en"] }), "de-AT");
  assert.equal(pageLanguage(page(""), { language: "it" }), "it");
  assert.equal(pageLanguage(page(""), {}), "");
});
