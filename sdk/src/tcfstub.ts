// The __tcfapi stub: queues calls until the CMP API takes over (the IAB
// CmpApi reads the queue by calling __tcfapi() without arguments), answers
// "ping" at once, adds the __tcfapiLocator frame and relays __tcfapiCall
// messages from other frames. Shared by the inline stub and the SDK (which
// installs it itself when the page has no stub).

/* eslint-disable @typescript-eslint/no-explicit-any */

export function installTcfStub(w: any, d: Document): void {
  if (typeof w.__tcfapi === "function") return;
  // Holds the arguments objects of the calls (spread by the CmpApi on takeover).
  const queue: unknown[][] = [];
  const api: any = function () {
    // eslint-disable-next-line prefer-rest-params
    const args = arguments;
    if (!args.length) return queue;
    if (args[0] === "ping") {
      args[2]({ gdprApplies: undefined, cmpLoaded: false, cmpStatus: "stub", apiVersion: "2.3" }, true);
    } else {
      queue.push(args as unknown as unknown[]);
    }
  };
  api.a = queue;
  w.__tcfapi = api;

  const addFrame = () => {
    if (w.frames.__tcfapiLocator) return;
    if (d.body) {
      const f = d.createElement("iframe");
      f.style.display = "none";
      f.name = "__tcfapiLocator";
      d.body.appendChild(f);
    } else {
      setTimeout(addFrame, 5);
    }
  };
  addFrame();

  w.addEventListener("message", (e: MessageEvent) => {
    const json = typeof e.data === "string";
    let m: any;
    try {
      m = json ? JSON.parse(e.data) : e.data;
    } catch (_) {
      return;
    }
    const c = m && m.__tcfapiCall;
    if (!c || !w.__tcfapi) return;
    w.__tcfapi(
      c.command,
      c.version,
      (returnValue: unknown, success: boolean) => {
        const r = { __tcfapiReturn: { returnValue, success, callId: c.callId } };
        if (e.source) (e.source as Window).postMessage(json ? JSON.stringify(r) : r, "*");
      },
      c.parameter,
    );
  });
}

/**
 * Removes a stub that no CMP will take over (sites without TCF): queued
 * calls are answered as failed and __tcfapi disappears, so that scripts see
 * no CMP rather than waiting for one.
 */
export function removeTcfStub(w: any, d: Document): void {
  const api = w.__tcfapi;
  if (typeof api !== "function" || !Array.isArray(api.a)) return;
  try {
    delete w.__tcfapi;
  } catch (_) {
    w.__tcfapi = undefined;
  }
  const f = d.querySelector('iframe[name="__tcfapiLocator"]');
  if (f && f.parentNode) f.parentNode.removeChild(f);
  for (const call of api.a as unknown[][]) {
    if (typeof call[2] === "function") (call[2] as (r: unknown, ok: boolean) => void)(null, false);
  }
}
