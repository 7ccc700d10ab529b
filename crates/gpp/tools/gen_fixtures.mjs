// Writes crates/gpp/tests/fixtures/reference.jsonl: GPP strings the IAB
// reference library @iabgpp/cmpapi encodes from random models of every
// section it knows (fixed seed), each with the JSON the reference decodes it
// to (getSection, plus the sub-segment flags it keeps out of getSection).
//
//   node crates/gpp/tools/gen_fixtures.mjs [path to @iabgpp/cmpapi] > crates/gpp/tests/fixtures/reference.jsonl
const root = process.argv[2] ?? '/tmp/gppref/node_modules/@iabgpp/cmpapi';
const { GppModel, RangeEntry } = await import(root + '/lib/mjs/index.js');
const base = root + '/lib/mjs/encoder/';

let seed = 0x9e3779b9;
const rand = () => {
  seed ^= seed << 13; seed >>>= 0;
  seed ^= seed >>> 17;
  seed ^= seed << 5; seed >>>= 0;
  return seed / 4294967296;
};
const below = (n) => Math.floor(rand() * n);
const pick = (a) => a[below(a.length)];
const ids = (n, max) => { const s = new Set(); const k = below(n + 1); while (s.size < k) s.add(1 + below(max)); return [...s].sort((a, b) => a - b); };
const runs = (max) => { const out = []; let v = 1 + below(5); while (v < max && out.length < 60) { const len = below(6); for (let i = 0; i <= len && v < max; i++) out.push(v++); v += 1 + below(20); } return out; };
const bools = (n) => Array.from({ length: n }, () => rand() < 0.5);

const US = ["UsNat","UsCa","UsVa","UsCo","UsUt","UsCt","UsFl","UsMt","UsOr","UsTx","UsDe","UsIa","UsNe","UsNh","UsNj","UsTn","UsMn","UsMd","UsIn","UsKy","UsRi"];
const usDefs = [];
for (const s of US) {
  const mod = await import(base + 'section/' + s + '.js');
  const sec = new mod[s]();
  const fields = [];
  const flags = [];
  for (const seg of sec.segments) {
    const names = seg.getFieldNames();
    for (const [k, f] of seg.fields.fields) {
      if (!names.includes(k)) { flags.push(k); continue; }
      fields.push({ k, f });
    }
  }
  usDefs.push({ name: mod[s].NAME, fields, flags });
}

function randomUs(m, def) {
  for (const { k, f } of def.fields) {
    if (k === 'Version' || k === 'MspaVersion') continue;
    const c = f.constructor.name;
    const valid = (n) => !f.validator || f.validator.test(Array.isArray(f.value) ? [n] : n);
    const vals = [0, 1, 2, 3].filter((n) => n < (1 << (f.bitStringLength ?? f.elementBitStringLength ?? 1)) && valid(n));
    if (c === 'EncodableFixedInteger') m.setFieldValue(def.name, k, k === 'GpcSegmentType' ? 1 : pick(vals));
    else if (c === 'EncodableFixedIntegerList') m.setFieldValue(def.name, k, f.value.map(() => pick(vals)));
    else if (c === 'EncodableBoolean') m.setFieldValue(def.name, k, rand() < 0.5);
  }
  if (def.name === 'usnat' && rand() < 0.3) {
    m.setFieldValue('usnat', 'Version', 1);
    // Version 1 strings carry 12 and 2 values; the rest must be 0.
    const sdp = m.getFieldValue('usnat', 'SensitiveDataProcessing');
    m.setFieldValue('usnat', 'SensitiveDataProcessing', sdp.slice(0, 12));
    const kc = m.getFieldValue('usnat', 'KnownChildSensitiveDataConsents');
    m.setFieldValue('usnat', 'KnownChildSensitiveDataConsents', kc.slice(0, 2));
  }
  for (const fl of def.flags) m.setFieldValue(def.name, fl, rand() < 0.6);
}

function randomTcfEu(m) {
  const s = 'tcfeuv2';
  m.setFieldValue(s, 'CmpId', below(4096));
  m.setFieldValue(s, 'CmpVersion', below(4096));
  m.setFieldValue(s, 'ConsentScreen', below(64));
  m.setFieldValue(s, 'ConsentLanguage', pick(['EN', 'DE', 'FR', 'ZZ']));
  m.setFieldValue(s, 'VendorListVersion', below(4096));
  m.setFieldValue(s, 'PolicyVersion', pick([4, 5]));
  m.setFieldValue(s, 'UseNonStandardStacks', rand() < 0.5);
  m.setFieldValue(s, 'SpecialFeatureOptins', bools(12));
  m.setFieldValue(s, 'PurposeConsents', bools(24));
  m.setFieldValue(s, 'PurposeLegitimateInterests', bools(24));
  m.setFieldValue(s, 'PurposeOneTreatment', rand() < 0.5);
  m.setFieldValue(s, 'PublisherCountryCode', pick(['AA', 'DE', 'US']));
  m.setFieldValue(s, 'VendorConsents', rand() < 0.5 ? ids(40, 900) : runs(900));
  m.setFieldValue(s, 'VendorLegitimateInterests', ids(20, 900));
  if (rand() < 0.5) m.setFieldValue(s, 'PublisherRestrictions', [new RangeEntry(1 + below(10), below(3), ids(8, 300).concat([301]))]);
  m.setFieldValue(s, 'PublisherConsents', bools(24));
  m.setFieldValue(s, 'PublisherLegitimateInterests', bools(24));
  const n = below(5);
  m.setFieldValue(s, 'NumCustomPurposes', n);
  m.setFieldValue(s, 'PublisherCustomConsents', bools(n));
  m.setFieldValue(s, 'PublisherCustomLegitimateInterests', bools(n));
  m.setFieldValue(s, 'VendorsDisclosed', ids(30, 900));
  m.setFieldValue(s, 'Created', new Date(Date.UTC(2024, below(12), 1 + below(28), below(24), below(60), below(60), below(10) * 100)));
}

