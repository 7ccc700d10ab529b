// Comparison of two decoded GPP objects (the JSON of `nexaguard gpp decode`),
// header and section by section, field by field, and the documented cases in
// which two encoders may write different bits for the same values.

import { differingProperties } from '../../reference/lib/compare.mjs';
import { HeaderV1, Sections } from '@iabgpp/cmpapi';

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
export const KNOWN_BYTE_DIFFERENCES = {};
