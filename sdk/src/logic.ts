// The pure parts of the SDK, bundled as an ES module for the unit tests
// (test/.build/logic.mjs). Not part of dist/.
export { consentModeFor, hasConsentDefault, usCategories, usConsentMode } from "./consent-mode";
export { cookieString, deletionDomains, matchCookieNames, parseCookies } from "./cookies";
export { localized, primary, uiStrings } from "./i18n";
export { configUrl, pageLanguage, regionQuery, regionUrl, siteKeyOfSrc } from "./configurl";
export { reconsentReason } from "./reconsent";
export { decodeStored, encodeStored } from "./stored";
export {
  acceptAllChoice,
  isWithdrawal,
  liPurposes,
  pickStacks,
  rejectAllChoice,
  sanitizeChoice,
  siteVendors,
} from "./tcf-rules";
export { backoff } from "./proof";
export { requiredCategories } from "./blocking";
export { usAllowed } from "./us/ui";
