// The SDK's controller: loads the site's configuration and the visitor's
// region (with the experience the site gives it), decides whether to ask,
// records choices (cookies, TC string, __tcfapi, GPP, Consent Mode, proof
// of consent) and exposes window.NexaGuard.
//
// Invariant: a stored choice made in the experience the visitor gets now
// always wins over the region's defaults; a change of experience (from
// `us` to `tcf`, say) asks again.

/* eslint-disable @typescript-eslint/no-explicit-any */

import type { NexaGuardApi, NexaGuardEvent, NexaGuardEventMap, UiEvent } from "../types/nexaguard";
import { ScriptGate } from "./blocking";
import { type Chunks, loadChunk } from "./chunk";
import { configUrl, type EarlyConfig, pageLanguage, regionQuery, regionUrl, siteKeyOfSrc } from "./configurl";
import { consentModeFor, hasConsentDefault, type UsOptOuts, usConsentMode } from "./consent-mode";
import { CookieJar, GPP_COOKIE, STATE_COOKIE, TC_COOKIE, TOKEN_COOKIE } from "./cookies";
import { GppApi } from "./gpp/api";
import type { GppSections } from "./gpp/encode";
import { sectionName } from "./gpp/sections";
import { uiStrings } from "./i18n";
import { ProofQueue, uuid } from "./proof";
import { reconsentReason } from "./reconsent";
import { decodeStored, encodeStored, type StoredChoice } from "./stored";
import type { Cmp, TcEncoder } from "./tcf";
import {
  acceptAllChoice,
  isWithdrawal,
  liPurposes,
  necessaryCategories,
  pickStacks,
  rejectAllChoice,
  sanitizeChoice,
  siteVendors,
} from "./tcf-rules";
import { installTcfStub, removeTcfStub } from "./tcfstub";
import type { Action, Choice, ConfigAnswer, ConsentState, ExperienceKind, RegionAnswer, SiteConfig, Source, VendorListJson } from "./types";
import { Ui, type UiModel } from "./ui";

declare const __SDK_VERSION__: string;
export const SDK_VERSION = __SDK_VERSION__;

/** The GPP header of a string with section 2 (tcfeuv2) only (test/unit/gpp-* checks it). */
export const GPP_TCF_HEADER = "DBABMA";

interface Settings {
  siteKey?: string;
  sdkUrl?: string;
  /** The visitor's region, where the site knows it (server-side rendering). */
  region?: string;
}

function readSettings(d: Document): Settings {
  try {
    const el = d.getElementById("nexaguard-settings");
    return (el && JSON.parse(el.textContent || "{}")) || {};
  } catch (_) {
    return {};
  }
}

const copy = <T>(x: T): T => JSON.parse(JSON.stringify(x));

/** localStorage key of the language the visitor chose in the preference center (a preference they asked to keep: no consent needed). */
const LANGUAGE_KEY = "nexaguard-language";

export class NexaGuard {
  readonly api: NexaGuardApi;
  private _answer: ConfigAnswer | null = null;
  private _config!: SiteConfig;
  private _jar!: CookieJar;
  private _ui!: Ui;
  private _encoder: TcEncoder | null = null;
  private _cmp: Cmp | null = null;
  /** The TCF chunk, once loaded (TCF experiences only). */
  private _tcfMod: Chunks["tcf"] | null = null;
  /** The US sections' GPP encoder, once loaded (US experiences only). */
  private _usMod: Chunks["us"] | null = null;
  private _gppApi: GppApi | null = null;
  /** The region answer, or null when it could not be had (the site's regulation applies). */
  private _region: RegionAnswer | null = null;
  private _kind: ExperienceKind = "opt_in";
  /** Global Privacy Control: sent by the browser, and honoured by this experience. */
  private _gpc = { present: false, applied: false };
  /** US opt-outs in force: 1 sale and sharing, 2 targeted advertising (as stored). */
  private _us = 0;
  /** Whether the US choice in force came from the GPC signal. */
  private _usFromGpc = false;
  /** The impression event of the notice shown on this page, which the choice references. */
  private _impressionId: string | undefined;
  private _proof!: ProofQueue;
  private _gate: ScriptGate;
  /** The choice in force, or null. */
  private _choice: Choice | null = null;
  /** A previous choice that no longer holds (re-consent): prefills the preference center. */
  private _prefill: Choice | null = null;
  private _reconsent = false;
  private _state: ConsentState | null = null;
  private _tc: string | undefined;
  private _uiSignalled = false;
  private _listeners: { [K in NexaGuardEvent]: ((p: NexaGuardEventMap[K]) => void)[] } = { ready: [], consent: [], ui: [] };
  private _readyPromise: Promise<ConsentState | null>;
  private _resolveReady!: (s: ConsentState | null) => void;
  private _isReady = false;

