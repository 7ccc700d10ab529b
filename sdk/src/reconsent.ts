// Whether a stored choice still holds, or the visitor is asked again.

import type { StoredChoice } from "./stored";
import type { SiteConfig } from "./types";

export type ReconsentReason =
  | "lifetime"
  | "min_config_version"
  | "new_vendors"
  | "purpose_change"
  | "tc_string";

const DAY_MS = 86400000;

function sameSet<T>(a: T[], b: T[]): boolean {
  return a.length === b.length && a.every((x) => b.indexOf(x) >= 0) && b.every((x) => a.indexOf(x) >= 0);
}

/**
 * Why `stored` no longer holds for `config`, or null when it holds.
 * `vendorsSeen` are the IAB vendors disclosed when the choice was made (the
 * TC string's disclosed vendors segment on TCF sites); null when unknown.
 */
export function reconsentReason(
  stored: StoredChoice,
  config: SiteConfig,
  configVersion: number,
  vendorsSeen: number[] | null,
  now: number,
): ReconsentReason | null {
  const lifetime = config.consentLifetimeDays || 390;
  if (now - stored.ts > lifetime * DAY_MS) return "lifetime";
  const r = config.reconsent || {};
  if (r.minConfigVersion != null && stored.cv < r.minConfigVersion && configVersion >= r.minConfigVersion) {
    return "min_config_version";
  }
  if (r.onNewVendors) {
    const seen = vendorsSeen || stored.n || [];
    if ((config.vendors || []).some((v) => seen.indexOf(v) < 0)) return "new_vendors";
    const ids = (config.customVendors || []).map((v) => v.id);
    if (ids.some((v) => stored.w.indexOf(v) < 0)) return "new_vendors";
  }
  if (r.onPurposeChange) {
    const custom = (config.customPurposes || []).map((p) => p.id);
    if (
      !sameSet(stored.p, config.purposes || []) ||
      !sameSet(stored.f, config.specialFeatures || []) ||
      !sameSet(stored.q, custom)
    ) {
      return "purpose_change";
    }
  }
  return null;
}
