// The __gpp CMP API (src/gpp/api.ts) and the stubs (src/tcfstub.ts), on a
// fake window: what the page and other frames are told before and after
// the SDK takes over, the events and their order, and that bad calls are
// answered rather than thrown. (A real browser test lives in tests/browser.)
import assert from "node:assert/strict";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const sdk = fileURLToPath(new URL("../..", import.meta.url));
const built = await esbuild.build({
  stdin: {
    contents: 'export * from "./src/gpp/api"; export * from "./src/gpp/encode"; export * from "./src/tcfstub";',
    resolveDir: sdk,
    loader: "ts",
  },
  bundle: true,
  write: false,
  format: "esm",
  platform: "neutral",
});
const m = await import("data:text/javascript;base64," + Buffer.from(built.outputFiles[0].contents).toString("base64"));

/** A window and document with what the stubs and the API use: message listeners, <head>. */
function page() {
  const listeners = [];
  const head = {
    children: [],
    appendChild(el) {
      el.parentNode = head;
      head.children.push(el);
      return el;
    },
    removeChild(el) {
      head.children.splice(head.children.indexOf(el), 1);
    },
  };
  const d = {
    head,
    createElement: (tagName) => ({ tagName, name: "" }),
    querySelector: (sel) => head.children.find((el) => sel === `iframe[name="${el.name}"]`) || null,
  };
  const w = { addEventListener: (type, fn) => type === "message" && listeners.push(fn) };
  /** Posts `data` to the window as a frame would; returns what the frame receives back. */
  const post = (data) => {
    const received = [];
    const source = { postMessage: (msg, origin) => received.push({ msg, origin }) };
    for (const fn of listeners) fn({ data, source });
    return received;
  };
  return { w, d, post, frames: () => head.children.map((el) => el.name) };
}

/** Calls __gpp and returns what its callback got (synchronously). */
function call(w, command, parameter) {
  const got = [];
  w.__gpp(command, (data, success) => got.push([data, success]), parameter);
  assert.equal(got.length, 1, `${command} answered once, at once`);
  return got[0];
}

const choice = { saleOptOut: true, sharingOptOut: false, targetedAdvertisingOptOut: false, gpc: true };
const usnat = m.usChoice(7, choice);
const usca = m.usChoice(8, choice);

test("the stubs answer ping at once, queue every other call and add both locator frames", () => {
  const { w, d, frames } = page();
  m.installStubs(w, d);
  assert.deepEqual(frames(), ["__tcfapiLocator", "__gppLocator"]);
  const [ping, ok] = call(w, "ping");
  assert.equal(ok, true);
  assert.equal(ping.gppVersion, "1.1");
  assert.equal(ping.cmpStatus, "stub");
  assert.equal(ping.signalStatus, "not ready");
  let tcf;
  w.__tcfapi("ping", 2, (r, success) => (tcf = [r, success]));
  assert.equal(tcf[1], true);
  assert.equal(tcf[0].cmpLoaded, false);
  assert.equal(tcf[0].cmpStatus, "stub");
  assert.equal(tcf[0].apiVersion, undefined);
  assert.equal(tcf[0].gdprApplies, undefined);
  const cb = () => {};
  w.__gpp("addEventListener", cb);
  w.__gpp("getField", cb, "usnat.Gpc");
  w.__tcfapi("getTCData", 2, cb);
  assert.deepEqual(w.__gpp().map((a) => [...a]), [["addEventListener", cb], ["getField", cb, "usnat.Gpc"]]);
  assert.equal(w.__gpp.a, w.__gpp());
  assert.deepEqual(w.__tcfapi().map((a) => [...a]), [["getTCData", 2, cb]]);
});

test("a page's own __tcfapi or __gpp is kept", () => {
  const { w, d, frames } = page();
  const own = () => {};
  w.__gpp = own;
  m.installStubs(w, d);
  assert.equal(w.__gpp, own);
  assert.equal(typeof w.__tcfapi, "function");
  assert.deepEqual(frames(), ["__tcfapiLocator"]);
});