  constructor(
    private _w: any,
    private _d: Document,
    private _siteKey: string,
    private _base: string,
    private _nonce?: string,
    private _declaredRegion?: string,
  ) {
    this._readyPromise = new Promise((r) => (this._resolveReady = r));
    this._gate = new ScriptGate(_d, (c) => this._allowed(c));
    const self = this;
    const whenReady = (fn: () => void) => {
      this._readyPromise.then(() => this._answer && this._whenBody(fn));
    };
    this.api = {
      version: SDK_VERSION,
      ready: () => this._readyPromise,
      getConsent: () => (this._state ? copy(this._state) : null),
      hasConsent: (x) => this._has(x),
      showBanner: () => whenReady(() => this._openBanner()),
      showPreferences: () => whenReady(() => this._openPreferences()),
      acceptAll: () => this._loadedThen(() => self._choose(acceptAllChoice(this._config, this._vl()), "accept_all", "api")),
      rejectAll: () => this._loadedThen(() => self._choose(rejectAllChoice(this._config), "reject_all", "api")),
      on: (event, cb) => {
        const list = this._listeners[event] as unknown[];
        if (!list || typeof cb !== "function") return;
        list.push(cb);
        if (event === "ready" && this._isReady) {
          const s = this._state;
          setTimeout(() => this._call(cb as (p: unknown) => void, s && copy(s)), 0);
        }
      },
      off: (event, cb) => {
        const list = this._listeners[event] as unknown[];
        const i = list ? list.indexOf(cb) : -1;
        if (i >= 0) list.splice(i, 1);
      },
      reset: () => whenReady(() => this._reset()),
    };
  }

  private _loadedThen<T>(fn: () => T): Promise<T> {
    return this._readyPromise.then(() => {
      if (!this._answer) throw new Error("NexaGuard: the site configuration did not load");
      return fn();
    });
  }

  private _vl() {
    return (this._answer as ConfigAnswer).vendorList;
  }

  private get _tcf(): boolean {
    return this._kind === "tcf";
  }

  /** Experiences that ask nothing: every category holds without a choice. */
  private get _asksNothing(): boolean {
    return this._kind === "none" || this._kind === "notice_only";
  }

  // -- events --

  private _call(cb: (p: unknown) => void, payload: unknown): void {
    try {
      cb(payload);
    } catch (e) {
      console.error(e);
    }
  }

  private _emit<K extends NexaGuardEvent>(event: K, payload: NexaGuardEventMap[K]): void {
    this._listeners[event].slice().forEach((cb) => this._call(cb as (p: unknown) => void, payload && copy(payload)));
  }

  // -- loading --

  _start(): void {
    this._gate.start();
    // Any element with data-nexaguard-open (a footer link, say) reopens the preferences.
    this._d.addEventListener("click", (e) => {
      const t = e.target as Element | null;
      if (t && t.closest && t.closest("[data-nexaguard-open]")) {
        e.preventDefault();
        this.api.showPreferences();
      }
    });
    const w = this._w;
    const early = (name: string, url: string, load: () => Promise<Response>): Promise<Response> => {
      // The stub may have started the request already.
      const e = w[name] as EarlyConfig | undefined;
      w[name] = undefined;
      return e && e.u === url ? e.p.catch(load) : load();
    };
    const get = (url: string) => () => fetch(url, { credentials: "omit" });
    const url = configUrl(this._base, this._siteKey, this._storedLanguage() || pageLanguage(this._d, w.navigator || {}));
    const rurl = regionUrl(this._base, this._siteKey, regionQuery(this._declaredRegion, (w.location && w.location.search) || ""));
    const region: Promise<RegionAnswer | null> = early("__nexaguardRegion", rurl, get(rurl))
      .then((r) => (r.ok ? r.json() : null))
      .catch(() => null);
    // A region's chunk starts loading as soon as the region is known.
    region.then((r) => r && this._chunk(r.experience.experience.kind).catch(() => null));
    early("__nexaguardConfig", url, get(url))
      .then((r) => {
        if (!r.ok) throw new Error("config.json answered " + r.status);
        return r.json();
      })
      .then((a: ConfigAnswer) =>
        region.then((r) => {
          const kind = r ? r.experience.experience.kind : a.config.regulation;
          return this._chunk(kind).then(() => this._loaded(a, r, kind));
        }),
      )
      .catch((e) => {
        console.error("NexaGuard: could not load the site configuration", e);
        this._markReady();
      });
  }

