// First-party cookies: reading, writing, and deleting by name or prefix on
// every domain a cookie may have been set on.

export const TC_COOKIE = "euconsent-v2";
export const TOKEN_COOKIE = "nexaguard_token";
export const STATE_COOKIE = "nexaguard_consent";
/** The GPP string, as euconsent-v2 holds the TC string. */
export const GPP_COOKIE = "nexaguard_gpp";

export interface CookieOptions {
  /** Max-Age in seconds; 0 or less deletes. */
  maxAge: number;
  domain?: string | null;
  secure?: boolean;
}

/** The cookies of a `document.cookie` string, by name (the first of duplicates wins). */
export function parseCookies(header: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim();
    if (!name || out.has(name)) continue;
    let value = part.slice(eq + 1).trim();
    try {
      value = decodeURIComponent(value);
    } catch (_) {
      // keep it raw
    }
    out.set(name, value);
  }
  return out;
}

/** The `document.cookie` assignment for one cookie (the value URI-encoded). */
export function cookieString(name: string, value: string, o: CookieOptions): string {
  let s = name + "=" + encodeURIComponent(value);
  s += "; Path=/; SameSite=Lax; Max-Age=" + Math.max(0, Math.floor(o.maxAge));
  if (o.maxAge <= 0) s += "; Expires=Thu, 01 Jan 1970 00:00:00 GMT";
  if (o.domain) s += "; Domain=" + o.domain;
  if (o.secure) s += "; Secure";
  return s;
}

/**
 * The names among `names` that `patterns` cover: exact names, or prefixes
 * ending in `*` (`_ga*` covers `_ga` and `_ga_XYZ`).
 */
export function matchCookieNames(names: Iterable<string>, patterns: string[]): string[] {
  const out: string[] = [];
  for (const name of names) {
    for (const p of patterns) {
      const hit = p.charAt(p.length - 1) === "*" ? name.indexOf(p.slice(0, -1)) === 0 : name === p;
      if (hit) {
        out.push(name);
        break;
      }
    }
  }
  return out;
}

/**
 * The Domain attributes to delete a cookie with: none (the host itself),
 * the configured cookie domain, and every parent domain of the host down to
 * two labels, where tags such as Google Analytics put theirs.
 */
export function deletionDomains(host: string, cookieDomain?: string | null): (string | undefined)[] {
  const out: (string | undefined)[] = [undefined];
  const add = (d: string) => {
    if (out.indexOf(d) < 0) out.push(d);
  };
  if (cookieDomain) add(cookieDomain.replace(/^\./, ""));
  if (!/^[\d.]+$/.test(host) && host.indexOf(":") < 0) {
    const labels = host.split(".");
    for (let i = 0; i <= labels.length - 2; i++) add(labels.slice(i).join("."));
  }
  return out;
}

/** Cookie access bound to a document and a site's settings. */
export class CookieJar {
  constructor(
    private _doc: Document,
    private _domain: string | null | undefined,
    private _secure: boolean,
  ) {}

  all(): Map<string, string> {
    return parseCookies(this._doc.cookie || "");
  }

  get(name: string): string | undefined {
    return this.all().get(name);
  }

  /**
   * Sets a cookie on the configured domain; when the browser refuses that
   * domain (a page outside it), on the page's host instead.
   */
  set(name: string, value: string, maxAgeSeconds: number): void {
    const o = { maxAge: maxAgeSeconds, domain: this._domain, secure: this._secure };
    this._doc.cookie = cookieString(name, value, o);
    if (this._domain && this.get(name) !== value) {
      this._doc.cookie = cookieString(name, value, { maxAge: maxAgeSeconds, secure: this._secure });
    }
  }

  /** Deletes a cookie on the host and on every domain it may have been set on. */
  remove(name: string): void {
    const host = (this._doc.location && this._doc.location.hostname) || "";
    for (const domain of deletionDomains(host, this._domain)) {
      this._doc.cookie = cookieString(name, "", { maxAge: 0, domain, secure: this._secure });
    }
  }

  /** Deletes every cookie matching the patterns (exact names or `prefix*`). */
  removeMatching(patterns: string[]): string[] {
    const names = matchCookieNames(this.all().keys(), patterns);
    names.forEach((n) => this.remove(n));
    return names;
  }
}
