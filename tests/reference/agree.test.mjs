// Agreement of `nexaguard tcf decode` / `tcf encode` with the IAB reference
// library (@iabtechlabtcf/core), on random models, both ways.
//
//   node --test tests/reference/
//   AGREE_SEED=1234 AGREE_N=2000 node --test tests/reference/   # replay / more
//
// The binary is NEXAGUARD_BIN, else target/release/nexaguard, else
// target/debug/nexaguard.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng, seedFromEnv } from './lib/prng.mjs';
import {
  expectedFromReference,
  generateCase,
  generateFreeModel,
  referenceEncode,
} from './lib/gen.mjs';
import { referenceDecode, segmentTypes } from './lib/ref.mjs';
import { findBinary, runLines } from './lib/cli.mjs';
import { Disagreements } from './lib/compare.mjs';

const SEED = seedFromEnv('AGREE_SEED');
const N = Number(process.env.AGREE_N || 500);
const CONTEXT = `AGREE_SEED=${SEED} AGREE_N=${N}`;
console.log(`# reference agreement: ${CONTEXT}`);

/** Everything the tests share, computed once: generation is the slow part. */
let shared;
function setup() {
  if (shared) return shared;
  const bin = findBinary();
  const rng = new Rng(SEED);
  const cases = Array.from({ length: N }, () => generateCase(rng));
  const referenceStrings = cases.map(referenceEncode);
  const expected = cases.map(expectedFromReference);
  const freeModels = Array.from({ length: N }, () => generateFreeModel(rng));
  shared = { bin, cases, referenceStrings, expected, freeModels };
  return shared;
}

/** Our encodings of `models`, checked to be TC strings. */
function ourEncodings(bin, models) {
  const run = runLines(bin, ['tcf', 'encode'], models.map((m) => JSON.stringify(m)));
  const failed = run.lines.map((line, i) => [i, line]).filter(([, line]) => line.startsWith('{'));
  assert.deepEqual(failed, [], `tcf encode rejected models (${CONTEXT})`);
  assert.equal(run.status, 0, `tcf encode exit status (${CONTEXT})`);
  return run.lines;
}

test('nexaguard decodes reference-encoded strings to the model the reference wrote', (t) => {
  const { bin, referenceStrings, expected } = setup();
  t.diagnostic(`${CONTEXT}; binary ${bin}`);
  const run = runLines(bin, ['tcf', 'decode'], referenceStrings);
  const d = new Disagreements('reference strings decoded by nexaguard', CONTEXT);
  run.lines.forEach((line, i) => {
    d.compare(i, referenceStrings[i], JSON.parse(line), expected[i]);
  });
  d.assertNone();
  assert.equal(run.status, 0, 'tcf decode exit status with no bad line');
});

test('the reference decodes its own strings to the generated model (the expectation is sound)', () => {
  // The expectation embeds two reference behaviours (GVL-gap bridging of
  // restriction ranges, GVL-supplied language/versions); this proves the
  // generator models them exactly, so the test above compares against what
  // the strings really carry.
  const { referenceStrings, expected } = setup();
  const d = new Disagreements('reference strings decoded by the reference', CONTEXT);
  referenceStrings.forEach((s, i) => d.compare(i, s, referenceDecode(s), expected[i]));
  d.assertNone();
});

test('the reference decodes nexaguard encodings to the model given, and so does nexaguard', () => {
  const { bin, expected, freeModels } = setup();
  // Reference-representable models plus models only a decoder sees: legitimate
  // interest for purposes 1 and 3-6, vendor ids up to 65535, any letters and
  // policy version, restrictions for purposes up to 63.
  const models = [...expected, ...freeModels];
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
    byReference.compare(i, s, got, models[i]);
  });
  byReference.assertNone();

  const back = runLines(bin, ['tcf', 'decode'], ours);
  const byUs = new Disagreements('nexaguard encodings decoded by nexaguard', CONTEXT);
  back.lines.forEach((line, i) => byUs.compare(i, ours[i], JSON.parse(line), models[i]));
  byUs.assertNone();
  assert.equal(back.status, 0);
});

test('nexaguard encodings are never longer than the reference encoding, segment by segment', (t) => {
  // Same content on both sides: `expected` is exactly what each reference
  // string carries (restriction ranges included), so the comparison is of
  // two encodings of one model. Segment by segment because the reference
  // pads each segment to 24 bits and we pad to 8, and chooses bit field or
  // range per vendor section; both rules must leave every one of our
  // segments no longer than its counterpart. We omit an empty publisher TC
  // segment that the reference writes for service-specific strings; that only
  // makes ours shorter, and the whole-string check covers it.
  const { bin, referenceStrings, expected } = setup();
  const ours = ourEncodings(bin, expected);
  const d = new Disagreements('encodings longer than the reference', CONTEXT);
  let ourTotal = 0;
  let refTotal = 0;
  let shorter = 0;
  ours.forEach((s, i) => {
    const ref = referenceStrings[i];
    ourTotal += s.length;
    refTotal += ref.length;
    if (s.length < ref.length) shorter += 1;
    if (s.length > ref.length) {
      d.fail(i, ref, `ours is ${s.length} characters, the reference ${ref.length}: ${s}`);
      return;
    }
    const refByType = new Map(segmentTypes(ref).map((type, k) => [type, ref.split('.')[k]]));
    segmentTypes(s).forEach((type, k) => {
      const seg = s.split('.')[k];
      const refSeg = refByType.get(type);
      if (refSeg === undefined) {
        d.fail(i, ref, `ours has a segment of type ${type} the reference has not: ${s}`);
      } else if (seg.length > refSeg.length) {
        d.fail(i, ref, `segment type ${type}: ours ${seg.length} characters, reference ${refSeg.length}`);
      }
    });
  });
  d.assertNone();
  t.diagnostic(
    `total characters: nexaguard ${ourTotal}, reference ${refTotal} `
      + `(${((1 - ourTotal / refTotal) * 100).toFixed(1)}% shorter); ${shorter} of ${ours.length} strictly shorter`,
  );
});
