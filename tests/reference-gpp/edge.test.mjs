// Edge strings: what the reference (@iabgpp/cmpapi) writes for edge values
// (every field at its smallest and largest value, sub-sections in and out,
// empty lists, every section in one string), the GPP specification's own
// examples and strings from the wild, the streaming contract, and the cases
// where the reference and the specification part ways.
//
//   node --test tests/reference-gpp/

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { Rng } from '../reference/lib/prng.mjs';
import { findBinary, runLines } from '../reference/lib/cli.mjs';
import { Disagreements } from '../reference/lib/compare.mjs';
import { randomGpp, randomSection, SECTION_NAMES } from './lib/gen.mjs';
import { referenceDecode, referenceEncode, SECTION_BY_NAME } from './lib/ref.mjs';
import { compareGpp, KNOWN_BYTE_DIFFERENCES, sectionsOf } from './lib/compare-gpp.mjs';

const CONTEXT = 'edge strings (fixed, no seed)';

/** Named GPP models for edge values; each is encoded by the reference. */
function edgeModels() {
  const rng = new Rng(14); // only for the few random sections of the mixes below
  const cases = [];
  for (const name of SECTION_NAMES) {
    const optional = SECTION_BY_NAME.get(name).segments.some((s) => s.included);
    cases.push([`${name}: all fields at their minimum`, { sections: { [name]: randomSection(rng, name, 'min') } }]);
    cases.push([`${name}: all fields at their maximum`, { sections: { [name]: randomSection(rng, name, 'max') } }]);
    if (optional) {
      cases.push([`${name}: minimum, optional sub-section left out`, {
        sections: { [name]: randomSection(rng, name, 'min', { included: false }) },
      }]);
      cases.push([`${name}: maximum, optional sub-section left out`, {
        sections: { [name]: randomSection(rng, name, 'max', { included: false }) },
      }]);
    }
  }
  // usnat version 1 (12 sensitive data categories, 2 known child
  // categories): the reference still writes it, 11 characters.
  const v1 = (mode) => {
    const s = randomSection(rng, 'usnat', mode);
    return { ...s, Version: 1, SensitiveDataProcessing: s.SensitiveDataProcessing.slice(0, 12), KnownChildSensitiveDataConsents: s.KnownChildSensitiveDataConsents.slice(0, 2) };
  };
  cases.push(['usnat version 1, minimum', { sections: { usnat: v1('min') } }]);
  cases.push(['usnat version 1, maximum', { sections: { usnat: v1('max') } }]);
  // Every section the reference knows, in one string.
  cases.push(['every section, minimum', randomGpp(rng, SECTION_NAMES, 'min')]);
  cases.push(['every section, maximum', randomGpp(rng, SECTION_NAMES, 'max')]);
  cases.push(['every section, random', randomGpp(rng, SECTION_NAMES)]);
  // TCF EU in GPP with the US sections, as a CMP serving both writes it.
  cases.push(['tcfeuv2 + usnat + usca + usva + usco + usct', randomGpp(rng, ['tcfeuv2', 'usnat', 'usca', 'usva', 'usco', 'usct'])]);
  cases.push(['tcfeuv2 + uspv1 + usnat', randomGpp(rng, ['tcfeuv2', 'uspv1', 'usnat'])]);
  // Vendor sets on the boundary between bit field and range encoding. The
  // reference picks the range when the two are the same length; our TCF
  // codec picks the bit field (docs/tcf.md). Both are valid; see
  // KNOWN_BYTE_DIFFERENCES for the byte comparison.
  const euTie = randomSection(rng, 'tcfeuv2', 'min');
  euTie.VendorConsents = [29]; // bit field 29 bits = range 12 + 1 + 16 bits
  euTie.VendorsDisclosed = [29];
  cases.push(['tcfeuv2: vendor 29 alone (bit field and range the same length)', { sections: { tcfeuv2: euTie } }]);
  const caTie = randomSection(rng, 'tcfcav1', 'min');
  caTie.VendorExpressConsent = [20]; // bit field 20 bits = range 12 + 1 + Fibonacci(20) 7 bits
  caTie.DisclosedVendors = [20];
  cases.push(['tcfcav1: vendor 20 alone (bit field and range the same length)', { sections: { tcfcav1: caTie } }]);
  // tcfcav1 without disclosed vendors: the reference leaves the segment out.
  const caBare = randomSection(rng, 'tcfcav1');
  caBare.DisclosedVendors = [];
  cases.push(['tcfcav1 without disclosed vendors', { sections: { tcfcav1: caBare } }]);
  // Many custom purposes and long restriction lists.
  const eu = randomSection(rng, 'tcfeuv2', 'max');
  eu.PublisherRestrictions = Array.from({ length: 11 }, (_, k) => ({ key: k + 1, type: k % 3, ids: [k + 1, 100 + k, 65535 - k] }));
  cases.push(['tcfeuv2: eleven restrictions, 63 custom purposes', { sections: { tcfeuv2: eu } }]);
  return cases;
}