  /** What the UI shows of answer `a`. */
  private _model(a: ConfigAnswer): UiModel {
    const config = a.config;
    const vendors = siteVendors(config, a.vendorList);
    return { answer: a, strings: uiStrings(a.strings), vendors, liPurposes: liPurposes(config, vendors), stacks: pickStacks(config, a.vendorList), nonce: this._nonce };
  }

  /** The language the visitor chose in the preference center on an earlier page, if any. */
  private _storedLanguage(): string | null {
    try {
      return this._w.localStorage.getItem(LANGUAGE_KEY);
    } catch (_) {
      return null;
    }
  }

  /**
   * Another of the site's languages, chosen in the preference center: its
   * config.json replaces the texts (ours, the site's, the IAB's) and the TC
   * string's consent language; the choice is remembered for later pages.
   */
  private _setLanguage(code: string): void {
    try {
      this._w.localStorage.setItem(LANGUAGE_KEY, code);
    } catch (_) {
      // storage blocked: this page only
    }
    fetch(configUrl(this._base, this._siteKey, code), { credentials: "omit" })
      .then((r) => r.json())
      .then((n: ConfigAnswer) => {
        const a = this._answer as ConfigAnswer;
        const config = this._config;
        config.languages = n.config.languages;
        config.customPurposes = n.config.customPurposes;
        a.language = n.language;
        a.strings = n.strings;
        a.dir = n.dir;
        a.vendorList = n.vendorList;
        if (this._encoder) this._encoder = new (this._tcfMod as Chunks["tcf"]).TcEncoder(config, n.vendorList as VendorListJson, a.language);
        this._ui._relang(this._model(a));
      })
      .catch((e) => console.error("NexaGuard: could not load the language", e));
  }

  /** Loads what experience `kind` needs beyond this file. */
  private _chunk(kind: ExperienceKind): Promise<unknown> {
    const load = <K extends keyof Chunks>(name: K) => loadChunk(this._w, this._d, this._base, name, this._nonce);
    if (kind === "tcf") return load("tcf").then((m) => (this._tcfMod = m));
    if (kind === "us" || kind === "notice_only") return load("us").then((m) => (this._usMod = m));
    return Promise.resolve();
  }

  /**
   * The GPP sections of the choice in force: in a TCF region tcfeuv2 (the
   * TC string), in a US region the region's sections from the opt-outs;
   * none before a TC string exists or where no section applies.
   */
  private _gppSections(): GppSections {
    const out: GppSections = {};
    if (this._tcf) {
      if (this._tc) out.tcfeuv2 = this._tc;
      return out;
    }
    const m = this._usMod;
    if (!m || this._kind !== "us" || !this._region) return out;
    return m.usSections(this._region.experience.gppSectionIds, this._us, this._gpc.applied);
  }

  /**
   * The GPP string of `sections`: a TCF region's is its TC string behind
   * the header of section 2 alone (so the encoder stays out of TCF
   * regions), a US region's comes from the encoder.
   */
  private _gppStringOf(sections: GppSections): string {
    if (this._tcf) return sections.tcfeuv2 ? GPP_TCF_HEADER + "~" + sections.tcfeuv2 : "";
    return this._usMod && Object.keys(sections).length ? this._usMod.encodeGpp(sections) : "";
  }

