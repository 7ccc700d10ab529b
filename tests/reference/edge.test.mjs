// Fixed strings: TC strings from the wild and from other libraries' test
// suites, hand-made edge cases, the streaming contract, and the places where
// nexaguard is deliberately stricter than the reference library.
//
//   node --test tests/reference/

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { TCString } from '@iabtechlabtcf/core';
import { referenceDecode } from './lib/ref.mjs';
import { findBinary, runLines } from './lib/cli.mjs';
import { differingProperties } from './lib/compare.mjs';
import { coreSegment, noVendors } from './lib/bits.mjs';

/** Strings real CMPs wrote, as published in open-source TCF libraries' tests. */
const WILD = {
  // CMP 92 in production: core with bit fields, disclosed vendors, and a
  // publisher TC segment with two custom purposes (SirDataFR/iabtcfv2 tests).
  'cmp 92, three segments':
    'COxR03kOxR1CqBcABCENAgCMAP_AAH_AAAqIF3EXySoGY2thI2YVFxBEIYwfJxyigMgChgQIsSwNQIeFLBoGLiAAHBGYJAQAGBAEEACBAQIkHGBMCQAAgAgBiRCMQEGMCzNIBIBAggEbY0FACCVmHkHSmZCY7064O__QLuIJEFQMAkSBAIACLECIQwAQDiAAAYAlAAABAhIaAAgIWBQEeAAAACAwAAgAAABBAAACAAQAAICIAAABAAAgAiAQAAAAGgIQAACBABACRIAAAEANCAAgiCEAQg4EAo4AAA.IF3EXySoGY2tho2YVFzBEIYwfJxyigMgShgQIsS0NQIeFLBoGPiAAHBGYJAQAGBAkkACBAQIsHGBMCQABgAgRiRCMQEGMDzNIBIBAggkbY0FACCVmnkHS3ZCY70-6u__QA.elAAAAAAAWA',
  // Publisher restrictions in range encoding plus a publisher TC segment
  // (SirDataFR/iabtcfv2 tests).
  'cmp 92, restrictions and publisher TC':
    'COy7f9HOy7f_1BcABBENAjCoAPKAAFKAAAqIDaQCQABAAVAAyACAAFoANQAkgEdANoA2kAYAAQAFQAMgAgABaAbQAUMAQAAEABUADIAIAAWgBJgDCAMQA9ACEAEdAKuAXUAwIBhADRAG0FAEQABAAVAAyACAAFoANQAkwBhAGIAegBCACOgFXALqAYEAwgBogDaDACIAAgAKgAZABAAC0AGoASYAwgDEAPQAhABHQCrgF1AMCAYQA0QBtCABEAAQAFQAMgAgABaADUAJMAYQBiAHoAQgAjoBVwC6gGBAMIAaIA2hQAiAAIACoAGQAQAAtABqAEmAMIAxAD0AIQAR0Aq4BdQDAgGEANEAbQA.cAAACAAAAUg',
  // A vendor restricted under several purposes, restrictions written per
  // purpose (iabtcf-es issue 201).
  'cmp 31, many restrictions':
    'CO4VGswO4VGswAfZCBDEAzCsAP_AAH_AAAigGUNf_X9fb2vj-_599_t0eY1f9_63t-wzjheMs-8NyZ-X_J4Wv2MyvB34JqQKGRgkunLBAQdtHGncTQgBwIlViTLMY02MjzNKJrJEilsbe2dYGH9vn8XT_ZKZ70-_v__7v3___33_5Ayhr_6_r7e18f3_Pvv9ujzGr_v_W9v2GccLxln3huTPy_5PC1-xmV4O_BNSBQyMEl05YICDto407iaEAOBEqsSZZjGmxkeZpRNZIkUtjb2zrAw_t8_i6f7JTPen39___d-___--__ICgKAOAAcAA4AFAAjgB6AEYALcGACAW0AtoJAHAAOAAcACgARwA9ACMAFuFABALaAW0GgDgAHAAOABQAI4AegBGAC3DgAgFtALaEQBwADgAHAAoAEcAPQAjABbiQAQC2gFtCoA4ABwADgAUACOAHoARgAtxYAIBbQC2hkAcAA4ABwAKABHAD0AIwAW40AEAtoBbQ6AOAAcAA4AFAAjgB6AEYALceACAW0AtohAHAAOAAcACgARwA9ACMAFuRABALaAW0SgDgAHAAOABQAI4AegBGAC3JgAgFtALaKQBwADgAHAAoAEcAPQAjABblQAQC2gFtA',
  // Policy version 5 (TCF v2.3), range-encoded vendors (mifefr consent-string tests).
  'policy version 5': 'CQXEyXAQXEyXAAHABDENBkFqAOAAAAwAAAqIAFCEABSAFAAQABgAJgAjoAIACA',
  // CMP 681 in production: nothing consented (mifefr consent-string tests).
  'cmp 681, empty': 'COwxsONOwxsONKpAAAENAdCAAMAAAAAAAAAAAAAAAAAA',
  // The core above with an allowed vendors segment from the same test suite.
  'allowed vendors segment':
    'CQXEyXAQXEyXAAHABDENBkFqAOAAAAwAAAqIAFCEABSAFAAQABgAJgAjoAIACA.QF3QAgABAA1A',
};

