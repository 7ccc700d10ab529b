// GPP strings in the browser: the header, the US sections (usnat and the
// state sections 8 to 27) and tcfeuv2 as a TC string passed through, and
// the field values a visitor's choice gives each US section.
//
// Guarantees:
// - encodeGpp writes, for every section it is given, the bytes
//   @iabgpp/cmpapi 3.2.0 writes for the same fields (test/unit/gpp-*);
//   sections in id order, the header listing exactly them;
// - fields are named as @iabgpp/cmpapi names them; a field left out takes
//   the reference's default, a value is written in its field's width
//   (higher bits dropped), so encoding never throws;
// - usnat is written in its version 2 layout (16 sensitive data and 3
//   child consent values), the only one the SDK writes.
//
// Only what the SDK writes is here: no decoder (the CMP API keeps the
// field objects it was given) and no tcfcav1 or uspv1.

import { SECTION_IDS, sectionName } from "./sections";

export { SECTION_IDS, sectionId, sectionName } from "./sections";

/** Field values of one US section, named as @iabgpp/cmpapi names them. */
export type UsFields = Record<string, number | number[] | boolean>;

/**
 * Sections by API prefix: US sections as fields, any section (tcfeuv2: the
 * TC string) as its encoded text.
 */
export type GppSections = Record<string, UsFields | string>;

/** What the visitor chose (and the browser's Global Privacy Control). */
export interface UsChoice {
  saleOptOut: boolean;
  sharingOptOut: boolean;
  targetedAdvertisingOptOut: boolean;
  gpc: boolean;
}

// The field names a layout refers to by letter (A is the first). Widths:
// A and T 6 bits, W 1 bit, every other field 2 bits.
const NAMES = [
  "Version", // A
  "SharingNotice", // B
  "SaleOptOutNotice", // C
  "SharingOptOutNotice", // D
  "TargetedAdvertisingOptOutNotice", // E
  "SensitiveDataProcessingOptOutNotice", // F
  "SensitiveDataLimitUseNotice", // G
  "SaleOptOut", // H
  "SharingOptOut", // I
  "TargetedAdvertisingOptOut", // J
  "SensitiveDataProcessing", // K
  "KnownChildSensitiveDataConsents", // L
  "PersonalDataConsents", // M
  "MspaCoveredTransaction", // N
  "MspaOptOutOptionMode", // O
  "MspaServiceProviderMode", // P
  "ProcessingNotice", // Q
  "AdditionalDataProcessingConsent", // R
  "SensitiveDataOptOutNotice", // S
  "MspaVersion", // T
  "MspaMode", // U
  "GpcSegmentType", // V
  "Gpc", // W
];

// Section id 7 + i: the core segment's fields in string order, then after
// a "." the optional sub-segment's (GPC: VW; usin, usky, usri: sensitive
// data consents). A letter followed by a base-36 digit is a list of that
// many values; without one, a single value. Read from the reference's
// segment classes, as crates/gpp/src/us/generated.rs.
const LAYOUTS = [
  "ABCDEFGHIJKgL3MNOP.VW", // usnat
  "ACDGHIK9L2MNOP.VW", // usca
  "ABCEHJK8LNOP", // usva
  "ABCEHJK7LNOP.VW", // usco
  "ABCEFHJK8LNOP", // usut
  "ABCEHJK8L3NOP.VW", // usct
  "AQCEHJK8L3RNOP", // usfl
  "ABCEHJK8L3RNOP.VW", // usmt
  "AQCEHJKbL3RNOP.VW", // usor
  "AQCEHJK8LRNOP.VW", // ustx
  "AQCEHJK9L5RNOP.VW", // usde
  "AQCESHJK8LNOP.VW", // usia
  "AQCEHJK8LRNOP.VW", // usne
  "AQCEHJK8L3RNOP.VW", // usnh
  "AQCEHJKaL5RNOP.VW", // usnj
  "AQCEHJK8LRNOP.VW", // ustn
  "AQCEHJK8LRNOP.VW", // usmn
  "TNUQCEHJR.VW", // usmd
  "TNUQCEHJLR.K8", // usin
  "TNUQCEHJLR.K8", // usky
  "TNUQCEHJLR.K8", // usri
];

const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";



// `v` in `n` bits, most significant first. Number() makes booleans 1 and 0
// and anything that is not a number 0 (NaN & m is 0).
const bin = (v: unknown, n: number): string => (((Number(v) & ((1 << n) - 1)) | (1 << n)) >>> 0).toString(2).slice(1);

// The spec's padding: zero bits to a whole byte, then to a whole character.
function base64(bits: string): string {
  while (bits.length % 8) bits += "0";
  while (bits.length % 6) bits += "0";
  let s = "";
  for (let i = 0; i < bits.length; i += 6) s += B64[parseInt(bits.slice(i, i + 6), 2)];
  return s;
}

// A Fibonacci-coded integer (at least 1): Zeckendorf bits from 1 upwards, then "1".
function fibonacci(v: number): string {
  const fib = [1];
  for (let a = 1, b = 2; b <= v; [a, b] = [b, a + b]) fib.push(b);
  let s = "1";
  for (let i = fib.length; i--; ) {
    s = (v >= fib[i] ? 1 : 0) + s;
    if (v >= fib[i]) v -= fib[i];
  }
  return s;
}

