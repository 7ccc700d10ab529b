import type { Theme } from "./styles";
// The shapes the server sends (GET /v1/sites/{siteKey}/config.json) and the
// SDK's internal choice model. Field names follow the server's camelCase JSON
// (crates/consent/src/config.rs, crates/server/src/registry.rs).

import type { ConsentModeStates, ConsentModeValue } from "../types/nexaguard";

export type { ConsentModeStates, ConsentModeValue, ConsentState } from "../types/nexaguard";

export type ConsentModeType = keyof ConsentModeStates;

/** The seven types, in Google's documentation order. */
export const CONSENT_MODE_TYPES: ConsentModeType[] = [
  "ad_storage",
  "ad_user_data",
  "ad_personalization",
  "analytics_storage",
  "functionality_storage",
  "personalization_storage",
  "security_storage",
];

export type LocalizedText = Record<string, string>;

export interface CustomPurpose {
  id: string;
  name: LocalizedText;
  description?: LocalizedText;
  necessary?: boolean;
  cookies?: string[];
}

export interface CustomVendor {
  id: string;
  name: string;
  purposes?: string[];
  privacyPolicyUrl?: string | null;
}

export interface ConsentModeMapping {
  purposes?: number[];
  customPurposes?: string[];
}

export interface RegionDefaults {
  regions?: string[];
  states: Partial<Record<ConsentModeType, ConsentModeValue>>;
  waitForUpdateMs?: number | null;
}

export interface ConsentModeConfig {
  enabled?: boolean;
  mapping?: Partial<Record<ConsentModeType, ConsentModeMapping>>;
  defaults?: RegionDefaults[];
  urlPassthrough?: boolean;
  adsDataRedaction?: boolean;
}

export interface Texts {
  title: string;
  description: string;
  acceptAll: string;
  rejectAll: string;
  manage: string;
  save: string;
  privacyPolicyUrl?: string | null;
}

export interface BannerConfig {
  layout?: "bar" | "box" | "modal";
  primaryColor?: string;
  backgroundColor?: string;
  textColor?: string;
  floatingButton?: boolean;
}

export interface ReconsentConfig {
  onNewVendors?: boolean;
  onPurposeChange?: boolean;
  minConfigVersion?: number | null;
}

export interface SiteConfig {
  regulation: "tcf" | "opt_in";
  cmpId?: number;
  cmpVersion?: number;
  publisherCountry: string;
  gdprApplies?: boolean;
  vendors?: number[];
  purposes?: number[];
  specialFeatures?: number[];
  customPurposes?: CustomPurpose[];
  customVendors?: CustomVendor[];
  consentMode?: ConsentModeConfig;
  defaultLanguage: string;
  languages: Record<string, Texts>;
  banner?: BannerConfig;
  cookieDomain?: string | null;
  consentLifetimeDays?: number;
  reconsent?: ReconsentConfig;
}

/** A purpose, special purpose, feature, special feature or data category of the GVL. */
export interface GvlItem {
  id: number;
  name: string;
  description?: string;
  illustrations?: string[];
}

export interface GvlStack {
  id: number;
  name: string;
  description?: string;
  purposes: number[];
  specialFeatures: number[];
}

export interface GvlVendor {
  id: number;
  name: string;
  purposes: number[];
  legIntPurposes: number[];
  flexiblePurposes: number[];
  specialPurposes: number[];
  features: number[];
  specialFeatures: number[];
  deletedDate?: string;
  dataRetention?: {
    stdRetention?: number;
    purposes?: Record<string, number>;
    specialPurposes?: Record<string, number>;
  };
  urls?: { langId: string; privacy?: string; legIntClaim?: string }[];
}

/** The GVL v3 vendor-list.json, trimmed by the server to the site's vendors. */
export interface VendorListJson {
  gvlSpecificationVersion?: number;
  vendorListVersion: number;
  tcfPolicyVersion: number;
  lastUpdated?: string;
  purposes: Record<string, GvlItem>;
  specialPurposes: Record<string, GvlItem>;
  features: Record<string, GvlItem>;
  specialFeatures: Record<string, GvlItem>;
  stacks: Record<string, GvlStack>;
  dataCategories?: Record<string, GvlItem>;
  vendors: Record<string, GvlVendor>;
}

/** The body of config.json. */
export interface ConfigAnswer {
  /** The banner's colours, text colours made readable (crates/consent/src/theme.rs). */
  theme: Theme;
  /** The gtag('consent', 'default', ...) parameters, in order, as the stub issues them. */
  consentDefaults: Record<string, unknown>[];
  siteKey: string;
  environment: "production" | "staging";
  configVersion: number;
  language: string;
  config: SiteConfig;
  vendorList?: VendorListJson;
  /** The UI strings in `language`, key -> text, finished by the server (built in, configured texts first). */
  strings: Record<string, string>;
  /** How `language` is written. */
  dir: "ltr" | "rtl";
  /** The site's languages with their own names, for the preference center's switcher. */
  languages: { code: string; name: string }[];
}

/** The experience kinds a region can get (crates/consent/src/regions.rs). */
export type ExperienceKind = "tcf" | "us" | "opt_in" | "notice_only" | "none";

/** The body of GET /v1/sites/{siteKey}/region. */
export interface RegionAnswer {
  /** "FR", "US-CA", or null when unknown. */
  region: string | null;
  source: "header" | "geoip" | "override" | "site" | "unknown";
  /** Whether the request carried Sec-GPC: 1. */
  gpc: boolean;
  experience: {
    experience: { kind: ExperienceKind; gppSections?: "state" | "usnat"; honourGpc?: boolean };
    rule: number | null;
    gdprApplies: boolean;
    gppSectionIds: number[];
    consentModeDefault: Partial<Record<string, "granted" | "denied">>;
  };
  noticeVersion: string;
}

/** A choice, in the SDK's terms. */
export interface Choice {
  /** IAB purposes with consent. */
  purposes: number[];
  /** IAB purposes whose legitimate interest is not objected to. */
  li: number[];
  specialFeatures: number[];
  vendors: number[];
  vendorLi: number[];
  /** Granted custom purposes (categories). */
  categories: string[];
}

export type Action = "accept_all" | "reject_all" | "custom" | "withdraw" | "reconsent";
export type Source = "banner" | "preference_center" | "api" | "gpc";