test("the stubs relay __gppCall and __tcfapiCall messages, answering as objects or as JSON text as asked", () => {
  const { w, d, post } = page();
  m.installStubs(w, d);
  const [r] = post({ __gppCall: { command: "ping", callId: "a1", version: "1.1" } });
  assert.equal(r.origin, "*");
  assert.equal(r.msg.__gppReturn.callId, "a1");
  assert.equal(r.msg.__gppReturn.success, true);
  assert.equal(r.msg.__gppReturn.returnValue.cmpStatus, "stub");
  const [j] = post(JSON.stringify({ __tcfapiCall: { command: "ping", version: 2, callId: 9 } }));
  const back = JSON.parse(j.msg).__tcfapiReturn;
  assert.deepEqual([back.callId, back.success, back.returnValue.cmpStatus], [9, true, "stub"]);
  // Other calls wait in the queue, with the relay's callback where each API has it.
  post({ __gppCall: { command: "getSection", parameter: "usnat", callId: 2 } });
  post({ __tcfapiCall: { command: "getTCData", version: 2, parameter: [1], callId: 3 } });
  const [g] = w.__gpp();
  assert.deepEqual([g[0], typeof g[1], g[2]], ["getSection", "function", "usnat"]);
  const [t] = w.__tcfapi();
  assert.deepEqual([t[0], t[1], typeof t[2], t[3]], ["getTCData", 2, "function", [1]]);
});

test("messages that are not calls are ignored, and none throws into the page", () => {
  const { w, d, post } = page();
  m.installStubs(w, d);
  for (const data of [null, undefined, 5, "", "not json", "null", "{}", { __gppCall: null }, [], { other: 1 }]) {
    assert.deepEqual(post(data), []);
  }
  assert.deepEqual(w.__gpp(), []);
  m.removeGppStub(w, d);
  assert.deepEqual(post({ __gppCall: { command: "ping", callId: 1 } }), []);
});

test("removeGppStub answers queued calls as failed and removes __gpp and its frame, leaving __tcfapi", () => {
  const { w, d, frames } = page();
  m.installStubs(w, d);
  const got = [];
  w.__gpp("addEventListener", (data, ok) => got.push([data, ok]));
  w.__gpp("hasSection", (data, ok) => got.push([data, ok]), "usnat");
  m.removeGppStub(w, d);
  assert.deepEqual(got, [[null, false], [null, false]]);
  assert.equal("__gpp" in w, false);
  assert.deepEqual(frames(), ["__tcfapiLocator"]);
  assert.equal(typeof w.__tcfapi, "function");
  // A CMP API that is not our stub is left alone.
  const own = () => {};
  w.__gpp = own;
  m.removeGppStub(w, d);
  assert.equal(w.__gpp, own);
});

test("the API takes over the queue: calls are answered in their order, queued listeners get listenerRegistered", () => {
  const { w, d } = page();
  m.installStubs(w, d);
  const log = [];
  w.__gpp("addEventListener", (e, ok) => log.push(["listener", e.eventName, e.listenerId, e.data, ok]));
  w.__gpp("hasSection", (data, ok) => log.push(["hasSection", data, ok]), "usnat");
  w.__gpp("bogus", (data, ok) => log.push(["bogus", data, ok]));
  new m.GppApi(w, d, 1);
  assert.deepEqual(log, [
    ["listener", "listenerRegistered", 1, true, true],
    ["hasSection", false, true],
    ["bogus", null, false],
  ]);
  // Later listeners get ids of their own.
  const [e] = call(w, "addEventListener");
  assert.equal(e.eventName, "listenerRegistered");
  assert.equal(e.listenerId, 2);
  assert.equal(e.pingData.cmpStatus, "loading");
});

test("ping tells the stub, then the loading API, then the state the SDK gave", () => {
  const { w, d } = page();
  m.installStubs(w, d);
  assert.equal(call(w, "ping")[0].cmpStatus, "stub");
  const api = new m.GppApi(w, d, 7, ["tcfeuv2", "usnat", "usca", "uspv1"]);
  assert.deepEqual(call(w, "ping"), [
    {
      gppVersion: "1.1",
      cmpStatus: "loading",
      cmpDisplayStatus: "hidden",
      signalStatus: "not ready",
      supportedAPIs: ["2:tcfeuv2", "7:usnat", "8:usca"],
      cmpId: 7,
      sectionList: [],
      applicableSections: [0],
      gppString: "",
      parsedSections: {},
    },
    true,
  ]);
  // The SDK encodes the string (the encoder loads in US regions only) and gives it.
  api.update({ applicableSections: [8], sections: { usnat, usca, tcfeuv2: "CQTC" }, gppString: m.encodeGpp({ usnat, usca, tcfeuv2: "CQTC" }) });
  const [p] = call(w, "ping");
  assert.equal(p.cmpStatus, "loaded");
  assert.equal(p.signalStatus, "ready");
  assert.deepEqual(p.sectionList, [2, 7, 8]);
  assert.deepEqual(p.applicableSections, [8]);
  assert.equal(p.gppString, m.encodeGpp({ usnat, usca, tcfeuv2: "CQTC" }));
  // tcfeuv2 was given as its TC string: no parsed form.
  assert.deepEqual(p.parsedSections, { usnat, usca });
  // The string the SDK computed is used as given.
  api.update({ applicableSections: [-1], sections: {}, gppString: "DBAA" });
  assert.deepEqual(call(w, "ping")[0].applicableSections, [-1]);
  assert.equal(call(w, "ping")[0].gppString, "DBAA");
  // Without the page's own list, every section the SDK can write is supported.
  const other = page();
  new m.GppApi(other.w, other.d, 1);
  assert.deepEqual(call(other.w, "ping")[0].supportedAPIs, m.SECTION_IDS.map((id) => `${id}:${m.sectionName(id)}`));
});

