// Google Consent Mode v2: the update derived from a choice. Pure functions;
// the gtag calls live in sdk.ts, and the defaults come computed by the
// server (the snippet's settings and config.json's consentDefaults).

import { CONSENT_MODE_TYPES, type ConsentModeConfig, type ConsentModeStates } from "./types";

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

/** A visitor's US opt-outs (true = opted out). */
export interface UsOptOuts {
  sale: boolean;
  targeted: boolean;
}

/** The types an opt-out of sale, sharing or targeted advertising denies. */
const US_DENIED = ["ad_user_data", "ad_personalization"];

/**
 * The Consent Mode values in an opt-out (US) region: the region's defaults
 * (types it leaves out granted, as opt-out laws allow), with ad_user_data
 * and ad_personalization denied once the visitor opted out of anything.
 */
export function usConsentMode(defaults: Partial<Record<string, string>> | undefined, o: UsOptOuts): ConsentModeStates {
  const out = {} as ConsentModeStates;
  for (const type of CONSENT_MODE_TYPES) {
    out[type] = (o.sale || o.targeted) && US_DENIED.indexOf(type) >= 0 ? "denied" : defaults && defaults[type] === "denied" ? "denied" : "granted";
  }
  return out;
}

/**
 * The categories granted in an opt-out (US) region: every custom purpose,
 * except, once the visitor opted out, those the Consent Mode mapping ties
 * to ad_user_data or ad_personalization (the site's advertising tags).
 */
export function usCategories(config: ConsentModeConfig | undefined, ids: string[], o: UsOptOuts): string[] {
  if (!o.sale && !o.targeted) return ids.slice();
  const mapping = (config && config.mapping) || {};
  const ads: string[] = [];
  for (const type of US_DENIED) {
    const m = mapping[type as keyof typeof mapping];
    if (m && m.customPurposes) ads.push(...m.customPurposes);
  }
  return ids.filter((id) => ads.indexOf(id) < 0);
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
