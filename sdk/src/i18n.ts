// UI strings and language choice. The strings themselves come finished with
// config.json (`strings`: built in on the server for the answer's language,
// the site's configured texts taking precedence), so the SDK carries no
// table of every language's texts: only the keys it shows.

import type { LocalizedText } from "./types";

/** The keys of the UI strings (crates/consent/src/ui_strings.rs gives every one). */
export type StringKey =
  | "acceptAll"
  | "rejectAll"
  | "manage"
  | "save"
  | "close"
  | "purposes"
  | "specialPurposes"
  | "features"
  | "specialFeatures"
  | "stacks"
  | "vendors"
  | "consent"
  | "li"
  | "retention"
  | "privacy"
  | "always"
  | "categories"
  | "reopen"
  | "cancel"
  | "allowed"
  | "noticeTitle"
  | "notice"
  | "dns"
  | "gpc"
  | "sale"
  | "targeted"
  | "language";

/** The UI strings, and the banner's title and description (always configured). */
export type Strings = Record<StringKey | "title" | "description", string>;

/** The primary subtag of a language code, lowercase ("pt-BR" -> "pt"). */
export function primary(lang: string): string {
  return (lang || "").toLowerCase().split(/[-_]/)[0];
}

/**
 * The UI strings of a config.json answer (`answer.strings`, finished by the
 * server for the answer's language). The server gives every key (its tests
 * pin that), and it serves the SDK it was built with, so the SDK keeps no
 * list of keys to fill in.
 */
export function uiStrings(strings: Record<string, string> | undefined): Strings {
  return (strings || {}) as Strings;
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
