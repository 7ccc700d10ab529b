/*! NexaGuard browser SDK, interim build (opt-in sites only).
 * The full SDK (TCF __tcfapi, preference center, Consent Mode) replaces
 * this file; until then it shows a banner for sites in "opt_in" mode and
 * records the choice through POST /v1/consents. */
(function () {
  "use strict";
  var script = document.currentScript;
  var siteKey = script && script.getAttribute("data-site-key");
  var base = script ? new URL(script.src).origin : "";
  var TOKEN_KEY = "nexaguard.token." + siteKey;
  var config = null;

  function uuid() {
    return crypto.randomUUID ? crypto.randomUUID() : "10000000-1000-4000-8000-100000000000".replace(/[018]/g, function (c) {
      return (c ^ (crypto.getRandomValues(new Uint8Array(1))[0] & (15 >> (c / 4)))).toString(16);
    });
  }

  function consentMode(granted) {
    var all = ["ad_storage", "ad_user_data", "ad_personalization", "analytics_storage",
      "functionality_storage", "personalization_storage", "security_storage"];
    var mapping = (config.config.consentMode && config.config.consentMode.mapping) || {};
    var out = {};
    all.forEach(function (type) {
      var m = mapping[type];
      var ok = !!m && (m.customPurposes || []).length > 0 &&
        m.customPurposes.every(function (p) { return granted.indexOf(p) >= 0; });
      out[type] = ok ? "granted" : "denied";
    });
    out.security_storage = "granted";
    return out;
  }

  function record(action, granted) {
    var body = {
      eventId: uuid(), schemaVersion: 1, siteKey: siteKey, environment: config.environment,
      configVersion: config.configVersion, timestamp: new Date().toISOString(),
      action: action, source: "banner", consentMode: consentMode(granted),
      customPurposes: granted, language: config.language, sdkVersion: "0.1.0-interim"
    };
    var token = localStorage.getItem(TOKEN_KEY);
    if (token) body.consentToken = token;
    return fetch(base + "/v1/consents", {
      method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body)
    }).then(function (r) { return r.json().then(function (j) { return { ok: r.ok, body: j }; }); })
      .then(function (res) {
        if (res.ok) localStorage.setItem(TOKEN_KEY, res.body.consentToken);
        document.dispatchEvent(new CustomEvent("nexaguard:consent", { detail: res.body }));
        return res.body;
      });
  }

  function show() {
    if (!config || config.config.regulation !== "opt_in") return;
    var texts = config.config.languages[config.language];
    var old = document.getElementById("nexaguard-banner");
    if (old) old.remove();
    var box = document.createElement("div");
    box.id = "nexaguard-banner";
    box.setAttribute("role", "dialog");
    box.setAttribute("aria-label", texts.title);
    box.style.cssText = "position:fixed;left:0;right:0;bottom:0;padding:16px;border-top:2px solid " +
      config.config.banner.primaryColor + ";background:" + config.config.banner.backgroundColor +
      ";color:" + config.config.banner.textColor + ";font:14px sans-serif";
    var h = document.createElement("strong");
    h.textContent = texts.title;
    var p = document.createElement("p");
    p.textContent = texts.description;
    box.appendChild(h);
    box.appendChild(p);
    var optional = config.config.customPurposes.filter(function (c) { return !c.necessary; });
    var necessary = config.config.customPurposes.filter(function (c) { return c.necessary; }).map(function (c) { return c.id; });
    [["accept", texts.acceptAll, "accept_all", optional.map(function (c) { return c.id; })],
     ["reject", texts.rejectAll, "reject_all", []]].forEach(function (b) {
      var button = document.createElement("button");
      button.type = "button";
      button.id = "nexaguard-" + b[0];
      button.textContent = b[1];
      button.addEventListener("click", function () {
        box.remove();
        record(b[2], necessary.concat(b[3]));
      });
      box.appendChild(button);
    });
    document.body.appendChild(box);
  }

  window.NexaGuard = { show: show, record: record };
  if (!siteKey) return;
  fetch(base + "/v1/sites/" + encodeURIComponent(siteKey) + "/config.json")
    .then(function (r) { return r.json(); })
    .then(function (c) {
      config = c;
      if (!localStorage.getItem(TOKEN_KEY)) {
        if (document.body) show(); else document.addEventListener("DOMContentLoaded", show);
      }
    });
})();
