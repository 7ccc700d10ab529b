// shims/ stand in for the IAB library's GVL class and publisher
// restrictions in the SDK (see build.mjs). The TC strings must not change:
// encode the same choices with both and compare, and compare what the CMP
// API's getVendorList returns.
import assert from "node:assert/strict";
import { test } from "node:test";
import * as shim from "../.build/tcf.mjs";
import * as ref from "../.build/tcf-reference.mjs";
import { acceptAllChoice, rejectAllChoice, sanitizeChoice } from "../.build/logic.mjs";
import { demoConfig, vendorList } from "./helpers.mjs";

const copy = (x) => JSON.parse(JSON.stringify(x));

// The demo list, and one with more vendors: high ids (range encoding), a
// deleted one, and one whose deletedDate is null.
const big = copy(vendorList);
const ids = Object.keys(big.vendors).map(Number);
ids.forEach((id, i) => {
  for (const n of [100 + i, 755 + i * 37, 2000 + i]) big.vendors[n] = { ...copy(big.vendors[id]), id: n };
});
big.vendors[755].deletedDate = "2025-01-01T00:00:00Z";
big.vendors[100].deletedDate = null;
const lists = [vendorList, big];

let seed = 7;
const rnd = (n) => (seed = (seed * 1103515245 + 12345) % 2147483648) % n;
const some = (xs) => xs.filter(() => rnd(3) === 0);

test("the TC strings are the same with the IAB library's GVL class", () => {
  let compared = 0;
  for (const vl of lists) {
    const all = Object.keys(vl.vendors).map(Number);
    const config = { ...demoConfig, vendors: all.concat([9999]) };
    for (const lang of ["en", "de", "pt-BR", "fr", "nb", "xx", ""]) {
      const a = new shim.TcEncoder(config, copy(vl), lang);
      const b = new ref.TcEncoder(config, copy(vl), lang);
      const choices = [acceptAllChoice(config, vl), rejectAllChoice(config)];
      for (let k = 0; k < 30; k++) {
        const range = (n) => Array.from({ length: n }, (_, i) => i + 1);
        const c = {
          purposes: some(range(11)),
          li: some(range(11)),
          specialFeatures: some(range(2)),
          vendors: some(all.concat([4242])),
          vendorLi: some(all.concat([77])),
          categories: [],
        };
        choices.push(c, sanitizeChoice(c, config, vl));
      }
      for (const c of choices) {
        const s = a.encode(c);
        assert.equal(s, b.encode(c));
        assert.deepEqual(shim.decodeTc(s), ref.decodeTc(s));
        compared++;
      }
    }
  }
  assert.ok(compared > 800);
});

test("the GVL answers as the IAB library's does", () => {
  const summary = (m, args) => {
    // The reference class skips its load-time copy for a vendor list version
    // it has cached (the shim has no cache and always makes it).
    if (m === ref) m.GVL.emptyCache();
    let g;
    try {
      g = new m.GVL(...args);
    } catch (e) {
      return "throws";
    }
    try {
      const json = g.getJson();
      return {
        json: JSON.stringify(json),
        date: json.lastUpdated instanceof Date,
        language: g.language,
        ready: g.isReady,
        versions: [g.vendorListVersion, g.tcfPolicyVersion],
        vendors: Object.keys(g.vendors),
        ids: [...g.vendorIds],
        instance: m.GVL.isInstanceOf(g),
      };
    } catch (e) {
      return "getJson throws";
    }
  };
  // A vendor declaring an id the list does not have.
  const unknown = ["purposes", "legIntPurposes", "flexiblePurposes", "specialPurposes", "features", "specialFeatures"].map((k) => {
    const l = copy(vendorList);
    l.vendors[ids[0]][k].push(99);
    return [l];
  });
  const noArrays = copy(vendorList);
  delete noArrays.vendors[ids[0]].flexiblePurposes;
  const noMap = { ...copy(vendorList), features: undefined };
  const optional = copy(big);
  delete optional.dataCategories;
  Object.assign(optional.vendors[ids[0]], {
    urls: [{ langId: "en", privacy: "https://example.com/p", legIntClaim: "https://example.com/li", x: 1 }],
    dataRetention: { stdRetention: "30", purposes: { 1: 3 } },
    overflow: { httpGetLimit: 32, x: 1 },
    cookieMaxAgeSeconds: null,
    usesCookies: false,
    cookieRefresh: false,
    usesNonCookieAccess: true,
    policyUrl: "https://example.com/policy",
    dataDeclaration: [1, 3],
    deviceStorageDisclosureUrl: "https://example.com/d.json",
    deletedDate: "",
  });
  Object.assign(optional.purposes[1], { descriptionLegal: "legal", illustrations: ["x"] });
  optional.stacks[Object.keys(optional.stacks)[0]].x = 1;
  for (const args of [
    [copy(vendorList)],
    [copy(big), { language: "de" }],
    [copy(vendorList), { language: "pt-br" }],
    [copy(vendorList), { language: "q" }],
    [optional],
    ...unknown,
    [noArrays],
    [noMap],
    [{ vendors: {} }],
    [42],
    [undefined],
  ]) {
    assert.deepEqual(summary(shim, copy(args)), summary(ref, copy(args)), JSON.stringify(args).slice(0, 80));
  }
});

test("a TC string with publisher restrictions, which NexaGuard never writes, is not taken as a stored choice", () => {
  const m = new ref.TCModel(new ref.GVL(copy(vendorList)));
  m.cmpId = demoConfig.cmpId;
  m.cmpVersion = 1;
  m.isServiceSpecific = true;
  m.purposeConsents.set([1, 2]);
  m.vendorConsents.set(ids);
  m.vendorsDisclosed.set(ids);
  const vendor = vendorList.vendors[ids[0]];
  m.publisherRestrictions.add(ids[0], new ref.PurposeRestriction(vendor.purposes[0], 0));
  assert.equal(m.publisherRestrictions.numRestrictions, 1);
  const s = ref.TCString.encode(m);
  assert.ok(ref.decodeTc(s), "the reference decodes it");
  assert.equal(shim.decodeTc(s), null, "the SDK treats it as no stored choice and asks again");
});

test("the TC string's consent language is the primary subtag shown, Norwegian as NO, unknown ones as EN", () => {
  const config = { ...demoConfig, vendors: ids };
  const consentLanguage = (lang) => {
    const s = new shim.TcEncoder(config, copy(vendorList), lang).encode(rejectAllChoice(config));
    return ref.TCString.decode(s).consentLanguage;
  };
  assert.equal(consentLanguage("de"), "DE");
  assert.equal(consentLanguage("pt-br"), "PT");
  assert.equal(consentLanguage("ar"), "AR");
  assert.equal(consentLanguage("nb"), "NO");
  assert.equal(consentLanguage("nn-NO"), "NO");
  assert.equal(consentLanguage("xx"), "EN");
  assert.equal(consentLanguage(""), "EN");
});
