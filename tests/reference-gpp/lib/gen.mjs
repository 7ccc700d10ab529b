// Random section models in the JSON form of `nexaguard gpp decode|encode`
// (field names exactly the reference's), built from the reference's own field
// definitions (SECTIONS in ref.mjs): every field takes a value in its valid
// range. Seeded (prng.mjs), so a failure reproduces from the printed seed.
//
// `mode` picks the values: 'random', or 'min' / 'max' for the edge strings
// (every field at the smallest / largest value the field allows).

import { SECTIONS, SECTION_BY_NAME } from './ref.mjs';

const LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const USP_CHARS = ['-', 'Y', 'N'];
// Deciseconds between 2020-01-01 and 2030-01-01: the strings' precision.
const DS_FROM = 15778368000;
const DS_TO = 18934560000;

/** Sorted, distinct vendor ids in shapes a CMP writes, some choosing a bit field, some ranges. */
export function randomIds(rng, mode = 'random') {
  if (mode === 'min') return [];
  if (mode === 'max') return [1, 2, 3, 65535];
  const shape = rng.weighted({ empty: 1, sparse: 3, dense: 2, runs: 2, wide: 1 });
  const ids = new Set();
  if (shape === 'sparse') {
    const max = rng.int(5, 1500);
    const n = rng.int(1, 30);
    for (let i = 0; i < n; i++) ids.add(rng.int(1, max));
  } else if (shape === 'dense') {
    const max = rng.int(1, 1000);
    const p = rng.next();
    for (let id = 1; id <= max; id++) if (rng.bool(p)) ids.add(id);
  } else if (shape === 'runs') {
    let at = rng.int(1, 50);
    for (let r = rng.int(1, 8); r > 0; r--) {
      const len = rng.int(1, 60);
      for (let k = 0; k < len; k++) ids.add(at + k);
      at += len + rng.int(1, 200);
    }
  } else if (shape === 'wide') {
    for (let n = rng.int(1, 6); n > 0; n--) ids.add(rng.int(1, 65535));
  }
  return [...ids].sort((a, b) => a - b);
}

/** Publisher restrictions: distinct (purpose, type) entries, each with at least one vendor. */
function randomRestrictions(rng, mode) {
  if (mode === 'min') return [];
  if (mode === 'max') return [{ key: 63, type: 2, ids: [1, 65535] }];
  const entries = new Map();
  for (let n = rng.weighted({ 0: 3, 1: 2, 2: 2, 4: 1 }); n > 0; n--) {
    const key = rng.bool(0.9) ? rng.int(1, 11) : rng.int(12, 63);
    const type = rng.int(0, 2);
    let ids = randomIds(rng);
    if (ids.length === 0) ids = [rng.int(1, 500)];
    entries.set(`${key}:${type}`, { key, type, ids });
  }
  return [...entries.values()].sort((a, b) => a.key - b.key || a.type - b.type);
}

const pickInt = (rng, mode, lo, hi) => (mode === 'min' ? lo : mode === 'max' ? hi : rng.int(lo, hi));
const pickFrom = (rng, mode, values) => (mode === 'min' ? values[0] : mode === 'max' ? values.at(-1) : rng.pick(values));
const pickBool = (rng, mode) => (mode === 'min' ? false : mode === 'max' ? true : rng.bool());

function letters(rng, mode, n) {
  let s = '';
  for (let i = 0; i < n; i++) s += pickFrom(rng, mode, [...LETTERS]);
  return s;
}

function date(rng, mode) {
  return new Date(pickInt(rng, mode, DS_FROM, DS_TO) * 100).toISOString();
}

/**
 * One field's value. `model` holds the fields already chosen (the custom
 * purpose bit fields follow NumCustomPurposes, usnat version 1 has shorter
 * lists).
 */
