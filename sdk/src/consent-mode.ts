// Google Consent Mode v2: defaults from the configuration and the update
// derived from a choice. Pure functions; the gtag calls live in sdk.ts.

import {
  CONSENT_MODE_TYPES,
  type ConsentModeConfig,
  type ConsentModeStates,
  type RegionDefaults,
} from "./types";

/**
 * The Consent Mode values of a choice: a type is granted when it is mapped
 * and every IAB purpose (purpose consent) and every custom purpose it lists
 * is granted. Unmapped types, and types mapped to nothing, are denied.
 * Necessary custom purposes are always granted, so a type mapped only to a
 * necessary purpose (security_storage, usually) is granted.
 */
export function consentModeFor(
  config: ConsentModeConfig | undefined,
  purposes: number[],
  categories: string[],
): ConsentModeStates {
  const mapping = (config && config.mapping) || {};
  const out = {} as ConsentModeStates;
  for (const type of CONSENT_MODE_TYPES) {
    const m = mapping[type];
    const ps = (m && m.purposes) || [];
    const cs = (m && m.customPurposes) || [];
    const granted =
      ps.length + cs.length > 0 &&
      ps.every((p) => purposes.indexOf(p) >= 0) &&
      cs.every((c) => categories.indexOf(c) >= 0);
    out[type] = granted ? "granted" : "denied";
  }
  return out;
}

/** The gtag('consent', 'default', ...) parameter objects of the configured defaults. */
export function defaultsToGtag(defaults: RegionDefaults[] | undefined): Record<string, unknown>[] {
  const list = defaults && defaults.length ? defaults : [{ states: {} } as RegionDefaults];
  return list.map((d) => {
    const o: Record<string, unknown> = {};
    for (const type of CONSENT_MODE_TYPES) o[type] = (d.states && d.states[type]) || "denied";
    if (d.regions && d.regions.length) o.region = d.regions.slice();
    if (d.waitForUpdateMs != null) o.wait_for_update = d.waitForUpdateMs;
    return o;
  });
}

/** Whether a gtag('consent', 'default', ...) call is already in the dataLayer. */
export function hasConsentDefault(dataLayer: ArrayLike<unknown> | undefined): boolean {
  if (!dataLayer) return false;
  for (let i = 0; i < dataLayer.length; i++) {
    const e = dataLayer[i] as ArrayLike<unknown> | null;
    if (e && typeof e === "object" && e[0] === "consent" && e[1] === "default") return true;
  }
  return false;
}