  /** Tells __gpp the state in force; gives the GPP string. */
  private _gppUpdate(): string {
    const api = this._gppApi;
    const sections = this._gppSections();
    const gppString = this._gppStringOf(sections);
    const ids = this._region ? this._region.experience.gppSectionIds : this._tcf ? [2] : [];
    if (api) api.update({ applicableSections: ids.length ? ids.slice() : [-1], sections, gppString });
    return gppString;
  }

  private _markReady(): void {
    this._isReady = true;
    this._resolveReady(this._state && copy(this._state));
    this._emit("ready", this._state);
  }

  private _whenBody(fn: () => void): void {
    if (this._d.body) fn();
    else this._d.addEventListener("DOMContentLoaded", fn);
  }

  private _loaded(answer: ConfigAnswer, r: RegionAnswer | null, kind: ExperienceKind): void {
    const w = this._w;
    this._region = r;
    this._kind = kind;
    const ex = r && r.experience.experience;
    // The configuration as this visitor's experience applies it: the
    // banner, the preference center and the choice rules follow
    // `regulation`, and gdprApplies comes with the region's experience.
    const config: SiteConfig = Object.assign({}, answer.config, {
      regulation: kind === "tcf" ? "tcf" : "opt_in",
      gdprApplies: r ? r.experience.gdprApplies : answer.config.gdprApplies,
    });
    const a = (this._answer = Object.assign({}, answer, { config }));
    this._config = config;
    const present = !!(w.navigator && w.navigator.globalPrivacyControl) || !!(r && r.gpc);
    this._gpc = { present, applied: present && kind === "us" && !(ex && ex.honourGpc === false) };
    this._jar = new CookieJar(this._d, config.cookieDomain, w.location.protocol === "https:");
    // __gpp in every region: where no section applies it says so ([-1]).
    const gppIds = r ? r.experience.gppSectionIds : kind === "tcf" ? [2] : [];
    this._gppApi = new GppApi(w, this._d, config.cmpId || 1, gppIds.map((id) => sectionName(id) as string).filter(Boolean));
    this._ui = new Ui(
      this._d,
      this._model(a),
      {
        acceptAll: (source) => this._choose(acceptAllChoice(config, a.vendorList), "accept_all", source),
        rejectAll: (source) => this._choose(rejectAllChoice(config), "reject_all", source),
        save: (c) => this._choose(c, "custom", "preference_center"),
        dismissed: () => this._dismissed(),
        reopen: () => this._openPreferences(),
        ui: (type, open) => {
          if (this._gppApi) this._gppApi.setDisplayStatus(open ? "visible" : "hidden");
          this._emit("ui", { type, open } as UiEvent);
        },
        usChoice: (o, source) => this._chooseUs(o, source),
        noticeClosed: () => this._noticeClosed(),
        language: (code) => this._setLanguage(code),
      },
    );
    this._proof = new ProofQueue(
      a.siteKey,
      () => this._jar.get(TOKEN_COOKIE),
      (receipt) => {
        if (!receipt.consentToken) return;
        this._jar.set(TOKEN_COOKIE, receipt.consentToken, this._maxAge());
        if (this._state) this._state.consentToken = receipt.consentToken;
      },
      () => this._jar.remove(TOKEN_COOKIE),
    );

    // Consent Mode: a default must precede any update. The stub issues it;
    // without the stub (nothing in the dataLayer yet), the SDK does.
    const cm = config.consentMode;
    if (cm && cm.enabled && !hasConsentDefault(w.dataLayer)) {
      // The same defaults the stub issues, in the same order (the server
      // computes them once from the regional rules).
      a.consentDefaults.forEach((o) => this._gtag("consent", "default", o));
      this._gtag("set", "url_passthrough", !!cm.urlPassthrough);
      this._gtag("set", "ads_data_redaction", !!cm.adsDataRedaction);
    }

    const tcf = this._tcfMod;
    if (this._tcf && tcf && a.vendorList) {
      this._encoder = new tcf.TcEncoder(config, a.vendorList, a.language);
    } else {
      removeTcfStub(w, this._d);
    }

    let stored = decodeStored(this._jar.get(STATE_COOKIE));
    // A choice made in another experience does not hold here: ask again.
    if (stored && (stored.x || answer.config.regulation) !== kind) {
      this._reconsent = !this._asksNothing;
      stored = null;
    }
    let holds = false;
    if (kind === "us" || this._asksNothing) {
      holds = this._loadedOptOut(stored);
    } else if (stored) {
      let choice: Choice | null = null;
      let reason: string | null = null;
      let disclosed: number[] | null = null;
      const categories = stored.c
        .filter((c) => (config.customPurposes || []).some((p) => p.id === c))
        .concat(necessaryCategories(config).filter((c) => stored.c.indexOf(c) < 0));
      if (this._tcf) {
        const tc = this._jar.get(TC_COOKIE);
        const decoded = tc && tcf ? tcf.decodeTc(tc) : null;
        const vl = a.vendorList;
        if (!decoded || !decoded.disclosed || decoded.cmpId !== config.cmpId || (vl && decoded.policyVersion < vl.tcfPolicyVersion)) {
          reason = "tc_string";
        } else {
          disclosed = decoded.disclosed;
          choice = Object.assign({ categories }, decoded.choice);
          this._tc = tc;
        }
      } else {
        choice = { purposes: [], li: [], specialFeatures: [], vendors: [], vendorLi: [], categories };
      }
      reason = reason || reconsentReason(stored, config, a.configVersion, disclosed, Date.now());
      if (choice && !reason) {
        holds = true;
        this._choice = choice;
        this._state = this._makeState(choice, this._tc, stored.ts, stored.cv);
      } else {
        this._reconsent = true;
        this._prefill = choice;
        this._tc = undefined;
      }
    }

    if (holds) {
      const tc = this._tc as string;
      if (this._tcf) this._ensureCmp().update(tc, false);
      this._apply(this._state as ConsentState);
      if (!this._asksNothing) this._whenBody(() => this._ui._setFab(true));
    } else if (kind === "us" || kind === "notice_only") {
      // A notice that blocks nothing; under GPC the opt-out is already made.
      if (this._gpc.applied) this._chooseUs({ sale: true, targeted: true }, "gpc");
      else this._apply(this._state as ConsentState);
      this._whenBody(() => this._showNotice());
    } else if (kind !== "none") {
      // The banner first; the CMP API's cmpuishown in the next task, so
      // that no single task grows long (a choice made before then sends it
      // itself, see _choose).
      this._whenBody(() => {
        this._ui._showBanner();
        this._impression();
        setTimeout(() => this._choice || this._signalUiShown(), 0);
      });
    }
    // (The GPC opt-out above told __gpp already, through _choose.)
    if (!(kind === "us" && !holds && this._gpc.applied)) this._gppUpdate();
    this._markReady();
    setTimeout(() => {
      // Scripts of necessary categories run now, whatever the choice.
      this._gate.scan();
      this._proof.resume();
    }, 0);
    if (this._encoder) {
      const warm = () => this._encoder && this._encoder.warm();
      if (w.requestIdleCallback) w.requestIdleCallback(warm, { timeout: 2000 });
      else setTimeout(warm, 200);
    }
  }

