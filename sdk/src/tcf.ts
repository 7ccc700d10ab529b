// TC strings through the IAB's @iabtechlabtcf/core, and the __tcfapi CMP
// API through @iabtechlabtcf/cmpapi. Only TCModel, TCString and GVL are
// imported from core; the GVL is built from the server's compact per-site
// vendor list, never fetched (the bundle's GVL class is shims/gvl.js, see
// build.mjs).

import { CmpApi, CmpApiModel } from "@iabtechlabtcf/cmpapi";
import { GVL, TCModel, TCString } from "@iabtechlabtcf/core";
import { siteVendors } from "./tcf-rules";
import type { Choice, SiteConfig, VendorListJson } from "./types";

type VectorLike = { forEach(cb: (value: boolean, id: number) => void): void };

function ids(v: VectorLike | undefined): number[] {
  const out: number[] = [];
  if (v) v.forEach((on, id) => on && out.push(id));
  return out.sort((a, b) => a - b);
}

/** What a stored TC string says. */
export interface DecodedTc {
  cmpId: number;
  policyVersion: number;
  choice: Omit<Choice, "categories">;
  /** Null when the string has no disclosed vendors segment. */
  disclosed: number[] | null;
}

export function decodeTc(tc: string): DecodedTc | null {
  try {
    const m = TCString.decode(tc);
    const disclosed = ids(m.vendorsDisclosed);
    return {
      cmpId: Number(m.cmpId),
      policyVersion: Number(m.policyVersion),
      choice: {
        purposes: ids(m.purposeConsents),
        li: ids(m.purposeLegitimateInterests),
        specialFeatures: ids(m.specialFeatureOptins),
        vendors: ids(m.vendorConsents),
        vendorLi: ids(m.vendorLegitimateInterests),
      },
      disclosed: tc.split(".").length > 1 && disclosed.length ? disclosed : null,
    };
  } catch (_) {
    return null;
  }
}

/** Builds TC strings for one site; the GVL object is made once, on first use. */
export class TcEncoder {
  private _gvl: GVL | null = null;

  constructor(
    private _config: SiteConfig,
    private _vendorList: VendorListJson,
    private _language: string,
  ) {}

  /** Prepares the GVL ahead of the first choice (call when the main thread is idle). */
  warm(): void {
    if (this._gvl) return;
    // The primary subtag ("pt-BR" -> "PT"); the TC string has two letters.
    // Norwegian Bokmål and Nynorsk are the IAB's NO.
    let lang = (this._language || "").split(/[-_]/)[0].toUpperCase().replace(/^N[BN]$/, "NO");
    try {
      GVL.consentLanguages.parseLanguage(lang);
    } catch (_) {
      lang = "EN";
    }
    // The GVL class keeps a reference; give it a copy so the UI's data stays as sent.
    const json = JSON.parse(JSON.stringify(this._vendorList));
    this._gvl = new GVL(json, { language: lang });
  }

  /** The TC string of a (sanitised) choice, with every site vendor disclosed. */
  encode(c: Choice): string {
    this.warm();
    const m = new TCModel(this._gvl as GVL);
    m.cmpId = this._config.cmpId as number;
    m.cmpVersion = this._config.cmpVersion || 0;
    m.publisherCountryCode = this._config.publisherCountry;
    m.isServiceSpecific = true;
    m.purposeConsents.set(c.purposes);
    m.purposeLegitimateInterests.set(c.li);
    m.specialFeatureOptins.set(c.specialFeatures);
    m.vendorConsents.set(c.vendors);
    m.vendorLegitimateInterests.set(c.vendorLi);
    m.vendorsDisclosed.set(siteVendors(this._config, this._vendorList).map((v) => v.id));
    return TCString.encode(m);
  }
}

/** The CMP API: __tcfapi, taking over the stub's queue. */
export class Cmp {
  private _api: CmpApi;

  constructor(
    config: SiteConfig,
    private _gdprApplies: boolean,
  ) {
    this._api = new CmpApi(config.cmpId as number, config.cmpVersion || 0, true);
    // TCF v2.3: ping answers apiVersion "2.3", as the stub does.
    (CmpApiModel as { apiVersion: string }).apiVersion = "2.3";
  }

  /** Signals a TC string: `uiVisible` gives cmpuishown, otherwise tcloaded (first) or useractioncomplete. */
  update(tcString: string, uiVisible: boolean): void {
    this._api.update(this._gdprApplies ? tcString : null, uiVisible);
  }
}