/** Hand-made strings no encoder writes but a decoder must read. */
const CRAFTED = {
  'overlapping vendor ranges': coreSegment({
    consents: (b) => b.int(12, 16).bool(true).entries([[5, 10], [7, 12]]),
    legitimateInterests: noVendors,
  }),
  'vendor ranges out of order': coreSegment({
    consents: (b) => b.int(12, 16).bool(true).entries([[11, 12], [2], [5, 6]]),
    legitimateInterests: noVendors,
  }),
  'MaxVendorId above the last range': coreSegment({
    consents: (b) => b.int(40, 16).bool(true).entries([[2]]),
    legitimateInterests: noVendors,
  }),
  'range encoding with no entries': coreSegment({
    consents: (b) => b.int(40, 16).bool(true).entries([]),
    legitimateInterests: (b) => b.int(3, 16).bool(false).set([1, 3], 3),
  }),
  'overlapping restriction ranges': coreSegment({
    consents: noVendors,
    legitimateInterests: noVendors,
    restrictions: (b) => b.int(1, 12).int(2, 6).int(1, 2).entries([[3, 8], [5, 10]]),
  }),
};

function ourDecode(bin, tc) {
  return JSON.parse(execFileSync(bin, ['tcf', 'decode', tc], { encoding: 'utf8' }));
}

function assertAgree(bin, name, tc) {
  const diffs = differingProperties(ourDecode(bin, tc), referenceDecode(tc));
  assert.deepEqual(diffs, [], `${name}: ${tc}`);
}

test('strings from the wild decode as the reference decodes them', () => {
  const bin = findBinary();
  for (const [name, tc] of Object.entries(WILD)) assertAgree(bin, name, tc);
});

test('hand-made edge cases decode as the reference decodes them', () => {
  const bin = findBinary();
  for (const [name, tc] of Object.entries(CRAFTED)) assertAgree(bin, name, tc);
});

test('a bad line in the stream answers an error on its own line and the rest goes on', () => {
  const bin = findBinary();
  const good = Object.values(WILD);
  const lines = [good[0], 'not a TC string', good[1], '', good[2]];
  const run = runLines(bin, ['tcf', 'decode'], lines);
  assert.equal(run.status, 1, 'exit status 1 when a line failed');
  const out = run.lines.map((l) => JSON.parse(l));
  for (const i of [1, 3]) {
    assert.equal(typeof out[i].error?.code, 'string', `line ${i}: ${run.lines[i]}`);
    assert.equal(typeof out[i].error?.message, 'string', `line ${i}: ${run.lines[i]}`);
  }
  assert.deepEqual(differingProperties(out[0], referenceDecode(good[0])), []);
  assert.deepEqual(differingProperties(out[2], referenceDecode(good[1])), []);
  assert.deepEqual(differingProperties(out[4], referenceDecode(good[2])), []);
});

