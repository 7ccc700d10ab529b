// The SDK's controller: loads the site's configuration, decides whether to
// ask, records choices (cookies, TC string, __tcfapi, Consent Mode, proof
// of consent) and exposes window.NexaGuard.

/* eslint-disable @typescript-eslint/no-explicit-any */

import type { NexaGuardApi, NexaGuardEvent, NexaGuardEventMap, UiEvent } from "../types/nexaguard";
import { ScriptGate } from "./blocking";
import { configUrl, type EarlyConfig } from "./configurl";
import { consentModeFor, defaultsToGtag, hasConsentDefault } from "./consent-mode";
import { CookieJar, STATE_COOKIE, TC_COOKIE, TOKEN_COOKIE } from "./cookies";
import { uiStrings } from "./i18n";
import { ProofQueue, uuid } from "./proof";
import { reconsentReason } from "./reconsent";
import { decodeStored, encodeStored } from "./stored";
import { Cmp, decodeTc, TcEncoder } from "./tcf";
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
import type { Action, Choice, ConfigAnswer, ConsentState, SiteConfig, Source } from "./types";
import { Ui } from "./ui";

declare const __SDK_VERSION__: string;
export const SDK_VERSION = __SDK_VERSION__;

interface Settings {
  siteKey?: string;
  sdkUrl?: string;
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

export class NexaGuard {
  readonly api: NexaGuardApi;
  private _answer: ConfigAnswer | null = null;
  private _config!: SiteConfig;
  private _jar!: CookieJar;
  private _ui!: Ui;
  private _encoder: TcEncoder | null = null;
  private _cmp: Cmp | null = null;
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
    return this._config.regulation === "tcf";
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
    const url = configUrl(this._base, this._siteKey, w.navigator || {});
    const load = () => fetch(url, { credentials: "omit" });
    // The stub may have started the request already.
    const early = w.__nexaguardConfig as EarlyConfig | undefined;
    w.__nexaguardConfig = undefined;
    (early && early.u === url ? early.p.catch(load) : load())
      .then((r) => {
        if (!r.ok) throw new Error("config.json answered " + r.status);
        return r.json();
      })
      .then(
        (a: ConfigAnswer) => this._loaded(a),
        (e) => {
          console.error("NexaGuard: could not load the site configuration", e);
          this._markReady();
        },
      );
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