  private _maxAge(): number {
    return (this._config.consentLifetimeDays || 390) * 86400;
  }

  private _ensureCmp(): Cmp {
    if (!this._cmp) this._cmp = new (this._tcfMod as Chunks["tcf"]).Cmp(this._config, this._config.gdprApplies !== false);
    return this._cmp;
  }

  // -- experiences that do not ask for consent first (us, notice_only, none) --

  /**
   * Sets the state of an experience where tags may run before any choice:
   * the stored US opt-out (or notice dismissal) if any, else the region's
   * defaults. Whether a stored choice holds.
   */
  private _loadedOptOut(stored: StoredChoice | null): boolean {
    this._us = (stored && stored.o) || 0;
    this._usFromGpc = !!(stored && stored.g);
    const ts = stored ? stored.ts : Date.now();
    this._state = this._usState(ts, stored ? stored.cv : (this._answer as ConfigAnswer).configVersion);
    // An explicit choice, stored, wins over the GPC signal.
    if (stored && this._kind === "us") this._choice = this._choiceOf(this._state.categories);
    return !!stored || this._kind === "none";
  }

  private _choiceOf(categories: string[]): Choice {
    return { purposes: [], li: [], specialFeatures: [], vendors: [], vendorLi: [], categories };
  }

  /** The state of an opt-out experience for the opt-outs in force. */
  private _usState(ts: number, configVersion: number): ConsentState {
    const config = this._config;
    const ids = (config.customPurposes || []).map((p) => p.id);
    const categories = this._kind === "us" ? (this._usMod as Chunks["us"]).usCategories(config.consentMode, ids, this._optOuts()) : ids;
    const s = this._makeState(this._choiceOf(categories), undefined, ts, configVersion);
    s.consentMode = usConsentMode(this._region ? this._region.experience.consentModeDefault : undefined, this._optOuts());
    return s;
  }

