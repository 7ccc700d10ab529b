// window.__gpp, the IAB GPP CMP API 1.1, for the SDK controller.
//
// Guarantees:
// - on construction it takes over the stub's queue (tcfstub.ts) and
//   answers the queued calls in their order, then every call at once; a page
//   without the stub gets it first, for the __gppLocator frame and the
//   __gppCall relay;
// - commands ping, addEventListener, removeEventListener, hasSection,
//   getSection, getField; anything else, a bad parameter or a section or
//   field it does not have is answered (null, false); nothing thrown by a
//   caller's callback escapes, and nothing here throws into the page;
// - events {eventName, listenerId, data, pingData} to every listener:
//   listenerRegistered (to the new listener), cmpStatus, cmpDisplayStatus,
//   signalStatus (each only when it changes) and sectionChange;
// - answers are copies: a caller cannot change what others are told.
//
// Sections are kept as the field objects the controller gives (the encoder's
// input, field names as @iabgpp/cmpapi's); getSection answers the fields
// as one object, as @iabgpp/cmpapi does, not the specification's array of
// sub-section objects. tcfeuv2 is never answered by getSection/getField
// (TCF data is read through __tcfapi, as @iabgpp/cmpapi does too).

/* eslint-disable @typescript-eslint/no-explicit-any */
import { installGppStub } from "../tcfstub";
import type { GppSections } from "./encode";
import { SECTION_IDS, sectionId, sectionName } from "./sections";

export type CmpStatus = "loading" | "loaded" | "error";
export type DisplayStatus = "visible" | "hidden" | "disabled";
export type SignalStatus = "ready" | "not ready";

/** The GPP CMP API's PingReturn. */
export interface PingReturn {
  gppVersion: "1.1";
  cmpStatus: CmpStatus;
  cmpDisplayStatus: DisplayStatus;
  signalStatus: SignalStatus;
  supportedAPIs: string[];
  cmpId: number;
  sectionList: number[];
  applicableSections: number[];
  gppString: string;
  parsedSections: Record<string, object>;
}

/** What the page is told after a choice (or a stored one) holds. */
export interface GppState {
  /** The section ids in force for this visitor; [-1] when none is. */
  applicableSections: number[];
  /** Sections by API prefix: fields (US sections) or encoded text (tcfeuv2's TC string). */
  sections: GppSections;
  /** The GPP string of `sections` (the controller encodes it, so that the encoder loads only where US sections are written). */
  gppString: string;
}

type Callback = (data: unknown, success: boolean) => void;

const clone = (o: any) => {
  const r: any = {};
  for (const k in o) r[k] = Array.isArray(o[k]) ? o[k].slice() : o[k];
  return r;
};

export class GppApi {
  private _cmpId: number;
  private _supported: string[];
  private _listeners = new Map<number, Callback>();
  private _next = 1;
  private _cmp: CmpStatus = "loading";
  private _display: DisplayStatus = "hidden";
  private _signal: SignalStatus = "not ready";
  // 0: not known yet, as the specification allows while the CMP loads.
  private _applicable: number[] = [0];
  private _sections: GppSections = {};
  private _string = "";

  /**
   * @param cmpId the IAB CMP id (1 for a CMP without one, as the GPP
   *   specification asks)
   * @param supported API prefixes the page may see (others are left out);
   *   by default every section encode.ts writes
   */
  constructor(w: any, d: Document, cmpId: number, supported?: string[]) {
    this._cmpId = cmpId;
    this._supported = (supported || SECTION_IDS.map(sectionName))
      .filter((n) => sectionId(n as string))
      .map((n) => sectionId(n as string) + ":" + n);
    installGppStub(w, d);
    let queue: unknown = [];
    try {
      queue = w.__gpp();
    } catch (_) {
      // a CMP API that is not a stub: nothing queued
    }
    w.__gpp = (command: unknown, callback: unknown, parameter: unknown) => this._call(command, callback, parameter);
    if (Array.isArray(queue)) for (const args of queue) this._call(args[0], args[1], args[2]);
  }

