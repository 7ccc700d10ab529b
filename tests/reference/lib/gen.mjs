// Random TC models, in the JSON shape `nexaguard tcf decode` prints (the
// property names of the reference library's TCModel), and their encoding by
// the reference library (@iabtechlabtcf/core).
//
// Two generators:
// - generateCase: a model the reference *encoder* can represent exactly, with
//   the small in-test GVL it needs. The reference encoder applies TCF policy
//   before writing (see SemanticPreEncoder), so the generator stays inside
//   that policy instead of letting the encoder silently rewrite the model.
// - generateFreeModel: any model a TC string can carry, for the direction in
//   which only the reference *decoder* is involved (it applies no policy).

import {
  ConsentLanguages,
  GVL,
  TCModel,
  TCString,
  PurposeRestriction,
  Segment,
} from '@iabtechlabtcf/core';

export { TCString };

const range = (lo, hi) => Array.from({ length: Math.max(0, hi - lo + 1) }, (_, i) => lo + i);

const PURPOSES = range(1, 24);
const SPECIAL_FEATURES = range(1, 12);
// The reference encoder clears legitimate interest for these purposes
// (TCF policy since v2.2), so reference-encoded models never carry them.
const LI_FORBIDDEN = new Set([1, 3, 4, 5, 6]);
const LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const TWO_LETTER_LANGUAGES = [...ConsentLanguages.langSet]
  .filter((l) => l.length === 2);
const EPOCH_2019 = Date.UTC(2019, 5, 1);
const EPOCH_2030 = Date.UTC(2030, 0, 1);
const DAY_MS = 86_400_000;

/** A random subset of `ids` (sorted), in one of several shapes. */
export function subset(rng, ids, shape = rng.weighted({ empty: 1, few: 3, random: 3, runs: 3, all: 1 })) {
  if (ids.length === 0) return [];
  switch (shape) {
    case 'empty':
      return [];
    case 'all':
      return [...ids];
    case 'few': {
      const n = rng.int(1, Math.min(5, ids.length));
      return [...new Set(range(1, n).map(() => rng.pick(ids)))].sort((a, b) => a - b);
    }
    case 'random': {
      const p = rng.pick([0.03, 0.1, 0.3, 0.6, 0.9, 0.97]);
      return ids.filter(() => rng.bool(p));
    }
    case 'runs': {
      // Long alternating runs: the shape that makes range encoding win.
      const out = [];
      let inside = rng.bool();
      let left = 0;
      for (const id of ids) {
        if (left === 0) {
          inside = !inside;
          left = rng.int(1, rng.pick([3, 20, 120]));
        }
        left -= 1;
        if (inside) out.push(id);
      }
      return out;
    }
    default:
      throw new Error(`unknown subset shape ${shape}`);
  }
}

function nonEmptySubset(rng, ids) {
  const s = subset(rng, ids, rng.weighted({ few: 4, random: 2, runs: 2, all: 1 }));
  return s.length > 0 ? s : [rng.pick(ids)];
}

function letters(rng) {
  return rng.pick([...LETTERS]) + rng.pick([...LETTERS]);
}

/** A time at decisecond precision, the precision a TC string stores. */
function deciseconds(rng, lo, hi) {
  return new Date(rng.int(Math.ceil(lo / 100), Math.floor(hi / 100)) * 100);
}

/** Vendor ids of an in-test GVL: up to ~800, full, dense or sparse. */
function gvlVendorIds(rng) {
  const maxId = rng.weighted({ small: 1, typical: 3, large: 3 }) === 'small'
    ? rng.int(1, 60)
    : rng.int(60, 820);
  const density = rng.pick([1, 0.85, 0.5, 0.15]);
  const ids = range(1, maxId).filter((id) => id === maxId || rng.bool(density));
  return ids;
}

/**
 * A vendor list object the reference GVL class accepts. Every vendor declares
 * every purpose for consent, legitimate interest and as flexible, so that the
 * reference encoder keeps every vendor signal and every publisher restriction
 * the generator sets (it drops signals a vendor did not declare).
 */
export function vendorListObject(ids, vendorListVersion) {
  const named = (id) => ({ id, name: `n${id}`, description: '' });
  const byId = (list) => Object.fromEntries(list.map((id) => [id, named(id)]));
  const vendor = (id) => ({
    id,
    name: `vendor ${id}`,
    purposes: PURPOSES,
    legIntPurposes: PURPOSES,
    flexiblePurposes: PURPOSES,
    specialPurposes: [1],
    features: [],
    specialFeatures: [],
    cookieMaxAgeSeconds: null,
    usesCookies: false,
    usesNonCookieAccess: false,
    urls: [],
  });
  return {
    gvlSpecificationVersion: 3,
    vendorListVersion,
    tcfPolicyVersion: 5,
    lastUpdated: '2026-01-01T00:00:00Z',
    purposes: byId(PURPOSES),
    specialPurposes: byId([1, 2]),
    features: byId([1, 2, 3]),
    specialFeatures: byId(SPECIAL_FEATURES),
    stacks: {},
    dataCategories: {},
    vendors: Object.fromEntries(ids.map((id) => [id, vendor(id)])),
  };
}

