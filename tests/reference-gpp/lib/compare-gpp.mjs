// Comparison of two decoded GPP objects (the JSON of `nexaguard gpp decode`),
// header and section by section, field by field, and the documented cases in
// which two encoders may write different bits for the same values.

import { differingProperties } from '../../reference/lib/compare.mjs';
import { isDeepStrictEqual } from 'node:util';
import { HeaderV1, Sections } from '@iabgpp/cmpapi';
import { referenceDecode } from './ref.mjs';

/**
 * Records in `d` (a Disagreements) every difference between `got` and `want`
 * for item `i`: the header fields, the set of sections, and each section's
 * fields (named `section.Field`).
 */
export function compareGpp(d, i, what, got, want) {
  if (got.error) {
    d.fail(i, what, `nexaguard answered an error: ${JSON.stringify(got.error)}`);
    return;
  }
  const header = differingProperties(
    { gppString: got.gppString, version: got.version, sectionIds: got.sectionIds },
    { gppString: want.gppString, version: want.version, sectionIds: want.sectionIds },
  );
  const names = new Set([...Object.keys(got.sections ?? {}), ...Object.keys(want.sections)]);
  const fields = [];
  for (const name of names) {
    if (!(name in want.sections)) fields.push(`${name}: a section the string does not carry`);
    else if (!got.sections || !(name in got.sections)) fields.push(`${name}: missing`);
    else {
      for (const line of differingProperties(got.sections[name], want.sections[name])) {
        fields.push(`${name}.${line}`);
      }
    }
  }
  const all = [...header, ...fields];
  if (all.length > 0) d.fail(i, what, all.join('\n    '));
  else d.checked += 1;
}

/** A GPP string's header, its section strings and their section names. */
export function sectionsOf(gppString) {
  const [header, ...parts] = gppString.split('~');
  let ids = [];
  try {
    ids = new HeaderV1(header).getFieldValue('SectionIds');
  } catch {
    // an undecodable header: names stay unknown
  }
  return { header, parts, names: parts.map((_, k) => Sections.SECTION_ID_NAME_MAP.get(ids[k]) ?? `#${k}`) };
}

/**
 * Sections whose bits may differ from the reference's while carrying the
 * same values: `(ours, reference, model) => excuse or undefined`. Each entry
 * says why, and which side NexaGuard follows. Anything not excused here must
 * be byte-identical.
 */
export const KNOWN_BYTE_DIFFERENCES = {
  tcfeuv2: (ours, ref) => {
    // tcfeuv2 is written by crates/tcf, as a stand-alone TC string
    // (docs/tcf.md). Two documented differences with the reference, which
    // leave the values the same (the field-by-field tests check that):
    const mine = ours.split('.');
    const theirs = ref.split('.');
    if (mine.length !== theirs.length) return undefined;
    const trim = (seg) => seg.replace(/A+$/, '');
    // 1. Padding: each segment is padded with zero bits to a whole byte,
    //    where @iabgpp/cmpapi (like @iabtechlabtcf/core) pads to 24 bits, so
    //    ours may be shorter by trailing 'A's (zero characters).
    if (mine.every((seg, k) => trim(seg) === trim(theirs[k]))) {
      return 'tcfeuv2: padded to 8 bits where the reference pads to 24 (trailing zero characters)';
    }
    // 2. Vendor sets for which bit field and range encoding have the same
    //    length: crates/tcf writes the bit field, the reference the range.
    //    Same values (the reference decodes both alike) and the same length
    //    once padded as the reference pads.
    const padded = (seg) => Math.ceil((seg.length * 6) / 24) * 4;
    try {
      const a = referenceDecode(`DBABMA~${ours}`).sections.tcfeuv2;
      const b = referenceDecode(`DBABMA~${ref}`).sections.tcfeuv2;
      if (isDeepStrictEqual(a, b) && mine.every((seg, k) => padded(seg) === theirs[k].length)) {
        return 'tcfeuv2: bit field where the reference writes a range of the same length';
      }
    } catch {
      // not excused
    }
    return undefined;
  },
};
