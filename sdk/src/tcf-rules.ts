// The TCF policy rules the SDK's choices follow, over the site's compact
// vendor list. Pure functions; encoding is in tcf.ts.

import type { Choice, GvlVendor, SiteConfig, VendorListJson } from "./types";

/** Purposes that may never rest on legitimate interest (TCF v2.2+). */
export const NO_LI_PURPOSES = [1, 3, 4, 5, 6];

const has = <T>(list: T[] | undefined, x: T) => !!list && list.indexOf(x) >= 0;
const uniqSorted = (xs: number[]) => xs.filter((x, i) => xs.indexOf(x) === i).sort((a, b) => a - b);

/** The site's vendors as the vendor list describes them (unknown and deleted ones left out), by id. */
export function siteVendors(config: SiteConfig, vl: VendorListJson | undefined): GvlVendor[] {
  const out: GvlVendor[] = [];
  for (const id of config.vendors || []) {
    const v = vl && vl.vendors[String(id)];
    if (v && !v.deletedDate) out.push(v);
  }
  return out.sort((a, b) => a.id - b.id);
}

/** A vendor may get a consent signal: it declares a consent or flexible purpose or a special feature. */
export function hasConsentBasis(v: GvlVendor): boolean {
  return v.purposes.length + v.flexiblePurposes.length + v.specialFeatures.length > 0;
}

/** A vendor may get a legitimate-interest signal: it declares a LI or flexible purpose, or a special purpose. */
export function hasLiBasis(v: GvlVendor): boolean {
  return v.legIntPurposes.length + v.flexiblePurposes.length + v.specialPurposes.length > 0;
}

/**
 * The site's purposes that may carry a legitimate-interest signal: allowed
 * by the policy (not 1, 3-6) and declared by some site vendor as legitimate
 * interest or flexible.
 */
export function liPurposes(config: SiteConfig, vendors: GvlVendor[]): number[] {
  return (config.purposes || []).filter(
    (p) =>
      !has(NO_LI_PURPOSES, p) &&
      vendors.some((v) => has(v.legIntPurposes, p) || has(v.flexiblePurposes, p)),
  );
}

/** Accept all: every consent, every allowed legitimate interest, every category. */
export function acceptAllChoice(config: SiteConfig, vl: VendorListJson | undefined): Choice {
  const vendors = siteVendors(config, vl);
  return {
    purposes: uniqSorted((config.purposes || []).slice()),
    li: liPurposes(config, vendors),
    specialFeatures: uniqSorted((config.specialFeatures || []).slice()),
    vendors: vendors.filter(hasConsentBasis).map((v) => v.id),
    vendorLi: vendors.filter(hasLiBasis).map((v) => v.id),
    categories: (config.customPurposes || []).map((p) => p.id),
  };
}

/** Reject all: no consent, objection to every legitimate interest, necessary categories only. */
export function rejectAllChoice(config: SiteConfig): Choice {
  return {
    purposes: [],
    li: [],
    specialFeatures: [],
    vendors: [],
    vendorLi: [],
    categories: necessaryCategories(config),
  };
}

export function necessaryCategories(config: SiteConfig): string[] {
  return (config.customPurposes || []).filter((p) => p.necessary).map((p) => p.id);
}

/** A choice restricted to what the site asks for and the policy allows; necessary categories added. */
export function sanitizeChoice(c: Choice, config: SiteConfig, vl: VendorListJson | undefined): Choice {
  const all = acceptAllChoice(config, vl);
  const keep = (xs: number[], allowed: number[]) => uniqSorted(xs.filter((x) => has(allowed, x)));
  const categories = all.categories.filter(
    (id) => has(c.categories, id) || has(necessaryCategories(config), id),
  );
  return {
    purposes: keep(c.purposes, all.purposes),
    li: keep(c.li, all.li),
    specialFeatures: keep(c.specialFeatures, all.specialFeatures),
    vendors: keep(c.vendors, all.vendors),
    vendorLi: keep(c.vendorLi, all.vendorLi),
    categories,
  };
}

/** Whether `next` grants nothing `prev` did not, and takes something back. */
export function isWithdrawal(prev: Choice, next: Choice): boolean {
  const keys: (keyof Choice)[] = ["purposes", "li", "specialFeatures", "vendors", "vendorLi", "categories"];
  let removed = false;
  for (const k of keys) {
    const a = prev[k] as (number | string)[];
    const b = next[k] as (number | string)[];
    if (b.some((x) => a.indexOf(x) < 0)) return false;
    if (a.some((x) => b.indexOf(x) < 0)) removed = true;
  }
  return removed;
}

/**
 * Stacks to present: those whose purposes and special features the site
 * all asks for, largest first, not overlapping one another.
 */
export function pickStacks(config: SiteConfig, vl: VendorListJson | undefined): number[] {
  if (!vl || !vl.stacks) return [];
  const ps = config.purposes || [];
  const sfs = config.specialFeatures || [];
  const stacks = Object.keys(vl.stacks)
    .map((k) => vl.stacks[k])
    .filter((s) => s.purposes.every((p) => has(ps, p)) && s.specialFeatures.every((f) => has(sfs, f)))
    .sort((a, b) => b.purposes.length + b.specialFeatures.length - (a.purposes.length + a.specialFeatures.length) || a.id - b.id);
  const usedP: number[] = [];
  const usedF: number[] = [];
  const out: number[] = [];
  for (const s of stacks) {
    if (s.purposes.length + s.specialFeatures.length < 2) continue;
    if (s.purposes.some((p) => has(usedP, p)) || s.specialFeatures.some((f) => has(usedF, f))) continue;
    out.push(s.id);
    usedP.push(...s.purposes);
    usedF.push(...s.specialFeatures);
  }
  return out;
}