test('nexaguard rejects, with a typed error, strings the reference reads leniently', () => {
  // The reference library accepts each of these and returns something; the
  // issue asks us to reject them, naming the field. Only our side is
  // asserted: that each is an error line with a code, never a model.
  const bin = findBinary();
  const cmp92 = WILD['cmp 92, three segments'];
  const [core, disclosed, publisher] = cmp92.split('.');
  const lenient = {
    // The reference reads ids past MaxVendorId as if they were in range.
    'vendor id past MaxVendorId': coreSegment({
      consents: (b) => b.int(5, 16).bool(true).entries([[2], [9]]),
      legitimateInterests: noVendors,
    }),
    // The reference reads a reversed range as no vendors at all.
    'reversed vendor range': coreSegment({
      consents: (b) => b.int(12, 16).bool(true).entries([[9, 4]]),
      legitimateInterests: noVendors,
    }),
    // The reference decodes version 1 strings (TCF v1.1, iabtcf-es issue
    // 156); we read only v2.
    'TCF v1.1 string':
      'BOhwdphOxFC7tAHABBFRC--AAAAuhr_7__7-_9_-_f__9uj3Or_v_f__32ccL59v_h_7v-_7fi_20nV4u_1vft9yfk1-5ctDztp507iakivXmqdeb9v_nz3_5pxP78k89r7337Ew_v8_v-b7BCON_YxEiA',
    // The reference lets a later segment of a type overwrite an earlier one.
    'repeated segment': `${core}.${disclosed}.${disclosed}`,
    // The core segment must come first.
    'publisher TC before the core': `${publisher}.${core}.${disclosed}`,
  };
  for (const [name, tc] of Object.entries(lenient)) {
    assert.doesNotThrow(() => TCString.decode(tc), `the reference reads ${name}`);
  }
  const run = runLines(bin, ['tcf', 'decode'], Object.values(lenient));
  assert.equal(run.status, 1);
  Object.keys(lenient).forEach((name, i) => {
    const out = JSON.parse(run.lines[i]);
    assert.equal(typeof out.error?.code, 'string', `${name}: ${run.lines[i]}`);
  });
});

test('both reject a bit field shorter than its MaxVendorId (iabtcf-es issue 142)', () => {
  const bin = findBinary();
  const tc = 'CLSYjTaOngnCIAOABBENAXCMAGOAABBAAA7IA5n-m7fP6_3fbqVv6E__PoA5Aqff3aJx8tv_1967rfnQEQoAIAAQCrwkAEABAcACABIMACAAuApEVABABUSABgBCAVSAtIoACACIArYQAHACgAFgAVwBJgDcAI7AWgMAAgBiKgAgBMgFfKQAQBRkQAQA4AFiBAAoA-AEVAJlAVgAtYcACAJcAr4eABAK8OgBgFzAOmAqwgABAWyA.IFukWSQh';
  assert.throws(() => TCString.decode(tc));
  const run = runLines(bin, ['tcf', 'decode'], [tc]);
  assert.equal(run.status, 1);
  assert.equal(JSON.parse(run.lines[0]).error.code, 'truncated');
});

// Known disagreements, found by this suite and reported; `todo` keeps them
// visible in every run without failing it. Drop `todo` once fixed.

test('a timestamp between deciseconds is rounded as the reference rounds it', {
  todo: 'nexaguard truncates to deciseconds; the reference rounds (Math.round(ms / 100))',
}, () => {
  const bin = findBinary();
  const json = { cmpId: 7, created: '2024-05-01T00:00:00.750Z', lastUpdated: '2024-05-01T00:00:00.049Z' };
  const [ours] = runLines(bin, ['tcf', 'encode'], [JSON.stringify(json)]).lines;
  const decoded = referenceDecode(ours);
  assert.equal(decoded.created, '2024-05-01T00:00:00.800Z');
  assert.equal(decoded.lastUpdated, '2024-05-01T00:00:00.000Z');
});

test('a restriction entry with no vendors decodes as the reference decodes it (absent)', {
  todo: 'nexaguard prints {purposeId, restrictionType, vendorIds: []}; the reference has no such restriction',
}, () => {
  const bin = findBinary();
  const tc = coreSegment({
    consents: noVendors,
    legitimateInterests: noVendors,
    restrictions: (b) => b.int(1, 12).int(2, 6).int(1, 2).entries([]),
  });
  assertAgree(bin, 'empty restriction', tc);
});

test('a repeated purpose and restriction type decodes as the reference decodes it (merged)', {
  todo: 'nexaguard prints two entries with the same purposeId and restrictionType; the reference merges them',
}, () => {
  const bin = findBinary();
  const tc = coreSegment({
    consents: noVendors,
    legitimateInterests: noVendors,
    restrictions: (b) => b.int(2, 12)
      .int(2, 6).int(1, 2).entries([[3]])
      .int(2, 6).int(1, 2).entries([[5]]),
  });
  assertAgree(bin, 'repeated restriction', tc);
});