  private _usView() {
    return { gpc: this._gpc.applied && this._usFromGpc, optedOut: this._optOuts() };
  }

  private _optOuts(): UsOptOuts {
    return { sale: !!(this._us & 1), targeted: !!(this._us & 2) };
  }

  private _showNotice(): void {
    (this._usMod as Chunks["us"]).showNotice(this._ui, Object.assign({ kind: this._kind as "us" | "notice_only" }, this._usView()));
    this._impression();
  }

  /** The notice bar was closed: a notice-only experience remembers it. */
  private _noticeClosed(): void {
    if (this._kind !== "notice_only") return;
    const a = this._answer as ConfigAnswer;
    this._jar.set(STATE_COOKIE, encodeStored(this._storedOf(a, [], Date.now())), this._maxAge());
  }

  /** A US choice: the opt-outs, made in the opt-out panel or by the GPC signal. */
  private _chooseUs(o: UsOptOuts, source: Source): void {
    this._us = (o.sale ? 1 : 0) | (o.targeted ? 2 : 0);
    this._usFromGpc = source === "gpc";
    // The signal opts out; it is not an answer to a re-consent.
    if (this._usFromGpc) this._reconsent = false;
    const ids = (this._config.customPurposes || []).map((p) => p.id);
    const action: Action = o.sale || o.targeted ? (o.sale && o.targeted ? "reject_all" : "custom") : "accept_all";
    this._choose(this._choiceOf((this._usMod as Chunks["us"]).usCategories(this._config.consentMode, ids, o)), action, source);
  }

  /**
   * Records that the notice or banner was shown on this page (once), so
   * that the choice that follows can name what the visitor saw.
   */
  private _impression(): void {
    if (this._impressionId || !this._region) return;
    const event = this._event(new Date().toISOString());
    event.kind = "impression";
    this._impressionId = event.eventId as string;
    this._proof.add(this._base + "/v1/consents", event);
  }

  /**
   * What an impression and a choice both record: the site environment and
   * configuration, the language, and (once the region is known) the region,
   * its experience and the notice version shown.
   */
  private _event(timestamp: string): Record<string, unknown> {
    const a = this._answer as ConfigAnswer;
    const r = this._region;
    const event: Record<string, unknown> = {
      eventId: uuid(),
      schemaVersion: 2,
      siteKey: a.siteKey,
      environment: a.environment,
      configVersion: a.configVersion,
      timestamp,
      language: a.language,
      sdkVersion: SDK_VERSION,
    };
    if (r) {
      if (r.region) event.region = r.region;
      event.experience = this._kind;
      event.noticeVersion = r.noticeVersion;
    }
    return event;
  }

  /** The cookie of a choice made now. */
  private _storedOf(a: ConfigAnswer, categories: string[], ts: number): StoredChoice {
    const config = this._config;
    const st: StoredChoice = {
      v: 1,
      cv: a.configVersion,
      ts,
      c: categories,
      p: (config.purposes || []).slice(),
      f: (config.specialFeatures || []).slice(),
      q: (config.customPurposes || []).map((p) => p.id),
      w: (config.customVendors || []).map((v) => v.id),
      x: this._kind,
    };
    if (this._kind === "us") st.o = this._us;
    if (this._usFromGpc) st.g = 1;
    return st;
  }

  /** Signals cmpuishown once per opening of the UI. */
  private _signalUiShown(): void {
    if (!this._tcf || this._uiSignalled) return;
    this._uiSignalled = true;
    this._ensureCmp().update(this._choice ? (this._tc as string) : "", true);
  }