// The header: type 3, version 1, the ids (ascending) as a Fibonacci-coded
// range list: a 12-bit count of runs, each a single id or a first and last,
// as differences from the previous run's end.
function header(ids: number[]): string {
  let runs = "";
  let count = 0;
  let last = 0;
  for (let i = 0; i < ids.length; i++) {
    let j = i;
    while (ids[j + 1] == ids[j] + 1) j++;
    runs += j > i ? "1" + fibonacci(ids[i] - last) + fibonacci(ids[j] - ids[i]) : "0" + fibonacci(ids[i] - last);
    last = ids[j];
    count++;
    i = j;
  }
  return base64(bin(3, 6) + bin(1, 6) + bin(count, 12) + runs);
}

// The fields of a layout part: [letter, name, list length or 0].
function fields(part: string): [string, string, number][] {
  const out: [string, string, number][] = [];
  for (let i = 0; i < part.length; i++) {
    const l = part[i];
    out.push([l, NAMES[l.charCodeAt(0) - 65], /[\da-z]/.test(part[i + 1] || "") ? parseInt(part[++i], 36) : 0]);
  }
  return out;
}

// The reference's default for field `l` left out of section `id`: the
// section's version, MspaCoveredTransaction and GpcSegmentType 1, else 0.
const fallback = (l: string, id: number) => ("AT".includes(l) ? (id == 7 ? 2 : 1) : "NV".includes(l) ? 1 : 0);

// Whether a section's sub-segment is written: the flag the reference keeps
// as a field (GpcSegmentIncluded or SensitiveDataConsentSegmentIncluded).
const flag = (sub: string) => (sub[0] == "V" ? "GpcSegmentIncluded" : "SensitiveDataConsentSegmentIncluded");

function usSection(id: number, f: UsFields): string {
  const [core, sub] = LAYOUTS[id - 7].split(".");
  const segment = (part: string) => {
    let bits = "";
    for (const [l, name, n] of fields(part)) {
      const v = f[name];
      if (n) for (let i = 0; i < n; i++) bits += bin(Array.isArray(v) ? v[i] : 0, 2);
      else bits += bin(v === undefined ? fallback(l, id) : v, "AT".includes(l) ? 6 : l == "W" ? 1 : 2);
    }
    return base64(bits);
  };
  return segment(core) + (sub && f[flag(sub)] !== false ? "." + segment(sub) : "");
}

/**
 * The GPP string of `sections` (keyed by API prefix; unknown prefixes and
 * empty strings are left out): the header, then the sections in id order.
 */
export function encodeGpp(sections: GppSections): string {
  const ids: number[] = [];
  const parts: string[] = [];
  for (const id of SECTION_IDS) {
    const v = sections[sectionName(id) as string];
    const s = typeof v == "string" ? v : v && id > 2 ? usSection(id, v) : "";
    if (s) {
      ids.push(id);
      parts.push(s);
    }
  }
  return [header(ids), ...parts].join("~");
}

/**
 * The fields of US section `id` (7 to 27) after a CMP showed its notice and
 * the visitor chose `c`, every field of the section given (null for any
 * other id): the notices of processing, sale, sharing and targeted
 * advertising provided (1); each opt-out 1 (opted out) or 2 (did not opt
 * out); no sensitive data processed, so its notices, consents and the
 * child consents 0 (not applicable); not an MSPA covered transaction (2,
 * modes 0); Gpc from the browser, in the GPC sub-section where the section
 * has one. Where a section has no sharing opt-out (all but usnat and usca)
 * an opt-out of sharing counts as one of targeted advertising, and in usca
 * (no targeted advertising opt-out) the other way round: both name
 * cross-context advertising, and an opt-out must not be dropped.
 */
export function usChoice(id: number, c: UsChoice): UsFields | null {
  const layout = LAYOUTS[id - 7];
  if (!layout) return null;
  const sharing = c.sharingOptOut || (!layout.includes("J") && c.targetedAdvertisingOptOut);
  const targeted = c.targetedAdvertisingOptOut || (!layout.includes("I") && c.sharingOptOut);
  // By letter (see NAMES): the notices of processing, sale, sharing and
  // targeted advertising, the three opt-outs, MspaCoveredTransaction, Gpc.
  const values: Record<string, number | boolean> = {
    B: 1,
    Q: 1,
    C: 1,
    D: 1,
    E: 1,
    H: c.saleOptOut ? 1 : 2,
    I: sharing ? 1 : 2,
    J: targeted ? 1 : 2,
    N: 2,
    W: !!c.gpc,
  };
  const out: UsFields = {};
  const sub = layout.split(".")[1];
  for (const [l, name, n] of fields(layout.replace(".", ""))) {
    out[name] = n ? Array(n).fill(0) : l in values ? values[l] : fallback(l, id);
  }
  // The GPC sub-section is written; usin, usky and usri's sensitive data
  // consents are not (no consent was asked: every value 0).
  if (sub) out[flag(sub)] = sub[0] == "V";
  return out;
}

/**
 * The US sections `ids` after the visitor's opt-outs `o` (1: sale and
 * sharing, 2: targeted advertising), with Global Privacy Control `gpc`
 * (ids this file does not encode are left out).
 */
export function usSections(ids: number[], o: number, gpc: boolean): GppSections {
  const out: GppSections = {};
  const c = { saleOptOut: !!(o & 1), sharingOptOut: !!(o & 1), targetedAdvertisingOptOut: !!(o & 2), gpc };
  for (const id of ids) {
    const f = usChoice(id, c);
    if (f) out[sectionName(id) as string] = f;
  }
  return out;
}
