// The `nexaguard_consent` cookie: what was chosen and what was shown when,
// for the re-consent decision. Base64url of a compact JSON object.

export interface StoredChoice {
  /** Format version (1). */
  v: number;
  /** Configuration version the choice was made on. */
  cv: number;
  /** When, in milliseconds since the epoch. */
  ts: number;
  /** Granted categories (custom purpose ids). */
  c: string[];
  /** IAB purposes shown. */
  p: number[];
  /** IAB special features shown. */
  f: number[];
  /** Custom purposes shown. */
  q: string[];
  /** Custom vendors shown. */
  w: string[];
  /** IAB vendors shown (opt-in sites have none; TCF sites read the TC string's disclosed vendors). */
  n?: number[];
  /** The experience the choice was made in (tcf, us, opt_in, notice_only); absent before regions: the site's regulation. */
  x?: string;
  /** US opt-outs: 1 sale and sharing, 2 targeted advertising. */
  o?: number;
  /** 1 when the choice came from the browser's Global Privacy Control signal. */
  g?: number;
}

function b64urlEncode(ascii: string): string {
  return btoa(ascii).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function b64urlDecode(s: string): string {
  const b = s.replace(/-/g, "+").replace(/_/g, "/");
  return atob(b + "===".slice((b.length + 3) % 4));
}

/** The cookie value of a stored choice. Its JSON is ASCII (numbers and slug ids), so btoa takes it. */
export function encodeStored(s: StoredChoice): string {
  return b64urlEncode(JSON.stringify(s));
}

const isList = (x: unknown) => Array.isArray(x);

/** The stored choice of a cookie value, or null when absent or unreadable. */
export function decodeStored(value: string | undefined): StoredChoice | null {
  if (!value) return null;
  try {
    const o = JSON.parse(b64urlDecode(value));
    if (o && o.v === 1 && o.cv > 0 && o.ts > 0 && [o.c, o.p, o.f, o.q, o.w].every(isList)) return o as StoredChoice;
  } catch (_) {
    // unreadable: treated as absent
  }
  return null;
}
