// The reference library's TCModel as the JSON `nexaguard tcf decode` prints,
// so that the two can be compared property by property.

import { TCString } from '@iabtechlabtcf/core';

export { TCString };

const ids = (vector) => [...vector.values()].sort((a, b) => a - b);

/** Segment types of a TC string, in order (0 core, 1 disclosed, 2 allowed, 3 publisher TC). */
export function segmentTypes(tc) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  return tc.split('.').map((seg, i) => (i === 0 ? 0 : alphabet.indexOf(seg[0]) >> 3));
}

/**
 * `tcModel` (as TCString.decode returns it) as decode JSON. The reference
 * model always has a vendorsAllowed vector, empty when the string had no
 * such segment; our JSON has the property only when the segment was there,
 * so the caller says whether it was (`hasAllowedSegment`).
 */
export function referenceJson(tcModel, hasAllowedSegment) {
  const restrictions = tcModel.publisherRestrictions;
  const publisherRestrictions = restrictions.getRestrictions()
    .map((pr) => ({
      purposeId: pr.purposeId,
      restrictionType: pr.restrictionType,
      vendorIds: restrictions.getVendors(pr),
    }))
    .sort((a, b) => a.purposeId - b.purposeId || a.restrictionType - b.restrictionType);
  return {
    version: tcModel.version,
    created: tcModel.created.toISOString(),
    lastUpdated: tcModel.lastUpdated.toISOString(),
    cmpId: tcModel.cmpId,
    cmpVersion: tcModel.cmpVersion,
    consentScreen: tcModel.consentScreen,
    consentLanguage: tcModel.consentLanguage,
    vendorListVersion: tcModel.vendorListVersion,
    policyVersion: tcModel.policyVersion,
    isServiceSpecific: tcModel.isServiceSpecific,
    useNonStandardTexts: tcModel.useNonStandardTexts,
    purposeOneTreatment: tcModel.purposeOneTreatment,
    publisherCountryCode: tcModel.publisherCountryCode,
    specialFeatureOptins: ids(tcModel.specialFeatureOptins),
    purposeConsents: ids(tcModel.purposeConsents),
    purposeLegitimateInterests: ids(tcModel.purposeLegitimateInterests),
    vendorConsents: ids(tcModel.vendorConsents),
    vendorLegitimateInterests: ids(tcModel.vendorLegitimateInterests),
    vendorsDisclosed: ids(tcModel.vendorsDisclosed),
    ...(hasAllowedSegment ? { vendorsAllowed: ids(tcModel.vendorsAllowed) } : {}),
    publisherConsents: ids(tcModel.publisherConsents),
    publisherLegitimateInterests: ids(tcModel.publisherLegitimateInterests),
    numCustomPurposes: tcModel.numCustomPurposes,
    publisherCustomConsents: ids(tcModel.publisherCustomConsents),
    publisherCustomLegitimateInterests: ids(tcModel.publisherCustomLegitimateInterests),
    publisherRestrictions,
  };
}

/** Decodes with the reference library into decode JSON. */
export function referenceDecode(tc) {
  return referenceJson(TCString.decode(tc), segmentTypes(tc).includes(2));
}

/** The whole reference library, for scripts outside this directory (bench/). */
export * as core from '@iabtechlabtcf/core';