function randomTcfCa(m) {
  const s = 'tcfcav1';
  m.setFieldValue(s, 'CmpId', below(4096));
  m.setFieldValue(s, 'CmpVersion', below(4096));
  m.setFieldValue(s, 'ConsentScreen', below(64));
  m.setFieldValue(s, 'ConsentLanguage', pick(['EN', 'FR']));
  m.setFieldValue(s, 'VendorListVersion', below(4096));
  m.setFieldValue(s, 'TcfPolicyVersion', pick([2, 4]));
  m.setFieldValue(s, 'UseNonStandardStacks', rand() < 0.5);
  m.setFieldValue(s, 'SpecialFeatureExpressConsent', bools(12));
  m.setFieldValue(s, 'PurposesExpressConsent', bools(24));
  m.setFieldValue(s, 'PurposesImpliedConsent', bools(24));
  m.setFieldValue(s, 'VendorExpressConsent', rand() < 0.5 ? ids(40, 900) : runs(900));
  m.setFieldValue(s, 'VendorImpliedConsent', ids(20, 900));
  if (rand() < 0.5) m.setFieldValue(s, 'PubRestrictions', [new RangeEntry(1 + below(10), below(3), runs(200)), new RangeEntry(20, 1, ids(5, 50))]);
  m.setFieldValue(s, 'PubPurposesExpressConsent', bools(24));
  m.setFieldValue(s, 'PubPurposesImpliedConsent', bools(24));
  const n = below(5);
  m.setFieldValue(s, 'NumCustomPurposes', n);
  m.setFieldValue(s, 'CustomPurposesExpressConsent', bools(n));
  m.setFieldValue(s, 'CustomPurposesImpliedConsent', bools(n));
  if (rand() < 0.7) m.setFieldValue(s, 'DisclosedVendors', rand() < 0.5 ? ids(30, 900) : runs(900));
  m.setFieldValue(s, 'Created', new Date(Date.UTC(2023, below(12), 1 + below(28), below(24), below(60), below(60), below(10) * 100)));
}

function randomUsp(m) {
  m.setFieldValue('uspv1', 'Notice', pick(['Y', 'N', '-']));
  m.setFieldValue('uspv1', 'OptOutSale', pick(['Y', 'N', '-']));
  m.setFieldValue('uspv1', 'LspaCovered', pick(['Y', 'N', '-']));
}

function expected(str, canonical = false) {
  const m = new GppModel(str);
  const sections = {};
  for (const name of m.getHeader().SectionIds.map((id) => names.get(id))) {
    const obj = m.getSection(name);
    const def = usDefs.find((d) => d.name === name);
    if (def) for (const fl of def.flags) obj[fl] = m.getFieldValue(name, fl);
    sections[name] = obj;
  }
  const json = JSON.parse(JSON.stringify({ gppString: str, version: 1, sectionIds: m.getHeader().SectionIds, sections }));
  return { canonical, json };
}

const { Sections } = await import(base + 'section/Sections.js');
const names = Sections.SECTION_ID_NAME_MAP;
const all = [...names.values()];
const makers = { tcfeuv2: randomTcfEu, tcfcav1: randomTcfCa, uspv1: randomUsp };
const lines = [];
// Every section alone, several times; then random combinations.
for (let round = 0; round < 4; round++) {
  for (const name of all) {
    const m = new GppModel();
    (makers[name] ?? ((mm) => randomUs(mm, usDefs.find((d) => d.name === name))))(m);
    lines.push(expected(m.encode(), true));
  }
}
for (let i = 0; i < 40; i++) {
  const m = new GppModel();
  for (const name of all) if (rand() < 0.2) (makers[name] ?? ((mm) => randomUs(mm, usDefs.find((d) => d.name === name))))(m);
  if (m.getSectionIds().length > 0) lines.push(expected(m.encode(), true));
}
// Strings from the reference's tests and the specification, and edge cases
// (usnat version 1 at 10 and 11 characters, sections without GPC).
for (const s of [
  'DBABMA~CPXxRfAPXxRfAAfKABENB-CgAAAAAAAAAAYgAAAAAAAA',
  'DBACNYA~CPXxRfAPXxRfAAfKABENB-CgAAAAAAAAAAYgAAAAAAAA~1YNN',
  'DBABjw~CPXxRfAPXxRfAAfKABENB-CgAAAAAAAAAAYgAAAAAAAA~1YNN',
  'DBABzw~1YNN',
  'DBABLA~BVQqAAAAAgA.QA',
  'DBABLA~BVQqAAAAAg',
  'DBABLA~BVQVAAAAAg',
  'DBABBg~BUoAAABg.Q',
  'DBAA',
  'CPXxRfAPXxRfAAfKABENB-CgAAAAAAAAAAYgAAAAAAAA',
]) {
  try { lines.push(expected(s)); } catch (e) { /* not every candidate decodes */ }
}
console.log(lines.map((l) => JSON.stringify(l)).join('\n'));
