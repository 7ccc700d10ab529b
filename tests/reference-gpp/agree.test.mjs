// Agreement of `nexaguard gpp decode` / `gpp encode` with the IAB GPP
// reference library (@iabgpp/cmpapi, pinned in package.json), on random
// section models for every section the reference encodes, both ways:
//
//   (a) the reference encodes, nexaguard decodes: field by field;
//   (b) nexaguard encodes the same models, the reference decodes them: field
//       by field, and our string is compared with the reference's byte for byte.
//
//   node --test tests/reference-gpp/
//   GPP_SEED=1234 GPP_PER_SECTION=500 node --test tests/reference-gpp/   # replay / more
//
// The binary is NEXAGUARD_BIN, else target/release/nexaguard, else
// target/debug/nexaguard. Everything goes through one process per direction
// (JSON Lines / one string per line on standard input).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng, seedFromEnv } from '../reference/lib/prng.mjs';
import { findBinary, runLines } from '../reference/lib/cli.mjs';
import { Disagreements } from '../reference/lib/compare.mjs';
import { randomGpp, randomSectionMix, SECTION_NAMES } from './lib/gen.mjs';
import { referenceDecode, referenceEncode } from './lib/ref.mjs';
import { compareGpp, KNOWN_BYTE_DIFFERENCES, sectionsOf } from './lib/compare-gpp.mjs';

const SEED = seedFromEnv('GPP_SEED');
const PER_SECTION = Number(process.env.GPP_PER_SECTION || 150);
const MIXED = Number(process.env.GPP_MIXED || 600);
const CONTEXT = `GPP_SEED=${SEED} GPP_PER_SECTION=${PER_SECTION} GPP_MIXED=${MIXED}`;
console.log(`# GPP reference agreement: ${CONTEXT}`);

/** Everything the tests share, computed once. */
let shared;
function setup() {
  if (shared) return shared;
  const bin = findBinary();
  const rng = new Rng(SEED);
  const models = [];
  // Every section on its own, PER_SECTION times, then mixes of 2-5 sections.
  for (let k = 0; k < PER_SECTION; k++) {
    for (const name of SECTION_NAMES) models.push(randomGpp(rng, [name]));
  }
  for (let k = 0; k < MIXED; k++) models.push(randomGpp(rng, randomSectionMix(rng)));
  const referenceStrings = models.map(referenceEncode);
  const expected = referenceStrings.map(referenceDecode);
  shared = { bin, models, referenceStrings, expected };
  return shared;
}

/** How many models carry each section, for the diagnostics. */
function coverage(models) {
  const counts = Object.fromEntries(SECTION_NAMES.map((n) => [n, 0]));
  for (const m of models) for (const n of Object.keys(m.sections)) counts[n] += 1;
  return Object.entries(counts).map(([n, c]) => `${n} ${c}`).join(', ');
}

/** Our encodings of `models`, each checked to be a string and not an error line. */
function ourEncodings(bin, models) {
  const run = runLines(bin, ['gpp', 'encode'], models.map((m) => JSON.stringify(m)));
  const failed = run.lines
    .map((line, i) => [i, line])
    .filter(([, line]) => line.startsWith('{'))
    .map(([i, line]) => `#${i} ${JSON.stringify(models[i]).slice(0, 300)}\n    ${line}`);
  assert.deepEqual(failed.slice(0, 8), [], `gpp encode rejected ${failed.length} models (${CONTEXT})`);
  assert.equal(run.status, 0, `gpp encode exit status (${CONTEXT})`);
  return run.lines;
}

test('the reference decodes its own strings to the generated model (the expectation is sound)', (t) => {
  // The generator and referenceEncode/referenceDecode are test code: this
  // proves that what the tests below expect is exactly what each string
  // carries, field by field.
  const { models, referenceStrings, expected } = setup();
  t.diagnostic(`${models.length} models; sections: ${coverage(models)}`);
  const d = new Disagreements('reference strings decoded by the reference', CONTEXT);
  expected.forEach((got, i) => {
    for (const [name, fields] of Object.entries(models[i].sections)) {
      d.compare(i, `${referenceStrings[i]} ${name}`, got.sections[name] ?? {}, fields);
    }
  });
  d.assertNone();
});