/**
 * Strings written by others: the GPP specification's examples and strings
 * published in other libraries' tests (an Elixir GPP parser's test suite).
 */
const FIXED = {
  'spec example: tcfeuv2 only': 'DBABMA~CPXxRfAPXxRfAAfKABENB-CgAAAAAAAAAAYgAAAAAAAA',
  'spec example: tcfeuv2 and uspv1': 'DBACNYA~CPXxRfAPXxRfAAfKABENB-CgAAAAAAAAAAYgAAAAAAAA~1YNN',
  'reference test suite: tcfeuv2 as GppModel writes it': 'DBABMA~CPSG_8APSG_8ANwAAAENAwCAAAAAAAAAAAAAAAAAAAAA.QAAA.IAAA',
  'uspv1 with no answers': 'DBABTA~1---',
  // A section id the reference does not know (30) after usnat: the
  // reference skips the section, and its sectionIds leave the id out.
  'unknown section id 30 after usnat': 'DBACLIY~CEAQAAAAAABA.QA~BAAA',
  // A TCF EU string filed under section id 5 (tcfcav1), as CMPs have
  // written; the reference refuses it, and so must we.
  'wild: a TCF EU string under the tcfcav1 id': 'DBABjw~CPXxRfAPXxRfAAfKABENB-CgAAAAAAAAAAYgAAAAAAAA~1YNN',
};

let cache;
function cases() {
  if (cache) return cache;
  const bin = findBinary();
  const named = edgeModels().map(([name, model]) => ({ name, model, string: referenceEncode(model) }));
  for (const c of named) c.expected = referenceDecode(c.string);
  cache = { bin, named };
  return cache;
}

test('the edge strings, as the reference writes them', (t) => {
  // Printed so that a failure below can be replayed by hand with
  // `nexaguard gpp decode STRING`.
  const { named } = cases();
  for (const c of named) t.diagnostic(`${c.name}: ${c.string}`);
  const d = new Disagreements('edge models decoded by the reference', CONTEXT);
  named.forEach((c, i) => {
    for (const [name, fields] of Object.entries(c.model.sections)) d.compare(i, `${c.name} ${name}`, c.expected.sections[name], fields);
  });
  d.assertNone();
});

test('nexaguard decodes the edge strings as the reference does', () => {
  const { bin, named } = cases();
  const run = runLines(bin, ['gpp', 'decode'], named.map((c) => c.string));
  const d = new Disagreements('edge strings decoded by nexaguard', CONTEXT);
  run.lines.forEach((line, i) => compareGpp(d, i, `${named[i].name}: ${named[i].string}`, JSON.parse(line), named[i].expected));
  d.assertNone();
  assert.equal(run.status, 0);
});

test('nexaguard encodes the edge models to strings the reference reads back, byte for byte where documented', () => {
  const { bin, named } = cases();
  const run = runLines(bin, ['gpp', 'encode'], named.map((c) => JSON.stringify(c.model)));
  const values = new Disagreements('edge models encoded by nexaguard, decoded by the reference', CONTEXT);
  const bytes = new Disagreements('edge models encoded by nexaguard, compared with the reference', CONTEXT);
  run.lines.forEach((ours, i) => {
    const c = named[i];
    if (ours.startsWith('{')) {
      values.fail(i, c.name, `gpp encode refused it: ${ours}`);
      return;
    }
    let got;
    try {
      got = referenceDecode(ours);
    } catch (e) {
      values.fail(i, `${c.name}: ${ours}`, `the reference cannot decode it: ${e.message}`);
      return;
    }
    for (const [name, fields] of Object.entries(c.model.sections)) values.compare(i, `${c.name}: ${ours} ${name}`, got.sections[name], fields);
    if (ours === c.string) return;
    const mine = sectionsOf(ours);
    const theirs = sectionsOf(c.string);
    theirs.parts.forEach((refPart, k) => {
      const name = theirs.names[k];
      if (mine.parts[k] === refPart) return;
      if (KNOWN_BYTE_DIFFERENCES[name]?.(mine.parts[k], refPart, c.model.sections[name])) return;
      bytes.fail(i, c.name, `${name}: ours ${mine.parts[k]}, reference ${refPart}`);
    });
    if (mine.header !== theirs.header) bytes.fail(i, c.name, `header: ours ${mine.header}, reference ${theirs.header}`);
  });
  values.assertNone();
  bytes.assertNone();
  assert.equal(run.status, 0);
});

test('fixed strings (specification examples, the wild) decode as the reference decodes them, or both refuse', () => {
  const bin = findBinary();
  const names = Object.keys(FIXED);
  const run = runLines(bin, ['gpp', 'decode'], Object.values(FIXED));
  const d = new Disagreements('fixed strings', CONTEXT);
  run.lines.forEach((line, i) => {
    const s = FIXED[names[i]];
    let want;
    try {
      want = referenceDecode(s);
    } catch (e) {
      if (!JSON.parse(line).error) d.fail(i, `${names[i]}: ${s}`, `the reference refuses it (${e.message}), nexaguard reads it`);
      return;
    }
    compareGpp(d, i, `${names[i]}: ${s}`, JSON.parse(line), want);
  });
  d.assertNone();
});

