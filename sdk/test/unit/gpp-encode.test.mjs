// src/gpp/encode.ts against the IAB's @iabgpp/cmpapi 3.2.0 (the test
// oracle, a devDependency): the same fields must give the same bytes, for
// every section the SDK writes, and the reference must read our strings
// back to the fields we encoded. The field lists are read from the
// reference's own segment classes, so a layout slip in our table shows.
// GPP_SEED=... replays a failure of the random cases.
import assert from "node:assert/strict";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";
import * as cmpapi from "@iabgpp/cmpapi";
import { acceptAllChoice, rejectAllChoice } from "../.build/logic.mjs";
import { TcEncoder } from "../.build/tcf.mjs";
import { demoConfig, vendorList } from "./helpers.mjs";

const { GppModel } = cmpapi;
const sdk = fileURLToPath(new URL("../..", import.meta.url));
const built = await esbuild.build({
  stdin: { contents: 'export * from "./src/gpp/encode";', resolveDir: sdk, loader: "ts" },
  bundle: true,
  write: false,
  format: "esm",
  platform: "neutral",
});
const gpp = await import("data:text/javascript;base64," + Buffer.from(built.outputFiles[0].contents).toString("base64"));

const FLAGS = ["GpcSegmentIncluded", "SensitiveDataConsentSegmentIncluded"];
const US_IDS = gpp.SECTION_IDS.filter((id) => id >= 7);

const seed = Number(process.env.GPP_SEED) || Date.now() % 1_000_000;
console.log(`GPP_SEED=${seed}`);
let state = seed;
const rnd = (n) => (state = (state * 1103515245 + 12345) % 2147483648) % n;

const CHOICES = Array.from({ length: 16 }, (_, k) => ({
  saleOptOut: !!(k & 1),
  sharingOptOut: !!(k & 2),
  targetedAdvertisingOptOut: !!(k & 4),
  gpc: !!(k & 8),
}));

const layouts = new Map();
/** The reference's fields per segment: [{included, fields: [{name, type, bits, n, value}]}]. */
function referenceLayout(name) {
  if (!layouts.has(name)) layouts.set(name, readLayout(name));
  return layouts.get(name);
}

function readLayout(name) {
  const cls = Object.values(cmpapi).find((c) => typeof c === "function" && c.NAME === name && c.ID !== undefined);
  return new cls().segments.map((seg) => ({
    included: FLAGS.find((f) => seg.fields.containsKey(f)),
    fields: seg.getFieldNames().map((n) => {
      const f = seg.fields.get(n);
      const value = f.value;
      return { name: n, type: f.constructor.name, bits: f.bitStringLength ?? f.elementBitStringLength, n: f.numElements, value };
    }),
  }));
}

/** Random values for every field of a section, each valid for the reference. */
function randomFields(id) {
  const name = gpp.sectionName(id);
  const out = {};
  for (const seg of referenceLayout(name)) {
    if (seg.included) out[seg.included] = rnd(2) === 1;
    for (const f of seg.fields) {
      const small = () => (f.name === "MspaCoveredTransaction" ? 1 + rnd(2) : f.name === "GpcSegmentType" ? rnd(4) : rnd(3));
      if (f.type === "EncodableBoolean") out[f.name] = rnd(2) === 1;
      else if (f.type === "EncodableFixedIntegerList") out[f.name] = Array.from({ length: f.n }, () => rnd(3));
      // usnat is written in its version 2 layout only: Version 1 would switch the reference to version 1's.
      else if (f.bits === 6) out[f.name] = id === 7 ? 2 : rnd(64);
      else out[f.name] = small();
    }
  }
  return out;
}

/** The reference's string for sections given as {name: fields or encoded text}. */
function referenceEncode(sections) {
  const model = new GppModel();
  for (const [name, v] of Object.entries(sections)) {
    if (typeof v === "string") model.decodeSection(name, v);
    else for (const [k, x] of Object.entries(v)) model.setFieldValue(name, k, Array.isArray(x) ? [...x] : x);
  }
  return model.encode();
}