function fieldValue(rng, mode, section, field, model) {
  const { name, type } = field;
  if (name === 'Version' || name === 'MspaVersion') {
    // usnat: version 2, and version 1 (12 sensitive data categories, 2 known
    // child categories), which the reference still reads and writes.
    if (section.name === 'usnat') return mode === 'random' ? rng.pick([1, 2]) : 2;
    return section.version;
  }
  if (name.endsWith('SegmentType')) return field.default;
  if (name === 'IsServiceSpecific') return true; // the reference refuses to write false
  if (name === 'VendorsAllowed') return []; // deprecated; the reference never writes the segment
  if (section.name === 'uspv1') return pickFrom(rng, mode, USP_CHARS);
  switch (type) {
    case 'EncodableFixedInteger':
      if (field.allowed) return pickFrom(rng, mode, field.allowed);
      if (name === 'NumCustomPurposes' && mode === 'random') return rng.bool(0.8) ? rng.int(0, 10) : rng.int(11, 63);
      return pickInt(rng, mode, 0, 2 ** field.bits - 1);
    case 'EncodableFixedIntegerList': {
      let n = field.numElements;
      if (section.name === 'usnat' && model.Version === 1) {
        n = name === 'SensitiveDataProcessing' ? 12 : 2;
      }
      return Array.from({ length: n }, () => pickFrom(rng, mode, field.allowed));
    }
    case 'EncodableBoolean':
      return pickBool(rng, mode);
    case 'EncodableFixedBitfield': {
      const bits = Array.from({ length: field.numElements }, () => pickBool(rng, mode));
      // TCF v2.2: no legitimate interest for purposes 1 and 3-6; the
      // reference clears those bits whatever it is given.
      if (name === 'PurposeLegitimateInterests') for (const i of [0, 2, 3, 4, 5]) bits[i] = false;
      return bits;
    }
    case 'EncodableFlexibleBitfield':
      return Array.from({ length: model.NumCustomPurposes }, () => pickBool(rng, mode));
    case 'EncodableFixedString':
      return letters(rng, mode, field.stringLength);
    case 'EncodableDatetime':
      return date(rng, mode);
    case 'EncodableOptimizedFixedRange':
    case 'EncodableOptimizedFibonacciRange':
      return randomIds(rng, mode);
    case 'EncodableArrayOfFixedIntegerRanges':
    case 'EncodableArrayOfOptimizedFibonacciRanges':
      return randomRestrictions(rng, mode);
    default:
      throw new Error(`${section.name}.${name}: no generator for ${type}`);
  }
}

/**
 * A whole section model: every field of every segment, as the reference
 * decodes it. An optional sub-section (GPC, sensitive data consents) is in or
 * out at random; when out, its fields keep their defaults, because that is
 * all a string without it can say.
 */
export function randomSection(rng, name, mode = 'random', { included } = {}) {
  const section = SECTION_BY_NAME.get(name);
  const model = {};
  for (const segment of section.segments) {
    let isIn = true;
    if (segment.included) {
      isIn = included ?? (mode === 'random' ? rng.bool() : true);
      model[segment.included] = isIn;
    }
    for (const field of segment.fields) {
      model[field.name] = isIn ? fieldValue(rng, mode, section, field, model) : field.default;
    }
  }
  if (name === 'tcfeuv2') model.LastUpdated = model.Created; // the reference keeps them equal
  return model;
}

export const SECTION_NAMES = SECTIONS.map((s) => s.name);

/** A GPP model of one or more sections: `{sections: {name: fields}}`. */
export function randomGpp(rng, names, mode = 'random') {
  const sections = {};
  for (const name of SECTION_NAMES.filter((n) => names.includes(n))) {
    sections[name] = randomSection(rng, name, mode);
  }
  return { sections };
}

/** 2-5 distinct sections, at random. */
export function randomSectionMix(rng) {
  const names = new Set();
  for (let n = rng.int(2, 5); names.size < n;) names.add(rng.pick(SECTION_NAMES));
  return [...names];
}