  private _openBanner(): void {
    if (this._kind === "us" || this._asksNothing) {
      if (this._kind !== "none") this._showNotice();
      return;
    }
    this._ui._showBanner();
    this._impression();
    this._signalUiShown();
  }

  private _openPreferences(): void {
    if (this._kind === "us") {
      (this._usMod as Chunks["us"]).showOptOut(this._ui, this._usView());
      this._impression();
      return;
    }
    if (this._asksNothing) {
      if (this._kind === "notice_only") this._showNotice();
      return;
    }
    this._ui._showPreferences(this._choice || this._prefill);
    this._impression();
    this._signalUiShown();
  }

  /** The preference center closed without a choice. */
  private _dismissed(): void {
    if (this._kind === "us") {
      // The opt-out panel closed unchanged: the notice blocks nothing, so
      // only the floating button stays.
      this._ui._closeAll(true);
      return;
    }
    if (!this._choice) {
      this._ui._showBanner();
      return;
    }
    this._ui._closeAll(true);
    if (this._tcf && this._uiSignalled) {
      this._uiSignalled = false;
      // The visitor confirmed the unchanged choice.
      this._ensureCmp().update(this._tc as string, false);
    }
  }

  // -- choices --

  /** IAB purpose consent (numbers) or a category; necessary categories always hold. */
  private _has(x: number | string): boolean {
    const s = this._state;
    if (typeof x === "number") return !!s && s.purposes.indexOf(x) >= 0;
    if (this._answer && this._asksNothing) return true;
    if (this._answer && necessaryCategories(this._config).indexOf(x) >= 0) return true;
    return !!s && s.categories.indexOf(x) >= 0;
  }

  /** Whether a blocked script's category (or IAB purpose, as digits) is granted. */
  private _allowed(c: string): boolean {
    return this._has(/^\d+$/.test(c) ? Number(c) : c);
  }

  private _makeState(c: Choice, tc: string | undefined, ts: number, configVersion: number): ConsentState {
    const s: ConsentState = {
      purposes: c.purposes.slice(),
      legitimateInterests: c.li.slice(),
      specialFeatures: c.specialFeatures.slice(),
      vendors: c.vendors.slice(),
      vendorLegitimateInterests: c.vendorLi.slice(),
      categories: c.categories.slice(),
      consentMode: consentModeFor(this._config.consentMode, c.purposes, c.categories),
      configVersion,
      timestamp: new Date(ts).toISOString(),
    };
    if (tc) s.tcString = tc;
    const token = this._jar.get(TOKEN_COOKIE);
    if (token) s.consentToken = token;
    return s;
  }

  private _gtag(a: string, b: string, c: unknown): void {
    const w = this._w;
    w.dataLayer = w.dataLayer || [];
    if (typeof w.gtag === "function") w.gtag(a, b, c);
    else
      (function (..._args: unknown[]) {
        // gtag pushes the arguments object itself, not an array.
        // eslint-disable-next-line prefer-rest-params
        w.dataLayer.push(arguments);
      })(a, b, c);
  }

  /** Passes a state on: Consent Mode update, dataLayer event, blocked scripts, listeners. */
  private _apply(s: ConsentState): void {
    const cm = this._config.consentMode;
    if (cm && cm.enabled) this._gtag("consent", "update", copy(s.consentMode));
    this._w.dataLayer = this._w.dataLayer || [];
    this._w.dataLayer.push({ event: "nexaguard_consent", nexaguard: copy(s) });
    this._gate.scan();
    this._emit("consent", s);
    try {
      this._d.dispatchEvent(new CustomEvent("nexaguard:consent", { detail: copy(s) }));
    } catch (_) {
      // very old browsers
    }
  }

  /** Deletes the cookies of every custom purpose not granted. */
  private _deleteRefusedCookies(granted: string[]): void {
    for (const p of this._config.customPurposes || []) {
      if (!p.necessary && granted.indexOf(p.id) < 0 && p.cookies && p.cookies.length) this._jar.removeMatching(p.cookies);
    }
  }

