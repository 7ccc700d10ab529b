/*
 * NexaGuard -> Shopify Customer Privacy API bridge.
 *
 * Shopify's own scripts, and the apps that follow Shopify's API (Shopify
 * analytics, the Facebook & Instagram channel, Google & YouTube), read the
 * visitor's consent from `Shopify.customerPrivacy`, not from NexaGuard. This
 * sets it from every NexaGuard choice, and on each page from the stored one.
 *
 * Invariant: Shopify's consent is only ever set from a NexaGuard choice (the
 * `nexaguard:consent` event or `NexaGuard.getConsent()`), never before the
 * visitor chose; and it is set only when it differs from what Shopify holds.
 *
 * Place it right after the NexaGuard snippet in `theme.liquid` (or in the
 * theme app embed); docs/shopify.md. Outside Shopify it does nothing.
 */
(function () {
  'use strict';
  var w = window;
  // Consent Mode v2 states -> Shopify's categories. `sale_of_data` is
  // denied by a US opt-out, which NexaGuard expresses by denying ad_user_data
  // and ad_personalization.
  function toShopify(state) {
    var cm = state.consentMode || {};
    var granted = function (type) { return cm[type] === 'granted'; };
    return {
      analytics: granted('analytics_storage'),
      marketing: granted('ad_storage'),
      preferences: granted('personalization_storage'),
      sale_of_data: granted('ad_user_data') && granted('ad_personalization'),
    };
  }
  var loading = null;
  // Shopify loads the API on demand; the callback runs once it is there.
  function privacyApi() {
    if (!loading) {
      loading = new Promise(function (resolve, reject) {
        var shopify = w.Shopify;
        if (shopify && shopify.customerPrivacy) return resolve(shopify.customerPrivacy);
        if (!shopify || typeof shopify.loadFeatures !== 'function') return reject(null);
        shopify.loadFeatures([{ name: 'consent-tracking-api', version: '0.1' }], function (error) {
          if (error || !shopify.customerPrivacy) reject(error || new Error('no customerPrivacy'));
          else resolve(shopify.customerPrivacy);
        });
      });
    }
    return loading;
  }
  // Shopify answers 'yes', 'no', or '' before any choice: a first "no"
  // must still be set, or Shopify keeps treating the visitor as undecided.
  function same(wanted, current) {
    return !!current && Object.keys(wanted).every(function (k) {
      return current[k] === (wanted[k] ? 'yes' : 'no');
    });
  }
  function apply(state) {
    if (!state || !state.consentMode) return;
    var wanted = toShopify(state);
    privacyApi().then(function (api) {
      var current = typeof api.currentVisitorConsent === 'function' ? api.currentVisitorConsent() : null;
      if (!same(wanted, current)) api.setTrackingConsent(wanted, function () {});
    }, function (error) {
      // Not on Shopify (null): nothing to bridge, nothing to say.
      if (error) console.warn('NexaGuard: the Shopify Customer Privacy API did not load', error);
    });
  }
  document.addEventListener('nexaguard:consent', function (event) { apply(event.detail); });
  // Placed late, after the SDK already announced the stored choice.
  if (w.NexaGuard && typeof w.NexaGuard.getConsent === 'function') apply(w.NexaGuard.getConsent());
})();
