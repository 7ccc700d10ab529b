// Built-in UI strings and language choice. The site's configured texts
// (title, description, button labels) override the built-in ones.

import type { LocalizedText, Texts } from "./types";

const KEYS = [
  "acceptAll",
  "rejectAll",
  "manage",
  "save",
  "close",
  "purposes",
  "specialPurposes",
  "features",
  "specialFeatures",
  "stacks",
  "vendors",
  "consent",
  "li",
  "retention",
  "privacy",
  "always",
  "categories",
  "reopen",
  // The US notice and opt-out panel: English in every language unless configured.
  "cancel",
  "allowed",
  "noticeTitle",
  "notice",
  "dns",
  "gpc",
  "sale",
  "targeted",
] as const;

export type StringKey = (typeof KEYS)[number];
/** The built-in strings, and the banner's title and description (always configured). */
export type Strings = Record<StringKey | "title" | "description", string>;

// One "|"-separated row per language, in KEYS order ({n} is a number); a
// row that stops early takes English for the keys after its end.
const ROWS: Record<string, string> = {
  en: "Accept all|Reject all|Settings|Save choices|Close|Purposes|Special purposes|Features|Special features|Purpose groups|Vendors|Consent|Legitimate interest|Retention: {n} days|Privacy policy|Always active|Categories|Privacy settings|Cancel|Allowed|Privacy notice|We and our partners use cookies and similar technologies to run this site, measure its use and personalise content and advertising.|Do not sell or share my personal information|Your browser's Global Privacy Control signal was honoured: we do not sell or share your personal information or use it for targeted advertising.|Sale and sharing of my personal information|Targeted advertising",
  de: "Alle akzeptieren|Alle ablehnen|Einstellungen|Auswahl speichern|Schließen|Zwecke|Besondere Zwecke|Funktionen|Besondere Funktionen|Zweckgruppen|Anbieter|Einwilligung|Berechtigtes Interesse|Speicherdauer: {n} Tage|Datenschutzerklärung|Immer aktiv|Kategorien|Datenschutz-Einstellungen",
  fr: "Tout accepter|Tout refuser|Paramètres|Enregistrer mes choix|Fermer|Finalités|Finalités spéciales|Fonctionnalités|Fonctionnalités spéciales|Groupes de finalités|Partenaires|Consentement|Intérêt légitime|Durée de conservation : {n} jours|Politique de confidentialité|Toujours actif|Catégories|Paramètres de confidentialité",
  es: "Aceptar todo|Rechazar todo|Configuración|Guardar selección|Cerrar|Finalidades|Finalidades especiales|Características|Características especiales|Grupos de finalidades|Proveedores|Consentimiento|Interés legítimo|Conservación: {n} días|Política de privacidad|Siempre activo|Categorías|Configuración de privacidad",
  it: "Accetta tutto|Rifiuta tutto|Impostazioni|Salva le scelte|Chiudi|Finalità|Finalità speciali|Funzionalità|Funzionalità speciali|Gruppi di finalità|Fornitori|Consenso|Legittimo interesse|Conservazione: {n} giorni|Informativa sulla privacy|Sempre attivo|Categorie|Impostazioni privacy",
  nl: "Alles accepteren|Alles weigeren|Instellingen|Keuzes opslaan|Sluiten|Doeleinden|Speciale doeleinden|Functies|Speciale functies|Groepen van doeleinden|Leveranciers|Toestemming|Gerechtvaardigd belang|Bewaartermijn: {n} dagen|Privacybeleid|Altijd actief|Categorieën|Privacy-instellingen",
  pl: "Zaakceptuj wszystko|Odrzuć wszystko|Ustawienia|Zapisz wybór|Zamknij|Cele|Cele specjalne|Funkcje|Funkcje specjalne|Grupy celów|Dostawcy|Zgoda|Prawnie uzasadniony interes|Okres przechowywania: {n} dni|Polityka prywatności|Zawsze aktywne|Kategorie|Ustawienia prywatności",
  pt: "Aceitar tudo|Rejeitar tudo|Definições|Guardar escolhas|Fechar|Finalidades|Finalidades especiais|Funcionalidades|Funcionalidades especiais|Grupos de finalidades|Fornecedores|Consentimento|Interesse legítimo|Conservação: {n} dias|Política de privacidade|Sempre ativo|Categorias|Definições de privacidade",
};

/** The languages with built-in strings. */
export const BUILT_IN_LANGUAGES = Object.keys(ROWS);

/** The primary subtag of a language code, lowercase ("pt-BR" -> "pt"). */
export function primary(lang: string): string {
  return (lang || "").toLowerCase().split(/[-_]/)[0];
}

/**
 * The UI strings for `lang`: built in for the language (or English), with
 * the configured texts (`texts`, else `fallback`: the default language's)
 * taking precedence. Every configured language has a title and description.
 */
export function uiStrings(lang: string, texts?: Partial<Texts> | null, fallback?: Partial<Texts> | null): Strings {
  const en = ROWS.en.split("|");
  const row = (ROWS[primary(lang)] || ROWS.en).split("|");
  const t = (texts || {}) as Record<string, unknown>;
  const f = (fallback || {}) as Record<string, unknown>;
  const pick = (k: string, builtIn: string) => String(t[k] || f[k] || builtIn);
  const out = { title: pick("title", ""), description: pick("description", "") } as Strings;
  KEYS.forEach((k, i) => (out[k] = pick(k, row[i] || en[i])));
  return out;
}

/** The best text of a per-language map: exact, primary subtag, fallback language, English, any. */
export function localized(map: LocalizedText | undefined, lang: string, fallback: string): string {
  if (!map) return "";
  const l = lang.toLowerCase();
  return map[l] || map[primary(l)] || map[fallback] || map.en || map[Object.keys(map)[0]] || "";
}

/** Replaces {n} in a string. */
export function fill(s: string, n: number | string): string {
  return s.replace("{n}", String(n));
}