/**
 * The vendors a reference-encoded restriction carries. The reference encoder
 * (PurposeRestrictionVectorEncoder) extends a range over ids that are not in
 * the GVL: restricted vendors 2 and 4 with no vendor 3 in the GVL are written
 * as the range 2-4, so the string restricts vendor 3 too. This reproduces that
 * exactly: runs of restricted vendors that are consecutive *in the GVL* become
 * one closed interval.
 */
export function bridgeOverGvlGaps(vendors, gvlIds) {
  const position = new Map(gvlIds.map((id, i) => [id, i]));
  const out = [];
  let start = null;
  vendors.forEach((id, i) => {
    if (start === null) start = id;
    const next = vendors[i + 1];
    if (next === undefined || position.get(next) !== position.get(id) + 1) {
      out.push(...range(start, id));
      start = null;
    }
  });
  return out;
}

function restrictions(rng, vendorIds, { maxPurpose = 24 } = {}) {
  const count = Number(rng.weighted({ 0: 6, 1: 2, 2: 1, 3: 1, 6: 1, 12: 0.3 }));
  const pairs = new Map();
  for (let i = 0; i < count; i++) {
    const purposeId = rng.int(1, maxPurpose);
    const restrictionType = rng.int(0, 2);
    pairs.set(`${purposeId}-${restrictionType}`, {
      purposeId,
      restrictionType,
      vendorIds: nonEmptySubset(rng, vendorIds),
    });
  }
  return sortRestrictions([...pairs.values()]);
}

export function sortRestrictions(list) {
  return list.sort((a, b) => a.purposeId - b.purposeId || a.restrictionType - b.restrictionType);
}

function publisherFields(rng, present) {
  if (!present) {
    return {
      publisherConsents: [],
      publisherLegitimateInterests: [],
      numCustomPurposes: 0,
      publisherCustomConsents: [],
      publisherCustomLegitimateInterests: [],
    };
  }
  const numCustomPurposes = Number(rng.weighted({ 0: 2, 3: 2, 10: 1, 63: 0.5 }));
  const n = numCustomPurposes === 0 ? 0 : rng.int(1, numCustomPurposes);
  const custom = range(1, n);
  return {
    publisherConsents: subset(rng, PURPOSES),
    publisherLegitimateInterests: subset(rng, PURPOSES),
    numCustomPurposes: n,
    publisherCustomConsents: subset(rng, custom),
    publisherCustomLegitimateInterests: subset(rng, custom),
  };
}

function coreFields(rng) {
  const created = deciseconds(rng, EPOCH_2019, EPOCH_2030);
  const lastUpdated = deciseconds(rng, created.getTime(), created.getTime() + 400 * DAY_MS);
  return {
    version: 2,
    created: created.toISOString(),
    lastUpdated: lastUpdated.toISOString(),
    cmpId: rng.int(2, 4095), // the reference rejects cmpId 0 and 1
    cmpVersion: rng.int(0, 4095),
    consentScreen: rng.int(0, 63),
  };
}

/**
 * A model the reference encoder writes without changing it, and how to write
 * it: `{ model, gvlIds, language, segments }`. `model` is the JSON that
 * `nexaguard tcf decode` must print for the reference's string, except that
 * restrictions are listed as set (see bridgeOverGvlGaps for what the string
 * then carries).
 */
export function generateCase(rng) {
  const gvlIds = gvlVendorIds(rng);
  const language = rng.pick(TWO_LETTER_LANGUAGES);
  const isServiceSpecific = rng.bool();
  const hasPublisher = rng.bool(0.5);
  const hasAllowed = rng.bool(0.1);
  const model = {
    ...coreFields(rng),
    consentLanguage: language,
    vendorListVersion: rng.int(1, 4095),
    policyVersion: 5,
    isServiceSpecific,
    useNonStandardTexts: rng.bool(),
    purposeOneTreatment: rng.bool(),
    publisherCountryCode: letters(rng),
    specialFeatureOptins: subset(rng, SPECIAL_FEATURES),
    purposeConsents: subset(rng, PURPOSES),
    purposeLegitimateInterests: subset(rng, PURPOSES.filter((p) => !LI_FORBIDDEN.has(p))),
    vendorConsents: subset(rng, gvlIds),
    vendorLegitimateInterests: subset(rng, gvlIds),
    vendorsDisclosed: subset(rng, gvlIds),
    ...(hasAllowed ? { vendorsAllowed: subset(rng, gvlIds) } : {}),
    ...publisherFields(rng, hasPublisher),
    publisherRestrictions: restrictions(rng, gvlIds),
  };
  // The reference writes the segments listed, in that order; ours are
  // shuffled after the core because a decoder must accept any order.
  const rest = [Segment.VENDORS_DISCLOSED];
  if (hasAllowed) rest.push(Segment.VENDORS_ALLOWED);
  // Service-specific strings get a publisher TC segment from the reference
  // even when it is empty; keep some of those.
  if (hasPublisher || (isServiceSpecific && rng.bool())) rest.push(Segment.PUBLISHER_TC);
  for (let i = rest.length - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [rest[i], rest[j]] = [rest[j], rest[i]];
  }
  return { model, gvlIds, language, segments: [Segment.CORE, ...rest] };
}