test("listeners get the events in the specification's order, each with the ping data of its moment", () => {
  const { w, d } = page();
  const api = new m.GppApi(w, d, 1);
  const events = [];
  w.__gpp("addEventListener", (e, ok) => events.push([e.eventName, e.data, e.pingData.signalStatus, ok]));
  api.setDisplayStatus("visible");
  api.setDisplayStatus("visible");
  api.setDisplayStatus("hidden");
  api.update({ applicableSections: [7], sections: { usnat } });
  assert.deepEqual(events, [
    ["listenerRegistered", true, "not ready", true],
    ["cmpDisplayStatus", "visible", "not ready", true],
    ["cmpDisplayStatus", "hidden", "not ready", true],
    ["cmpStatus", "loaded", "not ready", true],
    ["sectionChange", "usnat", "not ready", true],
    ["signalStatus", "ready", "ready", true],
  ]);
  events.length = 0;
  // A new choice: not ready first, ready last; only the sections that changed.
  api.update({ applicableSections: [7], sections: { usnat: m.usChoice(7, { ...choice, sharingOptOut: true }), usca } });
  assert.deepEqual(events.map((e) => e.slice(0, 3)), [
    ["signalStatus", "not ready", "not ready"],
    ["sectionChange", "usnat", "not ready"],
    ["sectionChange", "usca", "not ready"],
    ["signalStatus", "ready", "ready"],
  ]);
  events.length = 0;
  api.update({ applicableSections: [7], sections: { usnat: m.usChoice(7, { ...choice, sharingOptOut: true }) } });
  assert.deepEqual(events.map((e) => e.slice(0, 2)), [
    ["signalStatus", "not ready"],
    ["sectionChange", "usca"],
    ["signalStatus", "ready"],
  ]);
  events.length = 0;
  api.setCmpStatus("error");
  assert.deepEqual(events.map((e) => e.slice(0, 2)), [["cmpStatus", "error"]]);
});

test("removeEventListener stops a listener's events and says whether it removed one", () => {
  const { w, d } = page();
  const api = new m.GppApi(w, d, 1);
  const a = [];
  const b = [];
  w.__gpp("addEventListener", (e) => a.push(e.eventName));
  w.__gpp("addEventListener", (e) => b.push(e.eventName));
  assert.deepEqual(call(w, "removeEventListener", 1), [true, true]);
  assert.deepEqual(call(w, "removeEventListener", 1), [false, true]);
  assert.deepEqual(call(w, "removeEventListener", 99), [false, true]);
  api.setDisplayStatus("visible");
  assert.deepEqual(a, ["listenerRegistered"]);
  assert.deepEqual(b, ["listenerRegistered", "cmpDisplayStatus"]);
});