  private _loaded(a: ConfigAnswer): void {
    this._answer = a;
    const config = (this._config = a.config);
    const w = this._w;
    this._jar = new CookieJar(this._d, config.cookieDomain, w.location.protocol === "https:");
    const vendors = siteVendors(config, a.vendorList);
    const strings = uiStrings(a.language, config.languages[a.language], config.languages[config.defaultLanguage]);
    this._ui = new Ui(
      this._d,
      { answer: a, strings, vendors, liPurposes: liPurposes(config, vendors), stacks: pickStacks(config, a.vendorList), nonce: this._nonce },
      {
        acceptAll: (source) => this._choose(acceptAllChoice(config, a.vendorList), "accept_all", source),
        rejectAll: (source) => this._choose(rejectAllChoice(config), "reject_all", source),
        save: (c) => this._choose(c, "custom", "preference_center"),
        dismissed: () => this._dismissed(),
        reopen: () => this._openPreferences(),
        ui: (type, open) => this._emit("ui", { type, open } as UiEvent),
      },
    );
    this._proof = new ProofQueue(
      a.siteKey,
      () => this._jar.get(TOKEN_COOKIE),
      (r) => {
        this._jar.set(TOKEN_COOKIE, r.consentToken, this._maxAge());
        if (this._state) this._state.consentToken = r.consentToken;
      },
      () => this._jar.remove(TOKEN_COOKIE),
    );

    // Consent Mode: a default must precede any update. The stub issues it;
    // without the stub (nothing in the dataLayer yet), the SDK does.
    const cm = config.consentMode;
    if (cm && cm.enabled && !hasConsentDefault(w.dataLayer)) {
      defaultsToGtag(cm.defaults).forEach((o) => this._gtag("consent", "default", o));
      this._gtag("set", "url_passthrough", !!cm.urlPassthrough);
      this._gtag("set", "ads_data_redaction", !!cm.adsDataRedaction);
    }

    if (this._tcf && a.vendorList) {
      this._encoder = new TcEncoder(config, a.vendorList, a.language);
    } else {
      removeTcfStub(w, this._d);
    }

    const stored = decodeStored(this._jar.get(STATE_COOKIE));
    let holds = false;
    if (stored) {
      let choice: Choice | null = null;
      let reason: string | null = null;
      let disclosed: number[] | null = null;
      const categories = stored.c
        .filter((c) => (config.customPurposes || []).some((p) => p.id === c))
        .concat(necessaryCategories(config).filter((c) => stored.c.indexOf(c) < 0));
      if (this._tcf) {
        const tc = this._jar.get(TC_COOKIE);
        const decoded = tc ? decodeTc(tc) : null;
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
      this._whenBody(() => this._ui._setFab(true));
    } else {
      // The banner first; the CMP API's cmpuishown in the next task, so
      // that no single task grows long (a choice made before then sends it
      // itself, see _choose).
      this._whenBody(() => {
        this._ui._showBanner();
        setTimeout(() => this._choice || this._signalUiShown(), 0);
      });
    }
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
    if (!this._cmp) this._cmp = new Cmp(this._config, this._config.gdprApplies !== false);
    return this._cmp;
  }

  /** Signals cmpuishown once per opening of the UI. */
  private _signalUiShown(): void {
    if (!this._tcf || this._uiSignalled) return;
    this._uiSignalled = true;
    this._ensureCmp().update(this._choice ? (this._tc as string) : "", true);
  }

  private _openBanner(): void {
    this._ui._showBanner();
    this._signalUiShown();
  }

  private _openPreferences(): void {
    this._ui._showPreferences(this._choice || this._prefill);
    this._signalUiShown();
  }

  /** The preference center closed without a choice. */
  private _dismissed(): void {
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
    this._jar.set(
      STATE_COOKIE,
      encodeStored({
        v: 1,
        cv: a.configVersion,
        ts,
        c: choice.categories,
        p: (config.purposes || []).slice(),
        f: (config.specialFeatures || []).slice(),
        q: (config.customPurposes || []).map((p) => p.id),
        w: (config.customVendors || []).map((v) => v.id),
      }),
      maxAge,
    );
    this._choice = choice;
    this._prefill = null;
    this._reconsent = false;
    this._tc = tc;
    const state = (this._state = this._makeState(choice, tc, ts, a.configVersion));

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
    const event: Record<string, unknown> = {
      eventId: uuid(),
      schemaVersion: 1,
      siteKey: a.siteKey,
      environment: a.environment,
      configVersion: a.configVersion,
      timestamp: state.timestamp,
      action,
      source,
      consentMode: state.consentMode,
      purposes: choice.purposes,
      customPurposes: choice.categories,
      vendors: choice.vendors,
      customVendors,
      language: a.language,
      sdkVersion: SDK_VERSION,
    };
    if (tc) event.tcString = tc;
    this._proof.add(this._base + "/v1/consents", event);
    return copy(state);
  }

  private _reset(): void {
    [TC_COOKIE, STATE_COOKIE, TOKEN_COOKIE].forEach((n) => this._jar.remove(n));
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
    (script && script.getAttribute("data-site-key")) || settings.siteKey || (tagged && tagged.getAttribute("data-site-key")) || "";
  const src = (script && script.src) || settings.sdkUrl || (tagged && tagged.src) || "";
  let base = w.location.origin;
  try {
    if (src) base = new URL(src, w.location.href).origin;
  } catch (_) {
    // keep the page's origin
  }
  installTcfStub(w, d);
  const sdk = new NexaGuard(w, d, siteKey, base, (script && script.nonce) || undefined);
  w.NexaGuard = sdk.api;
  if (!siteKey) {
    console.error("NexaGuard: no site key (data-site-key on the script tag)");
    return;
  }
  sdk._start();
}