/** The reference TCModel for a case, built through its public setters. */
export function referenceModel({ model, gvlIds, language }) {
  // The GVL sets consentLanguage (from its language), vendorListVersion and
  // policyVersion on encode; the TCModel's own values are ignored then.
  const gvl = new GVL(vendorListObject(gvlIds, model.vendorListVersion), { language });
  const tc = new TCModel(gvl);
  tc.cmpId = model.cmpId;
  tc.cmpVersion = model.cmpVersion;
  tc.consentScreen = model.consentScreen;
  tc.isServiceSpecific = model.isServiceSpecific;
  tc.useNonStandardTexts = model.useNonStandardTexts;
  tc.purposeOneTreatment = model.purposeOneTreatment;
  tc.publisherCountryCode = model.publisherCountryCode;
  tc.created = new Date(model.created);
  tc.lastUpdated = new Date(model.lastUpdated);
  tc.specialFeatureOptins.set(model.specialFeatureOptins);
  tc.purposeConsents.set(model.purposeConsents);
  tc.purposeLegitimateInterests.set(model.purposeLegitimateInterests);
  tc.vendorConsents.set(model.vendorConsents);
  tc.vendorLegitimateInterests.set(model.vendorLegitimateInterests);
  tc.vendorsDisclosed.set(model.vendorsDisclosed);
  if (model.vendorsAllowed) tc.vendorsAllowed.set(model.vendorsAllowed);
  tc.publisherConsents.set(model.publisherConsents);
  tc.publisherLegitimateInterests.set(model.publisherLegitimateInterests);
  tc.numCustomPurposes = model.numCustomPurposes;
  tc.publisherCustomConsents.set(model.publisherCustomConsents);
  tc.publisherCustomLegitimateInterests.set(model.publisherCustomLegitimateInterests);
  for (const r of model.publisherRestrictions) {
    const pr = new PurposeRestriction(r.purposeId, r.restrictionType);
    for (const id of r.vendorIds) tc.publisherRestrictions.add(id, pr);
  }
  return tc;
}

/** The reference library's TC string for a case. */
export function referenceEncode(c) {
  const s = TCString.encode(referenceModel(c), { segments: c.segments });
  // Each case builds its own GVL; the library caches every GVL it sees by
  // vendorListVersion, which would only grow.
  GVL.emptyCache();
  return s;
}

/** What the reference's string for a case carries, as decode JSON. */
export function expectedFromReference({ model, gvlIds }) {
  return {
    ...model,
    publisherRestrictions: model.publisherRestrictions.map((r) => ({
      ...r,
      vendorIds: bridgeOverGvlGaps(r.vendorIds, gvlIds),
    })),
  };
}

/**
 * Any model a TC string can carry, for our encoder and the reference decoder:
 * every purpose for legitimate interest, vendor ids unrelated to any GVL
 * (sometimes up to 65535), any two letters, any policy version.
 */
export function generateFreeModel(rng) {
  const maxId = rng.weighted({ typical: 6, huge: 1 }) === 'typical' ? rng.int(1, 820) : rng.int(821, 65535);
  const universe = maxId > 5000
    ? [...new Set([...range(1, rng.int(0, 300)), ...range(1, 40).map(() => rng.int(1, maxId)), maxId])].sort((a, b) => a - b)
    : range(1, maxId);
  const hasAllowed = rng.bool(0.1);
  return {
    ...coreFields(rng),
    consentLanguage: letters(rng),
    vendorListVersion: rng.int(0, 4095),
    policyVersion: rng.bool(0.8) ? 5 : rng.int(0, 63),
    isServiceSpecific: rng.bool(),
    useNonStandardTexts: rng.bool(),
    purposeOneTreatment: rng.bool(),
    publisherCountryCode: letters(rng),
    specialFeatureOptins: subset(rng, SPECIAL_FEATURES),
    purposeConsents: subset(rng, PURPOSES),
    purposeLegitimateInterests: subset(rng, PURPOSES),
    vendorConsents: subset(rng, universe),
    vendorLegitimateInterests: subset(rng, universe),
    vendorsDisclosed: subset(rng, universe),
    ...(hasAllowed ? { vendorsAllowed: subset(rng, universe) } : {}),
    ...publisherFields(rng, rng.bool()),
    // Purpose ids in restrictions are 6 bits; the reference decoder keeps any.
    publisherRestrictions: restrictions(rng, universe, { maxPurpose: 63 }),
  };
}
