// The config.json URL, built the same way by the stub (which starts the
// request early, in parallel with the SDK's download) and by the SDK.

export function configUrl(base: string, siteKey: string, nav: { languages?: readonly string[]; language?: string }): string {
  // Language tags are letters, digits and hyphens: nothing to escape.
  const lang = ((nav.languages && nav.languages[0]) || nav.language || "").toLowerCase();
  return base + "/v1/sites/" + encodeURIComponent(siteKey) + "/config.json" + (lang ? "?lang=" + lang : "");
}

/** Where the stub leaves its early request: window.__nexaguardConfig. */
export interface EarlyConfig {
  u: string;
  p: Promise<Response>;
}
