// The config.json and region URLs, built the same way by the stub (which
// starts the requests early, in parallel with the SDK's download) and by
// the SDK.

export function configUrl(base: string, siteKey: string, lang: string): string {
  return base + "/v1/sites/" + encodeURIComponent(siteKey) + "/config.json" + (lang ? "?lang=" + encodeURIComponent(lang.toLowerCase()) : "");
}

/**
 * The language to ask for: the page's <html lang>, else the browser's
 * first. The server picks among the site's languages, trying this one and
 * then Accept-Language (the browser's list), else the site's default.
 */
export function pageLanguage(d: Document, nav: { languages?: readonly string[]; language?: string }): string {
  return d.documentElement.lang || (nav.languages && nav.languages[0]) || nav.language || "";
}

/**
 * The region URL with `query` ("" or "?..."): the stub asks with the
 * region the site declared in its settings, if any; the SDK asks again
 * only when its own query differs (a staging page's `?nexaguard_region=`).
 */
export function regionUrl(base: string, siteKey: string, query: string): string {
  return base + "/v1/sites/" + encodeURIComponent(siteKey) + "/region" + query;
}

/** The query of the region URL: a staging page's override before the region the site declared. */
export function regionQuery(declared: string | undefined, search: string): string {
  const m = /[?&]nexaguard_region=([^&#]*)/.exec(search);
  return m ? "?nexaguard_region=" + m[1] : declared ? "?region=" + encodeURIComponent(declared) : "";
}

/** Where the stub leaves its early requests: window.__nexaguardConfig and window.__nexaguardRegion. */
export interface EarlyConfig {
  u: string;
  p: Promise<Response>;
}

/**
 * The `siteKey` query parameter of the SDK's own URL, or "". A Google Tag
 * Manager template can inject a script but not set its `data-site-key`
 * (integrations/gtm/), so it names the site in the URL.
 */
export function siteKeyOfSrc(src: string): string {
  const m = /[?&]siteKey=([^&#]*)/.exec(src);
  try {
    return m ? decodeURIComponent(m[1]) : "";
  } catch (_) {
    return "";
  }
}