test("hasSection, getSection and getField answer from the sections the SDK gave, as copies", () => {
  const { w, d } = page();
  const api = new m.GppApi(w, d, 1);
  assert.deepEqual(call(w, "getSection", "usnat"), [null, false]);
  api.update({ applicableSections: [7], sections: { usnat, tcfeuv2: "CQTC" } });
  assert.deepEqual(call(w, "hasSection", "usnat"), [true, true]);
  assert.deepEqual(call(w, "hasSection", "usca"), [false, true]);
  assert.deepEqual(call(w, "hasSection", "tcfeuv2"), [true, true]);
  const [section, ok] = call(w, "getSection", "usnat");
  assert.equal(ok, true);
  assert.deepEqual(section, usnat);
  section.SaleOptOut = 2;
  section.SensitiveDataProcessing[0] = 2;
  assert.deepEqual(call(w, "getSection", "usnat")[0], usnat);
  assert.deepEqual(call(w, "getField", "usnat.SaleOptOut"), [1, true]);
  assert.deepEqual(call(w, "getField", "usnat.Gpc"), [true, true]);
  assert.deepEqual(call(w, "getField", "usnat.GpcSegmentIncluded"), [true, true]);
  const [list] = call(w, "getField", "usnat.KnownChildSensitiveDataConsents");
  list.push(9);
  assert.deepEqual(call(w, "getField", "usnat.KnownChildSensitiveDataConsents"), [[0, 0, 0], true]);
  // TCF data is read through __tcfapi, as with @iabgpp/cmpapi.
  assert.deepEqual(call(w, "getSection", "tcfeuv2"), [null, false]);
  assert.deepEqual(call(w, "getField", "tcfeuv2.CmpId"), [null, false]);
  // The SDK's later changes to the object it gave do not show either.
  usnat.SaleOptOut = 2;
  try {
    assert.deepEqual(call(w, "getField", "usnat.SaleOptOut"), [1, true]);
  } finally {
    usnat.SaleOptOut = 1;
  }
});

test("unknown commands, bad parameters and missing sections or fields are answered (null, false), never thrown", () => {
  const { w, d } = page();
  const api = new m.GppApi(w, d, 1);
  api.update({ applicableSections: [7], sections: { usnat } });
  const bad = [
    ["nope"],
    [42],
    [undefined],
    ["getSection"],
    ["getSection", 7],
    ["getSection", "usca"],
    ["getSection", "__proto__"],
    ["getSection", "constructor"],
    ["getField", "usnat"],
    ["getField", "usnat.Nope"],
    ["getField", "usnat.toString"],
    ["getField", "usnat.Gpc.x"],
    ["getField", "usca.Gpc"],
    ["getField", null],
    ["hasSection"],
    ["hasSection", {}],
  ];
  for (const [command, parameter] of bad) assert.deepEqual(call(w, command, parameter), [null, false], `${command} ${parameter}`);
  assert.deepEqual(call(w, "hasSection", "constructor"), [false, true]);
  // Without a callback there is no one to answer, and nothing is thrown.
  assert.doesNotThrow(() => w.__gpp("ping"));
  assert.doesNotThrow(() => w.__gpp("ping", "not a function"));
  assert.doesNotThrow(() => w.__gpp());
  // A callback that throws keeps its error: later listeners still get their events.
  assert.doesNotThrow(() => w.__gpp("ping", () => {
    throw new Error("the caller's");
  }));
  const got = [];
  w.__gpp("addEventListener", () => {
    throw new Error("the listener's");
  });
  w.__gpp("addEventListener", (e) => got.push(e.eventName));
  assert.doesNotThrow(() => api.setDisplayStatus("visible"));
  assert.deepEqual(got, ["listenerRegistered", "cmpDisplayStatus"]);
});

test("calls from other frames reach the API through the stub's relay, events included", () => {
  const { w, d, post } = page();
  m.installStubs(w, d);
  const api = new m.GppApi(w, d, 1);
  const received = post(JSON.stringify({ __gppCall: { command: "addEventListener", callId: "f1", version: "1.1" } }));
  const first = JSON.parse(received[0].msg).__gppReturn;
  assert.deepEqual([first.callId, first.success, first.returnValue.eventName], ["f1", true, "listenerRegistered"]);
  api.update({ applicableSections: [7], sections: { usnat } });
  const names = received.slice(1).map((r) => JSON.parse(r.msg).__gppReturn.returnValue.eventName);
  assert.deepEqual(names, ["cmpStatus", "sectionChange", "signalStatus"]);
  const [field] = post({ __gppCall: { command: "getField", parameter: "usnat.SaleOptOut", callId: 3 } });
  assert.deepEqual(field.msg, { __gppReturn: { returnValue: 1, success: true, callId: 3 } });
});

test("the API installs the stub's frame and relay itself on a page without the stub", () => {
  const { w, d, post, frames } = page();
  new m.GppApi(w, d, 1);
  assert.deepEqual(frames(), ["__gppLocator"]);
  const [r] = post({ __gppCall: { command: "ping", callId: 1 } });
  assert.equal(r.msg.__gppReturn.returnValue.cmpStatus, "loading");
});
