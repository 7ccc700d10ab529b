// The __tcfapi (IAB TCF) and __gpp (IAB GPP CMP API 1.1) stubs, shared by
// the inline stub and the SDK (which installs them itself when the page has
// no stub). Each stub guarantees, until a CMP API takes it over:
// - calls other than "ping" are kept in order in `stub.a`, and `stub()`
//   without arguments returns that queue (how the IAB TCF CmpApi and
//   gpp/api.ts take over);
// - "ping" is answered at once, with cmpStatus "stub";
// - a __tcfapiLocator / __gppLocator frame lets other frames find the page,
//   and __tcfapiCall / __gppCall messages from them are relayed to whatever
//   __tcfapi / __gpp is at that moment, answered with __tcfapiReturn /
//   __gppReturn (as JSON text when the call came as JSON text); messages
//   that are not such calls are ignored, and nothing thrown while relaying
//   reaches the page.
// A page that already has a __tcfapi or __gpp keeps it.
//
// The inline stub has 1 KB gzipped for everything it does, and these two
// stubs about 350 bytes of it: they are one function, with the API's name
// and argument order as data, and one answer to "ping".

/* eslint-disable @typescript-eslint/no-explicit-any */

// The stubs' answer to "ping", for both APIs: each reads the fields it
// defines, the other API's are extra. Only the status fields, as the IAB's
// own TCF stub answers (gdprApplies and apiVersion are undefined until the
// CMP API has loaded); the GPP answer's other fields (supportedAPIs,
// sectionList, applicableSections, gppString, parsedSections,
// cmpDisplayStatus) come with the SDK's answers.
const PING = {
  gppVersion: "1.1",
  cmpStatus: "stub",
  cmpLoaded: false,
  signalStatus: "not ready",
};

/**
 * `tcf` is 1 for __tcfapi(command, version, callback, parameter) and 0 for
 * __gpp(command, callback, parameter, version): the callback is argument
 * 1 + tcf.
 */
function install(w: any, d: Document, n: string, tcf: number): void {
  if (w[n]) return;
  const queue: unknown[][] = [];
  ((w[n] = (...a: any[]) => (a.length ? (a[0] == "ping" ? a[1 + tcf](PING, true) : queue.push(a)) : queue)) as any).a = queue;
  // In <head>, which is never rendered and exists as soon as any script
  // runs: no styling, and no waiting for <body>. Named before it is
  // inserted: Chrome does not name the frame's window after.
  const f = d.createElement("iframe");
  f.name = n + "Locator";
  d.head.appendChild(f);
  w.addEventListener("message", (e: MessageEvent) => {
    // Anything but a call (no data, JSON text that does not parse, no
    // `${n}Call`) throws here, and so does a call once the stub is removed.
    try {
      const json = typeof e.data == "string";
      const c = (json ? JSON.parse(e.data) : e.data)[n + "Call"];
      const r = (returnValue: unknown, success: boolean) => {
        const x = { [n + "Return"]: { returnValue, success, callId: c.callId } };
        (e.source as Window).postMessage(json ? JSON.stringify(x) : x, "*");
      };
      // GPP has one API version: __gpp is not given one.
      w[n](c.command, ...(tcf ? [c.version, r] : [r]), c.parameter);
    } catch (_) {
      // not a call, or nothing to relay it to
    }
  });
}

/** Installs the __tcfapi and __gpp stubs (each unless the page has one). */
export function installStubs(w: any, d: Document): void {
  install(w, d, "__tcfapi", 1);
  install(w, d, "__gpp", 0);
}

/** Installs the __tcfapi stub only. */
export function installTcfStub(w: any, d: Document): void {
  install(w, d, "__tcfapi", 1);
}

/** Installs the __gpp stub only. */
export function installGppStub(w: any, d: Document): void {
  install(w, d, "__gpp", 0);
}

function remove(w: any, d: Document, n: string, cb: number): void {
  const api = w[n];
  if (typeof api != "function" || !Array.isArray(api.a)) return;
  try {
    delete w[n];
  } catch (_) {
    w[n] = undefined;
  }
  const f = d.querySelector('iframe[name="' + n + 'Locator"]');
  if (f && f.parentNode) f.parentNode.removeChild(f);
  for (const call of api.a as unknown[][]) {
    try {
      if (typeof call[cb] == "function") (call[cb] as (r: unknown, ok: boolean) => void)(null, false);
    } catch (_) {
      // the caller's error is its own: the other callers are still answered
    }
  }
}

/**
 * Removes a __tcfapi stub that no CMP will take over (sites without TCF):
 * queued calls are answered as failed and __tcfapi disappears, so that
 * scripts see no CMP rather than waiting for one.
 */
export function removeTcfStub(w: any, d: Document): void {
  remove(w, d, "__tcfapi", 2);
}

/** The same for __gpp, for visitors whose region needs no GPP signal. */
export function removeGppStub(w: any, d: Document): void {
  remove(w, d, "__gpp", 1);
}
