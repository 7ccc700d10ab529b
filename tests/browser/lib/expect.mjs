// Expected values, computed from the site configuration and the GVL.

import { repoJson } from './harness.mjs';

export const CONSENT_MODE_TYPES = [
  'ad_storage',
  'ad_user_data',
  'ad_personalization',
  'analytics_storage',
  'functionality_storage',
  'personalization_storage',
  'security_storage',
];

export const sortNum = (xs) => [...xs].map(Number).sort((a, b) => a - b);

/** The embedded sample GVL the server uses by default. */
export const GVL = repoJson('crates/server/assets/gvl-sample.json');

/** Purposes that may never rest on legitimate interest (TCF v2.2+ policy). */
export const NEVER_LI = new Set([1, 3, 4, 5, 6]);

/** The site's vendors that declare `field` purposes (e.g. legIntPurposes). */
export function vendorsDeclaring(siteVendors, field) {
  return sortNum(siteVendors.filter((v) => (GVL.vendors[String(v)]?.[field] ?? []).length > 0));
}

/** Purposes some site vendor declares under `field`, restricted to the site's purposes. */
export function purposesDeclared(config, field) {
  const out = new Set();
  for (const v of config.vendors) {
    for (const p of GVL.vendors[String(v)]?.[field] ?? []) {
      if (config.purposes.includes(p)) out.add(p);
    }
  }
  return sortNum(out);
}

/**
 * The Consent Mode states a choice implies: a type is granted when every
 * purpose and custom purpose its mapping lists is granted, denied when the
 * list is empty (crates/consent/src/config.rs, ConsentModeMapping).
 * Necessary custom purposes are always granted.
 */
export function consentModeFor(config, { purposes = [], custom = [] }) {
  const granted = new Set(purposes.map(Number));
  const customGranted = new Set(custom);
  for (const c of config.customPurposes ?? []) if (c.necessary) customGranted.add(c.id);
  const out = {};
  for (const type of CONSENT_MODE_TYPES) {
    const m = config.consentMode?.mapping?.[type] ?? {};
    const ps = m.purposes ?? [];
    const cs = m.customPurposes ?? [];
    const ok = ps.length + cs.length > 0 && ps.every((p) => granted.has(p)) && cs.every((c) => customGranted.has(c));
    out[type] = ok ? 'granted' : 'denied';
  }
  return out;
}

/** The Consent Mode default (without region) from the configuration. */
export function consentModeDefault(config) {
  const d = (config.consentMode?.defaults ?? []).find((x) => (x.regions ?? []).length === 0);
  const out = {};
  for (const type of CONSENT_MODE_TYPES) out[type] = d?.states?.[type] ?? 'denied';
  return { states: out, waitForUpdateMs: d?.waitForUpdateMs };
}

/** "a ⊆ b" */
export const subset = (a, b) => a.every((x) => b.includes(x));