  private _choose(raw: Choice, hint: Action, source: Source): ConsentState {
    const config = this._config;
    const a = this._answer as ConfigAnswer;
    const choice = sanitizeChoice(raw, config, a.vendorList);
    const prev = this._choice;
    const action: Action = this._reconsent ? "reconsent" : hint === "custom" && prev && isWithdrawal(prev, choice) ? "withdraw" : hint;
    const ts = Date.now();
    const tc = this._tcf && this._encoder ? this._encoder.encode(choice) : undefined;

    this._deleteRefusedCookies(choice.categories);
    const maxAge = this._maxAge();
    if (tc) this._jar.set(TC_COOKIE, tc, maxAge);
    this._jar.set(STATE_COOKIE, encodeStored(this._storedOf(a, choice.categories, ts)), maxAge);
    this._choice = choice;
    this._prefill = null;
    this._reconsent = false;
    this._tc = tc;
    const state = (this._state = this._kind === "us" ? this._usState(ts, a.configVersion) : this._makeState(choice, tc, ts, a.configVersion));

    this._ui._closeAll(true);
    if (this._tcf && tc !== undefined) {
      const cmp = this._ensureCmp();
      // A choice made through the API without the UI having been shown still
      // needs a preceding update, so that this one reads useractioncomplete.
      if (!this._uiSignalled && !prev) cmp.update("", true);
      cmp.update(tc, false);
    }
    this._uiSignalled = false;
    this._apply(state);

    const customVendors = (config.customVendors || [])
      .filter((v) => v.purposes && v.purposes.length && v.purposes.every((p) => choice.categories.indexOf(p) >= 0))
      .map((v) => v.id);
    const event = Object.assign(this._event(state.timestamp), {
      action,
      source,
      consentMode: state.consentMode,
      purposes: choice.purposes,
      customPurposes: choice.categories,
      vendors: choice.vendors,
      customVendors,
    });
    if (tc) event.tcString = tc;
    const gpp = this._gppUpdate();
    if (gpp) {
      this._jar.set(GPP_COOKIE, gpp, maxAge);
      event.gppString = gpp;
      event.gppSectionIds = this._tcf ? [2] : (this._region as RegionAnswer).experience.gppSectionIds;
    }
    if (this._region) event.gpc = { present: this._gpc.present, applied: this._gpc.applied };
    if (this._impressionId) event.impressionId = this._impressionId;
    this._proof.add(this._base + "/v1/consents", event);
    return copy(state);
  }

  private _reset(): void {
    [TC_COOKIE, STATE_COOKIE, TOKEN_COOKIE, GPP_COOKIE].forEach((n) => this._jar.remove(n));
    this._deleteRefusedCookies(necessaryCategories(this._config));
    this._choice = this._prefill = this._state = null;
    this._tc = undefined;
    this._reconsent = false;
    const cm = this._config.consentMode;
    if (cm && cm.enabled) this._gtag("consent", "update", consentModeFor(cm, [], necessaryCategories(this._config)));
    this._ui._closeAll(false);
    this._uiSignalled = false;
    this._openBanner();
  }
}

/** Starts the SDK for the <script> that loaded it. */
export function boot(w: any, d: Document): void {
  if (w.NexaGuard && w.NexaGuard.version) return;
  const script = d.currentScript as HTMLScriptElement | null;
  const settings = readSettings(d);
  const tagged = d.querySelector("script[data-site-key][src]") as HTMLScriptElement | null;
  const siteKey =
    (script && (script.getAttribute("data-site-key") || siteKeyOfSrc(script.src))) ||
    settings.siteKey ||
    (tagged && tagged.getAttribute("data-site-key")) ||
    "";
  const src = (script && script.src) || settings.sdkUrl || (tagged && tagged.src) || "";
  let base = w.location.origin;
  try {
    if (src) base = new URL(src, w.location.href).origin;
  } catch (_) {
    // keep the page's origin
  }
  installTcfStub(w, d);
  const sdk = new NexaGuard(w, d, siteKey, base, (script && script.nonce) || undefined, settings.region);
  w.NexaGuard = sdk.api;
  if (!siteKey) {
    console.error("NexaGuard: no site key (data-site-key on the script tag, or ?siteKey= in its URL)");
    return;
  }
  sdk._start();
}
