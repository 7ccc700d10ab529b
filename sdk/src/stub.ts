// The inline stub (dist/stub.js): goes into the page's <head> before any
// other tag, after the settings element:
//   <script type="application/json" id="nexaguard-settings">{...}</script>
// It sets the Consent Mode defaults, installs the __tcfapi stub and loads
// the SDK asynchronously. Budget: 1 KB gzipped.

/* eslint-disable @typescript-eslint/no-explicit-any */
import { configUrl, pageLanguage, regionUrl } from "./configurl";
import { installStubs as installTcfStub } from "./tcfstub";

const w = window as any;
const d = document;
let s: any = {};
try {
  s = JSON.parse((d.getElementById("nexaguard-settings") as HTMLElement).textContent as string) || {};
} catch (_) {
  // no or unreadable settings: still install the stubs
}
w.dataLayer = w.dataLayer || [];
const gtag =
  w.gtag ||
  (w.gtag = function () {
    // eslint-disable-next-line prefer-rest-params
    w.dataLayer.push(arguments);
  });
(s.consentDefaults || []).forEach((x: unknown) => gtag("consent", "default", x));
gtag("set", "url_passthrough", !!s.urlPassthrough);
gtag("set", "ads_data_redaction", !!s.adsDataRedaction);
installTcfStub(w, d);
if (s.sdkUrl) {
  const el = d.createElement("script");
  el.async = true;
  el.src = s.sdkUrl;
  if (s.integrity) el.integrity = s.integrity;
  el.crossOrigin = "anonymous";
  // Under a nonce-based Content-Security-Policy the SDK gets the stub's nonce.
  el.nonce = ((d.currentScript as HTMLScriptElement) || el).nonce;
  el.setAttribute("data-site-key", s.siteKey);
  d.head.appendChild(el);
  // Start loading the configuration and the visitor's region now rather
  // than after the SDK arrived.
  try {
    const o = new URL(s.sdkUrl).origin;
    const get = (u: string) => ({ u, p: fetch(u, { credentials: "omit" }) });
    w.__nexaguardConfig = get(configUrl(o, s.siteKey, pageLanguage(d, navigator)));
    w.__nexaguardRegion = get(regionUrl(o, s.siteKey, s.region ? "?region=" + encodeURIComponent(s.region) : ""));
  } catch (_) {
    // the SDK fetches them itself
  }
}