/** What the reference reads from a string: {name: fields}, with the sub-section flags. */
function referenceDecode(s) {
  const model = new GppModel(s);
  const out = {};
  for (const id of model.getSectionIds()) {
    const name = gpp.sectionName(id);
    const obj = JSON.parse(JSON.stringify(model.getSection(name)));
    const section = model.sections.get(name);
    for (const flag of FLAGS) if (section.segments.some((seg) => seg.hasField(flag))) obj[flag] = section.getFieldValue(flag);
    out[name] = obj;
  }
  return out;
}

/** The fields a reader sees: those of a sub-section left out are its defaults. */
function asRead(name, fields) {
  const out = { ...fields };
  for (const seg of referenceLayout(name)) {
    if (seg.included && out[seg.included] === false) for (const f of seg.fields) out[f.name] = f.value;
  }
  return out;
}

const agree = (ours, sections) => {
  assert.equal(ours, referenceEncode(sections));
  const back = referenceDecode(ours);
  for (const [name, v] of Object.entries(sections)) if (typeof v !== "string") assert.deepEqual(back[name], asRead(name, v), name);
};

test("a choice gives exactly the fields the reference has, in every US section", () => {
  for (const id of US_IDS) {
    const name = gpp.sectionName(id);
    const ref = referenceLayout(name);
    const fields = gpp.usChoice(id, CHOICES[0]);
    const refNames = ref.flatMap((seg) => [...(seg.included ? [seg.included] : []), ...seg.fields.map((f) => f.name)]);
    assert.deepEqual(Object.keys(fields).sort(), [...refNames].sort(), name);
    assert.equal(gpp.sectionId(name), id);
  }
  assert.equal(gpp.sectionId("tcfeuv2"), 2);
  assert.equal(gpp.sectionId("uspv1"), 0);
  assert.equal(gpp.sectionId("constructor"), 0);
});

test("every visitor choice in every US section encodes byte for byte as the reference", () => {
  for (const id of US_IDS) {
    const name = gpp.sectionName(id);
    for (const c of CHOICES) {
      const fields = gpp.usChoice(id, c);
      agree(gpp.encodeGpp({ [name]: fields }), { [name]: fields });
    }
  }
});

test("a choice gives the notices, the opt-outs and the GPC signal a CMP that showed the notice sets", () => {
  const c = { saleOptOut: true, sharingOptOut: false, targetedAdvertisingOptOut: false, gpc: true };
  const usnat = gpp.usChoice(7, c);
  assert.equal(usnat.Version, 2);
  assert.equal(usnat.SharingNotice, 1);
  assert.equal(usnat.SaleOptOutNotice, 1);
  assert.equal(usnat.SharingOptOutNotice, 1);
  assert.equal(usnat.TargetedAdvertisingOptOutNotice, 1);
  assert.equal(usnat.SensitiveDataProcessingOptOutNotice, 0);
  assert.equal(usnat.SensitiveDataLimitUseNotice, 0);
  assert.deepEqual([usnat.SaleOptOut, usnat.SharingOptOut, usnat.TargetedAdvertisingOptOut], [1, 2, 2]);
  assert.deepEqual(usnat.SensitiveDataProcessing, Array(16).fill(0));
  assert.deepEqual(usnat.KnownChildSensitiveDataConsents, [0, 0, 0]);
  assert.deepEqual([usnat.MspaCoveredTransaction, usnat.MspaOptOutOptionMode, usnat.MspaServiceProviderMode], [2, 0, 0]);
  assert.deepEqual([usnat.GpcSegmentIncluded, usnat.GpcSegmentType, usnat.Gpc], [true, 1, true]);
  // No targeted advertising opt-out in usca: an opt-out of it is one of sharing.
  const usca = gpp.usChoice(8, { saleOptOut: false, sharingOptOut: false, targetedAdvertisingOptOut: true, gpc: false });
  assert.deepEqual([usca.SaleOptOut, usca.SharingOptOut, usca.Gpc], [2, 1, false]);
  // No sharing opt-out in usva (and no GPC sub-section): sharing counts as targeted advertising.
  const usva = gpp.usChoice(9, { saleOptOut: false, sharingOptOut: true, targetedAdvertisingOptOut: false, gpc: true });
  assert.deepEqual([usva.SaleOptOut, usva.TargetedAdvertisingOptOut, usva.SharingNotice], [2, 1, 1]);
  assert.equal("Gpc" in usva, false);
  // The 2025 sections: MspaVersion, MspaMode 0, no sensitive data consent sub-section.
  const usin = gpp.usChoice(25, CHOICES[0]);
  assert.deepEqual([usin.MspaVersion, usin.MspaCoveredTransaction, usin.MspaMode, usin.ProcessingNotice], [1, 2, 0, 1]);
  assert.equal(usin.SensitiveDataConsentSegmentIncluded, false);
  assert.equal(gpp.encodeGpp({ usin }).includes("."), false);
  assert.equal(gpp.usChoice(6, CHOICES[0]), null);
  assert.equal(gpp.usChoice(28, CHOICES[0]), null);
});

