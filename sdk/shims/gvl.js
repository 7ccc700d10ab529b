// A smaller GVL class for @iabtechlabtcf/core: build.mjs loads this file in
// place of lib/mjs/GVL.js (about 2 KB gzipped less). NexaGuard builds its
// GVL from the vendor list in config.json and never sets GVL.baseUrl, so the
// reference class's fetching, caching and language switching never run.
// What the library uses (TCModel, the encoder, PurposeRestrictionVector, the
// CMP API's getVendorList) behaves as in the reference class, so the TC
// strings are byte-identical; test/unit/iab-shims.test.mjs compares the two.
// One difference: getVendorList given a malformed vendor list object answers
// (null, false) where the reference class, when it has cached that list
// version, never calls back.
import { GVLError } from './errors/index.js';
import { ConsentLanguages } from './model/index.js';

export class GVL {
  static consentLanguages = new ConsentLanguages();
  static DEFAULT_LANGUAGE = 'EN';

  constructor(list, options) {
    let lang = options?.language;
    if (lang) {
      try {
        lang = GVL.consentLanguages.parseLanguage(lang);
      } catch (e) {
        throw new GVLError('Error during parsing the language: ' + e.message);
      }
    }
    this.lang_ = lang || GVL.DEFAULT_LANGUAGE;
    // A vendor list object; loading one by version would need GVL.baseUrl.
    if (list === undefined || list.vendors === undefined) throw new GVLError('must specify GVL.baseUrl before loading GVL json');
    for (const k of ['gvlSpecificationVersion', 'vendorListVersion', 'tcfPolicyVersion', 'lastUpdated', 'purposes', 'specialPurposes', 'features', 'specialFeatures', 'stacks', 'dataCategories']) this[k] = list[k];
    if (typeof this.lastUpdated === 'string') this.lastUpdated = new Date(this.lastUpdated);
    this.vendors = this.fullVendorList = list.vendors;
    this.narrowVendorsTo(Object.keys(list.vendors).map((id) => +id));
    // The reference class copies the list (getJson) as it loads it, which
    // fails on a malformed one: so does this.
    this.getJson();
    this.isReady = true;
    this.readyPromise = Promise.resolve();
  }

  get language() {
    return this.lang_;
  }

  static isInstanceOf(x) {
    return typeof x === 'object' && typeof x.narrowVendorsTo === 'function';
  }

  /** Keeps the vendors with these ids, leaving out deleted ones. */
  narrowVendorsTo(ids) {
    // The reference class indexes the vendors by every id they declare, so
    // a list without one of these maps, or a vendor declaring an id missing
    // from them, fails here as it does there.
    const known = (m) => new Set(Object.keys(m));
    const p = known(this.purposes);
    const sp = known(this.specialPurposes);
    const f = known(this.features);
    const sf = known(this.specialFeatures);
    const need = (xs, set) =>
      xs.forEach((x) => {
        if (!set.has(String(x))) throw new TypeError('vendor list: unknown id ' + x);
      });
    const vendors = {};
    for (const id of ids) {
      const v = this.vendors[String(id)];
      if (v && v.deletedDate === undefined) {
        need(v.purposes, p);
        need(v.specialPurposes, sp);
        need(v.legIntPurposes, p);
        need(v.flexiblePurposes || [], p);
        need(v.features, f);
        need(v.specialFeatures, sf);
        vendors[id] = v;
      }
    }
    this.vendorIds = new Set(ids);
    this.vendors = vendors;
  }

  /** A copy of the vendor list (for getVendorList), as the reference class makes it. */
  getJson() {
    const arr = (o, keys, out = {}) => {
      for (const k of keys) out[k] = Array.from(o[k]);
      return out;
    };
    // id, name, description, and the optional descriptionLegal and illustrations.
    const item = (x) => {
      const o = { id: x.id, name: x.name, description: x.description };
      if (x.descriptionLegal) o.descriptionLegal = x.descriptionLegal;
      if (x.illustrations) o.illustrations = Array.from(x.illustrations);
      return o;
    };
    const map = (m, f) => {
      const out = {};
      for (const id of Object.keys(m)) out[id] = f(m[id]);
      return out;
    };
    const json = {
      gvlSpecificationVersion: this.gvlSpecificationVersion,
      vendorListVersion: this.vendorListVersion,
      tcfPolicyVersion: this.tcfPolicyVersion,
      lastUpdated: this.lastUpdated,
      purposes: map(this.purposes, item),
      specialPurposes: map(this.specialPurposes, item),
      features: map(this.features, item),
      specialFeatures: map(this.specialFeatures, item),
      stacks: map(this.stacks, (s) => arr(s, ['purposes', 'specialFeatures'], { id: s.id, name: s.name, description: s.description })),
    };
    if (this.dataCategories) json.dataCategories = map(this.dataCategories, (d) => ({ id: d.id, name: d.name, description: d.description }));
    json.vendors = map(this.fullVendorList, (v) => {
      const o = arr(v, ['purposes', 'legIntPurposes', 'flexiblePurposes', 'specialPurposes', 'features', 'specialFeatures'], { id: v.id, name: v.name });
      if (v.overflow) o.overflow = { httpGetLimit: v.overflow.httpGetLimit };
      if (typeof v.cookieMaxAgeSeconds === 'number' || v.cookieMaxAgeSeconds === null) o.cookieMaxAgeSeconds = v.cookieMaxAgeSeconds;
      if (v.usesCookies !== undefined) o.usesCookies = v.usesCookies;
      if (v.policyUrl) o.policyUrl = v.policyUrl;
      if (v.cookieRefresh !== undefined) o.cookieRefresh = v.cookieRefresh;
      if (v.usesNonCookieAccess !== undefined) o.usesNonCookieAccess = v.usesNonCookieAccess;
      const r = v.dataRetention;
      if (r) {
        o.dataRetention = typeof r.stdRetention === 'number' ? { stdRetention: r.stdRetention } : {};
        o.dataRetention.purposes = { ...r.purposes };
        o.dataRetention.specialPurposes = { ...r.specialPurposes };
      }
      if (v.urls) {
        o.urls = v.urls.map((u) => {
          const c = { langId: u.langId, privacy: u.privacy };
          if (u.legIntClaim) c.legIntClaim = u.legIntClaim;
          return c;
        });
      }
      if (v.dataDeclaration) o.dataDeclaration = Array.from(v.dataDeclaration);
      if (v.deviceStorageDisclosureUrl) o.deviceStorageDisclosureUrl = v.deviceStorageDisclosureUrl;
      if (v.deletedDate) o.deletedDate = v.deletedDate;
      return o;
    });
    return json;
  }

  /** Nothing changes a GVL once built, so a TCModel's clone shares it. */
  clone() {
    return this;
  }
}