  /**
   * Tells the page a new state: signalStatus "not ready" (when it was
   * ready), cmpStatus "loaded" (when it was loading), a sectionChange for
   * every section that changed (in id order), then signalStatus "ready".
   * Sections other than those sections.ts knows are never named in events
   * or in ping's sectionList.
   */
  update(state: GppState): void {
    this.setSignalStatus("not ready");
    if (this._cmp == "loading") this.setCmpStatus("loaded");
    const before = this._sections;
    const after: GppSections = (this._sections = {});
    const given = state.sections || {};
    // Kept as copies, so that the controller's later changes to what it
    // gave do not show.
    for (const n in given) after[n] = typeof given[n] == "object" ? clone(given[n]) : given[n];
    this._applicable = Array.isArray(state.applicableSections) ? state.applicableSections.slice() : [-1];
    this._string = String(state.gppString || "");
    for (const id of SECTION_IDS) {
      const n = sectionName(id) as string;
      if (JSON.stringify(before[n]) !== JSON.stringify(after[n])) this._fire("sectionChange", n);
    }
    this.setSignalStatus("ready");
  }

  setSignalStatus(s: SignalStatus): void {
    if (this._signal != s) this._fire("signalStatus", (this._signal = s));
  }

  setDisplayStatus(s: DisplayStatus): void {
    if (this._display != s) this._fire("cmpDisplayStatus", (this._display = s));
  }

  setCmpStatus(s: CmpStatus): void {
    if (this._cmp != s) this._fire("cmpStatus", (this._cmp = s));
  }

  /** What `ping` answers now (a fresh object). */
  ping(): PingReturn {
    const parsed: Record<string, object> = {};
    const ids: number[] = [];
    for (const id of SECTION_IDS) {
      const n = sectionName(id) as string;
      const v = this._sections[n];
      if (v) ids.push(id);
      if (v && typeof v == "object") parsed[n] = clone(v);
    }
    return {
      gppVersion: "1.1",
      cmpStatus: this._cmp,
      cmpDisplayStatus: this._display,
      signalStatus: this._signal,
      supportedAPIs: this._supported.slice(),
      cmpId: this._cmpId,
      sectionList: ids,
      applicableSections: this._applicable.slice(),
      gppString: this._string,
      parsedSections: parsed,
    };
  }

  private _event(eventName: string, listenerId: number, data: unknown) {
    return { eventName, listenerId, data, pingData: this.ping() };
  }

  private _fire(eventName: string, data: unknown): void {
    this._listeners.forEach((cb, id) => {
      try {
        cb(this._event(eventName, id, data), true);
      } catch (_) {
        // a listener's error is its own
      }
    });
  }

  private _call(command: unknown, callback: unknown, parameter: unknown): void {
    if (typeof callback != "function") return;
    let data: unknown = null;
    try {
      data = this._answer(command, callback as Callback, parameter);
    } catch (_) {
      data = null;
    }
    try {
      (callback as Callback)(data, data !== null);
    } catch (_) {
      // the caller's error is its own
    }
  }

  // The answer to a call; null for one that cannot be answered.
  private _answer(command: unknown, callback: Callback, p: unknown): unknown {
    // Only own properties: "constructor" or "__proto__" name no section or field.
    const has = (o: object, k: unknown) => typeof k == "string" && Object.prototype.hasOwnProperty.call(o, k);
    const section = (name: unknown) => {
      const v = has(this._sections, name) && name != "tcfeuv2" ? this._sections[name as string] : null;
      return v && typeof v == "object" ? v : null;
    };
    switch (command) {
      case "ping":
        return this.ping();
      case "addEventListener": {
        const id = this._next++;
        this._listeners.set(id, callback);
        return this._event("listenerRegistered", id, true);
      }
      case "removeEventListener":
        return this._listeners.delete(p as number);
      case "hasSection":
        return typeof p == "string" ? has(this._sections, p) : null;
      case "getSection": {
        const v = section(p);
        return v && clone(v);
      }
      case "getField": {
        const [name, field, extra] = typeof p == "string" ? p.split(".") : [];
        const v: any = extra === undefined && section(name);
        const f = v && has(v, field) ? v[field] : null;
        return Array.isArray(f) ? f.slice() : f;
      }
    }
    return null;
  }
}