test("random values of every field of every US section encode byte for byte as the reference", () => {
  for (const id of US_IDS) {
    const name = gpp.sectionName(id);
    for (let k = 0; k < 60; k++) {
      const fields = randomFields(id);
      agree(gpp.encodeGpp({ [name]: fields }), { [name]: fields });
    }
  }
});

test("strings of several sections encode byte for byte as the reference, whatever order they are given in", () => {
  for (let k = 0; k < 300; k++) {
    const ids = [...new Set(Array.from({ length: 2 + rnd(5) }, () => US_IDS[rnd(US_IDS.length)]))];
    const sections = {};
    for (const id of ids) sections[gpp.sectionName(id)] = rnd(2) ? gpp.usChoice(id, CHOICES[rnd(16)]) : randomFields(id);
    const ours = gpp.encodeGpp(sections);
    agree(ours, sections);
    assert.deepEqual(new GppModel(ours).getSectionIds(), [...ids].sort((a, b) => a - b));
  }
  // Every section at once: the header's range runs from 7 to 27.
  const all = Object.fromEntries(US_IDS.map((id) => [gpp.sectionName(id), gpp.usChoice(id, CHOICES[5])]));
  agree(gpp.encodeGpp(all), all);
});

test("a TC string goes into tcfeuv2 unchanged, next to usnat and the state sections", () => {
  const encoder = new TcEncoder(demoConfig, vendorList, "en");
  for (const choice of [acceptAllChoice(demoConfig, vendorList), rejectAllChoice(demoConfig)]) {
    const tc = encoder.encode(choice);
    for (const extra of [[], [7], [7, 8], [9, 12, 25]]) {
      const sections = { tcfeuv2: tc };
      for (const id of extra) sections[gpp.sectionName(id)] = gpp.usChoice(id, CHOICES[rnd(16)]);
      const ours = gpp.encodeGpp(sections);
      assert.equal(ours.split("~")[1], tc);
      agree(ours, sections);
      assert.deepEqual(new GppModel(ours).getSectionIds(), [2, ...extra]);
    }
  }
});

test("the header lists exactly the sections written; unknown prefixes and empty sections are left out", () => {
  assert.equal(gpp.encodeGpp({}), new GppModel().encode());
  const usnat = gpp.usChoice(7, CHOICES[0]);
  const s = gpp.encodeGpp({ usnat, uspv1: "1YNN", tcfcav1: "x", nope: usnat, tcfeuv2: "" });
  assert.equal(s, gpp.encodeGpp({ usnat }));
  assert.equal(s.split("~").length, 2);
});

test("a field left out takes the reference's default, and encoding never throws", () => {
  for (const id of US_IDS) {
    const name = gpp.sectionName(id);
    const first = referenceLayout(name)[0].fields[0].name;
    // The reference creates a section when its first field is set; we when it is given.
    assert.equal(gpp.encodeGpp({ [name]: {} }), referenceEncode({ [name]: { [first]: id === 7 ? 2 : 1 } }), name);
  }
  for (const junk of [{ SaleOptOut: "x" }, { SaleOptOut: -1 }, { SaleOptOut: 7 }, { SensitiveDataProcessing: "ab" }, { Gpc: null }]) {
    assert.match(gpp.encodeGpp({ usnat: junk }), /^DBAB[A-Za-z0-9_-]+~[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)?$/);
  }
});