test('(a) nexaguard decodes reference-encoded strings, field by field, to what the reference decodes', (t) => {
  const { bin, referenceStrings, expected } = setup();
  t.diagnostic(`${CONTEXT}; binary ${bin}; ${referenceStrings.length} strings`);
  const run = runLines(bin, ['gpp', 'decode'], referenceStrings);
  const d = new Disagreements('reference strings decoded by nexaguard', CONTEXT);
  run.lines.forEach((line, i) => compareGpp(d, i, referenceStrings[i], JSON.parse(line), expected[i]));
  d.assertNone();
  assert.equal(run.status, 0, 'gpp decode exit status with no bad line');
});

test('(b) the reference decodes nexaguard encodings to the model given, and so does nexaguard', () => {
  const { bin, models } = setup();
  const ours = ourEncodings(bin, models);
  const byReference = new Disagreements('nexaguard encodings decoded by the reference', CONTEXT);
  ours.forEach((s, i) => {
    let got;
    try {
      got = referenceDecode(s);
    } catch (e) {
      byReference.fail(i, s, `the reference cannot decode it: ${e.message}`);
      return;
    }
    for (const [name, fields] of Object.entries(models[i].sections)) {
      byReference.compare(i, `${s} ${name}`, got.sections[name] ?? {}, fields);
    }
    const extra = Object.keys(got.sections).filter((n) => !(n in models[i].sections));
    if (extra.length > 0) byReference.fail(i, s, `sections not in the model: ${extra.join(', ')}`);
  });
  byReference.assertNone();

  const back = runLines(bin, ['gpp', 'decode'], ours);
  const byUs = new Disagreements('nexaguard encodings decoded by nexaguard', CONTEXT);
  back.lines.forEach((line, i) => {
    const got = JSON.parse(line);
    for (const [name, fields] of Object.entries(models[i].sections)) {
      byUs.compare(i, `${ours[i]} ${name}`, got.sections?.[name] ?? {}, fields);
    }
  });
  byUs.assertNone();
  assert.equal(back.status, 0);
});

test('(b) nexaguard writes the same string as the reference, byte for byte', (t) => {
  // Compared section by section (split on `~`) so that a difference names
  // the section. KNOWN_BYTE_DIFFERENCES (lib/compare-gpp.mjs) lists the
  // documented cases where both strings are valid and carry the same
  // values but the bits differ; those are counted, not failed, and the
  // field-by-field test above still holds them to the same values.
  const { bin, models, referenceStrings } = setup();
  const ours = ourEncodings(bin, models);
  const d = new Disagreements('nexaguard strings differing from the reference', CONTEXT);
  const known = new Map();
  let identical = 0;
  ours.forEach((s, i) => {
    const ref = referenceStrings[i];
    if (s === ref) {
      identical += 1;
      return;
    }
    const mine = sectionsOf(s);
    const theirs = sectionsOf(ref);
    if (mine.header !== theirs.header) {
      d.fail(i, ref, `header: ours ${mine.header}, reference ${theirs.header} (ours: ${s})`);
      return;
    }
    theirs.parts.forEach((refPart, k) => {
      const name = theirs.names[k];
      const ourPart = mine.parts[k];
      if (ourPart === refPart) return;
      const excuse = KNOWN_BYTE_DIFFERENCES[name]?.(ourPart, refPart, models[i].sections[name]);
      if (excuse) {
        known.set(excuse, (known.get(excuse) ?? 0) + 1);
        return;
      }
      d.fail(i, ref, `${name}: ours ${ourPart}, reference ${refPart}`);
    });
  });
  d.assertNone();
  t.diagnostic(`${identical} of ${ours.length} strings identical to the reference's`);
  for (const [excuse, n] of known) t.diagnostic(`${n} section(s) differing as documented: ${excuse}`);
});
