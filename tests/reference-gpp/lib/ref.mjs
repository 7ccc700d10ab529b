// The reference side: @iabgpp/cmpapi's encoder classes (GppModel), used
// directly in node. The CmpApi class wants a browser `window` for `__gpp`;
// the encoder does not, and importing the package needs no DOM.
//
// Two things live here:
// - SECTIONS, every section the reference encodes, read from the reference's
//   own segment definitions (field names, types, widths, defaults and
//   validators), so a section the pinned version adds is covered without
//   editing this file;
// - referenceEncode / referenceDecode between a GPP string and the JSON form
//   of `nexaguard gpp decode` (field names exactly the reference's).

import {
  GppModel,
  HeaderV1,
  RangeEntry,
  Sections,
  TcfEuV2,
} from '@iabgpp/cmpapi';
import * as cmpapi from '@iabgpp/cmpapi';

/** The boolean fields that say whether an optional sub-section is in the string. */
export const INCLUDED_FLAGS = ['GpcSegmentIncluded', 'SensitiveDataConsentSegmentIncluded'];

const DATE_FIELDS = new Set(['Created', 'LastUpdated']);

function describeField(name, f) {
  const type = f.constructor.name;
  const d = { name, type };
  if (f.bitStringLength !== undefined) d.bits = f.bitStringLength;
  if (f.elementBitStringLength !== undefined) d.bits = f.elementBitStringLength;
  if (f.numElements !== undefined) d.numElements = f.numElements;
  if (f.stringLength !== undefined) d.stringLength = f.stringLength;
  d.default = f.value;
  // The values the reference accepts, for the small integer fields it
  // validates (0..2 for the notice, opt-out and consent fields, 1..2 for
  // MspaCoveredTransaction): probed from its own validator.
  if (f.validator && (type === 'EncodableFixedInteger' || type === 'EncodableFixedIntegerList')) {
    const probe = (v) => (type === 'EncodableFixedIntegerList' ? [v] : v);
    d.allowed = [];
    for (let v = 0; v < 2 ** d.bits; v++) if (f.validator.test(probe(v))) d.allowed.push(v);
  }
  return d;
}

/**
 * Every section of the pinned reference, in GPP order (by section id):
 * `{ name, id, version, segments: [{ fields: [...], included }] }`, where
 * `included` names the flag of an optional sub-section (GPC, sensitive data).
 */
export const SECTIONS = Sections.SECTION_ORDER.map((name) => {
  const cls = Object.values(cmpapi).find(
    (c) => typeof c === 'function' && c.NAME === name && c.ID !== undefined,
  );
  if (!cls) throw new Error(`no section class for ${name}`);
  const section = new cls();
  const segments = section.segments.map((seg) => {
    const names = seg.getFieldNames();
    const fields = names.map((n) => describeField(n, seg.fields.get(n)));
    const included = INCLUDED_FLAGS.find((flag) => seg.fields.containsKey(flag));
    return { fields, included };
  });
  return { name, id: cls.ID, version: cls.VERSION, segments };
});

export const SECTION_BY_NAME = new Map(SECTIONS.map((s) => [s.name, s]));

/** A plain JSON value: Dates as ISO strings, RangeEntry as {key, type, ids}. */
const plain = (v) => JSON.parse(JSON.stringify(v));

/**
 * The JSON `nexaguard gpp decode` prints, computed with the reference:
 * `{gppString, version, sectionIds, sections: {name: {Field: value}}}`.
 * Each section object is the reference's `toObj()` (every field of every
 * segment, defaults for a sub-section the string does not carry) plus the
 * sub-section flags (`GpcSegmentIncluded`, `SensitiveDataConsentSegmentIncluded`),
 * which the reference keeps as fields but leaves out of `toObj()`.
 * Throws what the reference throws for a string it cannot decode.
 */
export function referenceDecode(gppString) {
  const model = new GppModel(gppString);
  const sectionIds = model.getSectionIds();
  const header = new HeaderV1(gppString.split('~')[0]);
  const sections = {};
  for (const name of Sections.SECTION_ORDER) {
    if (!model.hasSection(name)) continue;
    const obj = plain(model.getSection(name));
    // (GppModel.hasField looks only at the toObj() names, so ask the section.)
    const section = model.sections.get(name);
    for (const flag of INCLUDED_FLAGS) {
      if (section.segments.some((seg) => seg.hasField(flag))) obj[flag] = section.getFieldValue(flag);
    }
    sections[name] = obj;
  }
  return { gppString, version: header.getFieldValue('Version'), sectionIds, sections };
}

/** A JSON field value as the reference's setter wants it. */
function toReferenceValue(field, value) {
  if (DATE_FIELDS.has(field)) return new Date(value);
  if (field === 'PublisherRestrictions' || field === 'PubRestrictions') {
    return value.map((e) => new RangeEntry(e.key, e.type, [...e.ids]));
  }
  return Array.isArray(value) ? [...value] : value;
}

/**
 * Order in which to set a section's fields on the reference. The TCF sections
 * restamp Created/LastUpdated whenever another field is set, so the dates go
 * last; NumCustomPurposes sizes the custom purpose bit fields, so it goes
 * before them.
 */
function setOrder(fields) {
  const rank = (k) => (DATE_FIELDS.has(k) ? 2 : k === 'NumCustomPurposes' ? 0 : 1);
  return Object.keys(fields).sort((a, b) => rank(a) - rank(b));
}

/**
 * Encodes `{sections: {name: {Field: value}}}` (the JSON form; fields left
 * out keep the reference's defaults) with the reference and returns the GPP
 * string.
 */
export function referenceEncode(json) {
  const model = new GppModel();
  for (const [name, fields] of Object.entries(json.sections)) {
    if (!SECTION_BY_NAME.has(name)) throw new Error(`the reference has no section ${name}`);
    // Create the section even when no field is given: set its first field
    // (Version or MspaVersion) to its default.
    const [first] = SECTION_BY_NAME.get(name).segments[0].fields;
    model.setFieldValue(name, first.name, first.default);
    for (const field of setOrder(fields)) {
      model.setFieldValue(name, field, toReferenceValue(field, fields[field]));
    }
    // Setting Created on TcfEuV2 also sets LastUpdated (and the other way
    // round): the reference always writes them equal.
    if (name === TcfEuV2.NAME && fields.Created !== undefined && fields.LastUpdated !== undefined
      && fields.Created !== fields.LastUpdated) {
      throw new Error('the reference writes tcfeuv2 with Created equal to LastUpdated');
    }
  }
  return model.encode();
}
