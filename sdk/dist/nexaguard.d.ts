/**
 * Types of the NexaGuard browser SDK's global API, `window.NexaGuard`.
 * See docs/js-api.md for the behaviour behind each member.
 */

/** A Google Consent Mode v2 value. */
export type ConsentModeValue = "granted" | "denied";

/** The seven Google Consent Mode v2 types and their values. */
export interface ConsentModeStates {
  ad_storage: ConsentModeValue;
  ad_user_data: ConsentModeValue;
  ad_personalization: ConsentModeValue;
  analytics_storage: ConsentModeValue;
  functionality_storage: ConsentModeValue;
  personalization_storage: ConsentModeValue;
  security_storage: ConsentModeValue;
}

/** The visitor's current choice. */
export interface ConsentState {
  /** The TC string (TCF sites only), as stored in the `euconsent-v2` cookie. */
  tcString?: string;
  /** IAB purposes with consent (TCF sites; empty otherwise). */
  purposes: number[];
  /** IAB purposes with legitimate interest not objected to. */
  legitimateInterests: number[];
  /** IAB special features opted in to. */
  specialFeatures: number[];
  /** IAB vendors with consent. */
  vendors: number[];
  /** IAB vendors with legitimate interest not objected to. */
  vendorLegitimateInterests: number[];
  /** Granted categories (custom purpose ids; necessary ones always). */
  categories: string[];
  /** The Consent Mode v2 values derived from the choice. */
  consentMode: ConsentModeStates;
  /** The configuration version the choice was made on. */
  configVersion: number;
  /** When the choice was made (RFC 3339). */
  timestamp: string;
  /** The consent token of the proof-of-consent record, once the server answered. */
  consentToken?: string;
}

/**
 * Payload of the `ui` event: the banner, the preference center, the notice
 * bar (US and informational notices) or the US opt-out panel.
 */
export interface UiEvent {
  type: "banner" | "preferences" | "notice" | "opt_out";
  open: boolean;
}

/** Event names and the payload their callbacks receive. */
export interface NexaGuardEventMap {
  ready: ConsentState | null;
  consent: ConsentState;
  ui: UiEvent;
}

export type NexaGuardEvent = keyof NexaGuardEventMap;

/** `window.NexaGuard`. */
export interface NexaGuardApi {
  /** The SDK version. */
  readonly version: string;
  /** Resolves once the configuration is loaded: the stored choice, or null when the visitor has to choose. */
  ready(): Promise<ConsentState | null>;
  /** The current choice, or null before one is made (or while a re-consent is asked). */
  getConsent(): ConsentState | null;
  /** A number asks for IAB purpose consent, a string for a category (custom purpose id). */
  hasConsent(purposeOrCategory: number | string): boolean;
  /** Shows the first-layer banner. */
  showBanner(): void;
  /** Shows the preference center. */
  showPreferences(): void;
  /** Grants everything, as the "Accept all" button does (recorded with source "api"). */
  acceptAll(): Promise<ConsentState>;
  /** Refuses everything, as the "Reject all" button does (recorded with source "api"). */
  rejectAll(): Promise<ConsentState>;
  on<K extends NexaGuardEvent>(event: K, callback: (payload: NexaGuardEventMap[K]) => void): void;
  off<K extends NexaGuardEvent>(event: K, callback: (payload: NexaGuardEventMap[K]) => void): void;
  /** Forgets the choice (cookies and state) and shows the banner again. */
  reset(): void;
}

declare global {
  interface Window {
    NexaGuard: NexaGuardApi;
  }
  interface DocumentEventMap {
    "nexaguard:consent": CustomEvent<ConsentState>;
  }
}