test('one string as an argument prints the same JSON as standard input, and --pretty only changes the layout', () => {
  const bin = findBinary();
  const s = FIXED['spec example: tcfeuv2 and uspv1'];
  const one = JSON.parse(execFileSync(bin, ['gpp', 'decode', s], { encoding: 'utf8' }));
  const pretty = execFileSync(bin, ['gpp', 'decode', s, '--pretty'], { encoding: 'utf8' });
  const [streamed] = runLines(bin, ['gpp', 'decode'], [s]).lines;
  assert.deepEqual(one, JSON.parse(streamed));
  assert.deepEqual(JSON.parse(pretty), one);
  assert.ok(pretty.split('\n').length > 3, 'pretty output spans lines');
});

test('a bad line in the stream answers an error on its own line, the rest goes on, exit 1 at the end', () => {
  const bin = findBinary();
  const good = FIXED['spec example: tcfeuv2 and uspv1'];
  // Bad: not base64url, more sections than the header lists, a blank
  // section, and an empty line. The reference refuses the first three; it
  // reads an empty string as a GPP string with no sections, but an empty
  // line in a stream is a mistake, and `nexaguard tcf decode` answers an
  // error for it too, so we do the same.
  const lines = [good, 'not a GPP string', good, '', 'DBABTA~1YNN~1YNN', 'DBABTA~', good];
  const run = runLines(bin, ['gpp', 'decode'], lines);
  assert.equal(run.status, 1, 'exit status 1 when a line failed');
  const out = run.lines.map((l) => JSON.parse(l));
  for (const i of [1, 3, 4, 5]) {
    assert.equal(typeof out[i].error?.code, 'string', `line ${i} (${JSON.stringify(lines[i])}): ${run.lines[i]}`);
    assert.equal(typeof out[i].error?.message, 'string', `line ${i}: ${run.lines[i]}`);
    if (i !== 3) assert.throws(() => referenceDecode(lines[i]), `the reference reads ${JSON.stringify(lines[i])}`);
  }
  for (const i of [0, 2, 6]) {
    const d = new Disagreements('good lines around bad ones', CONTEXT);
    compareGpp(d, i, good, out[i], referenceDecode(good));
    d.assertNone();
  }

  const enc = runLines(bin, ['gpp', 'encode'], ['{"sections":{"uspv1":{"Notice":"Y"}}}', 'not json', '{"sections":{"usnat":{"SaleOptOut":3}}}']);
  assert.equal(enc.status, 1);
  assert.equal(enc.lines[0], referenceEncode({ sections: { uspv1: { Notice: 'Y' } } }));
  for (const i of [1, 2]) assert.equal(typeof JSON.parse(enc.lines[i]).error?.code, 'string', enc.lines[i]);
});

test('encode fills missing fields with the reference defaults', () => {
  // Only "sections" is required, and a section may give any subset of its
  // fields: the rest take the reference's defaults (0 = not applicable,
  // MspaCoveredTransaction 1, GPC sub-section included, Gpc false, ...).
  const bin = findBinary();
  const models = [
    { sections: { usnat: {} } },
    { sections: { usca: { SaleOptOutNotice: 1, SaleOptOut: 1 } } },
    { sections: { usnat: { Gpc: true }, usva: {}, uspv1: {} } },
    { sections: { usin: { SensitiveDataProcessing: [1, 2] } } },
  ];
  const run = runLines(bin, ['gpp', 'encode'], models.map((m) => JSON.stringify(m)));
  assert.deepEqual(run.lines, models.map(referenceEncode));
  assert.equal(run.status, 0);
});

test('tcfcav1: a bit field where a Fibonacci range is as long is read as written by both sides', () => {
  // The specification lets an encoder write a vendor set as a bit field or as
  // a (Fibonacci) range; the reference writes the range when both have the
  // same length. A string written by another encoder may hold the bit field
  // at such a tie: VendorExpressConsent {20} as maxId 20, IsRange 0 and a
  // 20-bit bit field (the range form is 12 + 1 + Fibonacci(20) = 20 bits
  // too). Both sides must read it as written.
  const bin = findBinary();
  const tie = 'DBABDA~BOsdsoAOsdsoAAAAAAAAAAAAAAAAAAAAAAAoAAAQAUAAAIAA.YAAAAAAAAAA';
  const reference = referenceDecode(tie).sections.tcfcav1;
  assert.deepEqual(reference.VendorExpressConsent, [20]);
  assert.deepEqual(reference.VendorImpliedConsent, [20]);
  const [line] = runLines(bin, ['gpp', 'decode'], [tie]).lines;
  const ours = JSON.parse(line).sections?.tcfcav1;
  assert.deepEqual(ours?.VendorExpressConsent, [20], line);
  assert.deepEqual(ours?.VendorImpliedConsent, [20], line);
  assert.deepEqual(ours?.PubRestrictions, [], line);
});
