// The banner, the preference center and the floating reopen button, in an
// open shadow root on <div id="nexaguard-host"> at the end of <body>. All of
// it is position: fixed, so the page never moves. The DOM contract (the
// data-nexaguard / data-action / data-purpose... attributes) is documented
// in docs/js-api.md; the browser tests rely on it.

import { fill, localized, type Strings } from "./i18n";
import { css } from "./styles";
import { hasConsentBasis, hasLiBasis } from "./tcf-rules";
import type { Choice, ConfigAnswer, GvlItem, GvlVendor, SiteConfig, VendorListJson } from "./types";
import type { UiEvent } from "../types/nexaguard";

export type Child = Node | string | null | undefined | false | Child[];
type Attrs = Record<string, string | number | boolean | null | undefined>;

let doc: Document;

/** Creates an element; attributes with false/null/undefined values are left out. */
function h(tag: string, attrs?: Attrs | null, ...children: Child[]): HTMLElement {
  const el = doc.createElement(tag);
  if (attrs) {
    for (const k in attrs) {
      const v = attrs[k];
      if (v === false || v == null) continue;
      if (k === "text") el.textContent = String(v);
      else el.setAttribute(k, v === true ? "" : String(v));
    }
  }
  const add = (c: Child): void => {
    if (Array.isArray(c)) c.forEach(add);
    else if (c !== null && c !== undefined && c !== false) el.appendChild(typeof c === "string" ? doc.createTextNode(c) : c);
  };
  children.forEach(add);
  return el;
}

/** A small paragraph. */
const sm = (...c: Child[]) => h("p", { class: "sm" }, c);

/** A link opening in a new tab. */
const link = (href: string, text: string, label?: string) =>
  h("a", { href, target: "_blank", rel: "noopener noreferrer", "aria-label": label }, text);

const safeUrl = (u: string | null | undefined) => (u && /^https?:\/\//i.test(u) ? u : null);

const FOCUSABLE = 'button:not([disabled]),input:not([disabled]),select,a[href],summary,[tabindex]:not([tabindex="-1"])';

type UiType = UiEvent["type"];

/** The open layer (one at a time): its element, backdrop, and whether Escape dismisses it. */
interface Layer {
  e: HTMLElement;
  t: UiType;
  d: HTMLElement | null;
  x?: boolean;
}

/** US opt-outs (true = opted out). */
export interface UsOptOut {
  sale: boolean;
  targeted: boolean;
}

export interface UsState {
  /** Global Privacy Control is present and honoured. */
  gpc: boolean;
  optedOut: UsOptOut;
}

export interface UiModel {
  answer: ConfigAnswer;
  strings: Strings;
  /** The site's vendors from the vendor list (TCF). */
  vendors: GvlVendor[];
  /** Purposes with a legitimate-interest signal. */
  liPurposes: number[];
  /** Stacks to present. */
  stacks: number[];
  /** The SDK script's CSP nonce, for a <style> fallback. */
  nonce?: string;
}

export interface UiHandlers {
  acceptAll(source: "banner" | "preference_center"): void;
  rejectAll(source: "banner" | "preference_center"): void;
  save(choice: Choice): void;
  /** The preference center closed without a choice. */
  dismissed(): void;
  reopen(): void;
  ui(type: UiType, open: boolean): void;
  /** US: "Save" in the opt-out panel (true = opted out). The controller records it and closes the UI (_closeAll). */
  usChoice(optedOut: UsOptOut, source: "banner" | "preference_center"): void;
  /** The notice bar's close button: the notice is closed already (the floating button shown for `us`). */
  noticeClosed(): void;
  /** The visitor chose another of the site's languages in the preference center. */
  language(code: string): void;
}

export class Ui {
  /** The element factory, for the US notice in its chunk (src/us/ui.ts). */
  readonly _h = h;
  private _host: HTMLElement | null = null;
  private _root!: ShadowRoot;
  private _cur: Layer | null = null;
  private _fab: HTMLElement | null = null;
  /** Where focus was when the UI opened (null: nowhere); undefined: nothing to restore. */
  private _returnFocus: HTMLElement | null | undefined;
  private _config!: SiteConfig;
  private _vl: VendorListJson | undefined;
  _lang!: string;
  _s!: Strings;

  constructor(
    d: Document,
    private _m: UiModel,
    readonly _on: UiHandlers,
  ) {
    doc = d;
    this._setModel(_m);
  }

  /**
   * Takes the texts of a language: the server answers config.json in one
   * language throughout (its strings, the IAB's texts, `dir`), so a view
   * never mixes two.
   */
  private _setModel(m: UiModel): void {
    this._m = m;
    this._config = m.answer.config;
    this._vl = m.answer.vendorList;
    this._lang = m.answer.language;
    this._s = m.strings;
    if (this._host) this._host.dir = m.answer.dir;
  }

  /** Shows the open preference center again in the language of `m`, keeping what the visitor ticked. */
  _relang(m: UiModel): void {
    const c = this._readChoice();
    this._setModel(m);
    this._showPreferences(c, true);
    (this._root.querySelector("select") as HTMLElement).focus();
  }

  private _mount(): ShadowRoot {
    if (this._host && this._host.isConnected) return this._root;
    const host = (this._host = doc.createElement("div"));
    host.id = "nexaguard-host";
    host.dir = this._m.answer.dir;
    // Styles go through the CSSOM (style property, constructed style sheet),
    // which a Content-Security-Policy without 'unsafe-inline' allows.
    host.style.cssText = "position:fixed;top:0;left:0;width:0;height:0;z-index:2147483647;display:block";
    const root = (this._root = host.attachShadow({ mode: "open" }));
    const text = css(this._m.answer.theme);
    try {
      const sheet = new CSSStyleSheet();
      sheet.replaceSync(text);
      (root as ShadowRoot & { adoptedStyleSheets: CSSStyleSheet[] }).adoptedStyleSheets = [sheet];
    } catch (_) {
      // Browsers without constructed style sheets: a <style> element, with the SDK script's nonce.
      root.appendChild(h("style", { text, nonce: this._m.nonce }));
    }
    root.addEventListener("keydown", (e) => this._onKey(e as KeyboardEvent));
    doc.body.appendChild(host);
    // Keeps keyboard focus inside a modal dialog.
    doc.addEventListener("focusin", (e) => {
      const c = this._cur;
      if (c && c.d && e.target !== host) c.e.focus();
    });
    return root;
  }

  private _rememberFocus(): void {
    if (this._cur || this._returnFocus !== undefined) return;
    let a = doc.activeElement as HTMLElement | null;
    if (a === this._host) a = this._root.activeElement as HTMLElement | null;
    this._returnFocus = a && a !== doc.body ? a : null;
  }

  private _restoreFocus(): void {
    const r = this._returnFocus;
    if (r === undefined) return;
    this._returnFocus = undefined;
    const target = r && r.isConnected ? r : this._fab;
    if (target) target.focus();
  }

  private _onKey(e: KeyboardEvent): void {
    const c = this._cur;
    // The notice is not a dialog: Tab leaves it.
    if (!c || c.t === "notice") return;
    const dialog = c.e;
    if (e.key === "Escape" && c.x) {
      e.preventDefault();
      this._dismiss();
      return;
    }
    if (e.key !== "Tab") return;
    const items = Array.prototype.filter.call(
      dialog.querySelectorAll(FOCUSABLE),
      (el: HTMLElement) => el.getClientRects().length > 0 && inOpenDetails(el, dialog),
    ) as HTMLElement[];
    if (!items.length) return;
    e.preventDefault();
    const i = items.indexOf(this._root.activeElement as HTMLElement);
    const n = items.length;
    const next = e.shiftKey ? (i <= 0 ? n - 1 : i - 1) : i < 0 || i === n - 1 ? 0 : i + 1;
    items[next].focus();
  }

  _is(t: UiType): boolean {
    return !!this._cur && this._cur.t === t;
  }

  /** Shows `e` as the open layer, in place of any other, with a backdrop when `modal`; focuses it. */
  _show(t: UiType, e: HTMLElement, modal: boolean, x?: boolean): void {
    this._rememberFocus();
    // The same layer shown again (in another language) stays open for the listeners.
    const again = this._is(t);
    this._hide(again);
    const root = this._mount();
    const d = modal ? root.appendChild(h("div", { class: "dim" })) : null;
    root.appendChild(e);
    this._cur = { e, t, d, x };
    this._setFab(false);
    e.focus();
    if (!again) this._on.ui(t, true);
  }

  private _hide(quiet?: boolean): void {
    const c = this._cur;
    if (!c) return;
    this._cur = null;
    c.e.remove();
    if (c.d) c.d.remove();
    if (!quiet) this._on.ui(c.t, false);
  }

  /** Close button, Cancel or Escape in a panel: closed without a choice. */
  _dismiss(): void {
    this._hide();
    this._on.dismissed();
  }

  /** A second-layer dialog (the preference center, the opt-out panel); `body` starts with the #ng-pd description. */
  _panel(t: UiType, title: string, body: Child[], foot: HTMLElement[]): void {
    const x = this._button("close", "×", true, () => this._dismiss());
    x.className = "x";
    x.setAttribute("aria-label", this._s.close);
    this._show(
      t,
      h(
        "div",
        {
          class: "ng modal pref",
          "data-nexaguard": t,
          role: "dialog",
          "aria-modal": "true",
          "aria-labelledby": "ng-pt",
          "aria-describedby": "ng-pd",
          tabindex: -1,
          lang: this._lang,
        },
        h("div", { class: "ph" }, h("h2", { id: "ng-pt" }, title), t === "preferences" && this._languages()),
        x,
        h("div", { class: "pb" }, body),
        h("div", { class: "pf act" }, foot),
      ),
      true,
      true,
    );
  }

  _button(action: string, label: string, secondary?: boolean, onClick?: () => void): HTMLElement {
    const b = h("button", { type: "button", "data-action": action, class: secondary ? "sec" : null }, label);
    if (onClick) b.addEventListener("click", onClick);
    return b;
  }

  private _name(map: Record<string, GvlItem> | undefined, id: number): string {
    const it = map && map[String(id)];
    return it ? it.name : "#" + id;
  }

  _policyLink(): HTMLElement | null {
    // The server fills in the default language's link where the language has none.
    const texts = this._config.languages[this._lang];
    const url = safeUrl(texts && texts.privacyPolicyUrl);
    return url ? sm(link(url, this._s.privacy)) : null;
  }

  /** The first layer. */
  _showBanner(): void {
    if (this._is("banner")) return;
    const s = this._s;
    const layout = (this._config.banner && this._config.banner.layout) || "bar";
    const modal = layout === "modal";
    const tcf = this._config.regulation === "tcf";
    const vl = this._vl;
    let scope: HTMLElement[] = [];
    if (tcf && vl) {
      const covered: number[] = [];
      const coveredF: number[] = [];
      const names: string[] = [];
      for (const id of this._m.stacks) {
        const st = vl.stacks[String(id)];
        names.push(st.name);
        covered.push(...st.purposes);
        coveredF.push(...st.specialFeatures);
      }
      (this._config.purposes || []).forEach((p) => covered.indexOf(p) < 0 && names.push(this._name(vl.purposes, p)));
      const sf = (this._config.specialFeatures || []).filter((f) => coveredF.indexOf(f) < 0).map((f) => this._name(vl.specialFeatures, f));
      scope = [
        sm(h("strong", null, s.purposes + ": "), names.join("; ")),
        sf.length ? sm(h("strong", null, s.specialFeatures + ": "), sf.join("; ")) : null,
        sm(h("strong", null, s.vendors + ": "), String(this._m.vendors.length + (this._config.customVendors || []).length)),
      ].filter(Boolean) as HTMLElement[];
    }
    const dialog = h(
      "div",
      {
        class: "ng " + (modal ? "modal" : layout === "box" ? "box" : "bar"),
        "data-nexaguard": "banner",
        role: "dialog",
        "aria-modal": modal ? "true" : null,
        "aria-labelledby": "ng-bt",
        "aria-describedby": "ng-bd",
        tabindex: -1,
        lang: this._lang,
      },
      h(
        "div",
        null,
        h("h2", { id: "ng-bt" }, s.title),
        h("p", { id: "ng-bd" }, s.description),
        scope,
        this._policyLink(),
        h(
          "div",
          { class: "act" },
          this._button("reject-all", s.rejectAll, false, () => this._on.rejectAll("banner")),
          this._button("accept-all", s.acceptAll, false, () => this._on.acceptAll("banner")),
          this._button("settings", s.manage, true, () => this._on.reopen()),
        ),
      ),
    );
    this._show("banner", dialog, modal);
  }

  /** The site's languages to switch to, when it has more than one. */
  private _languages(): HTMLElement | null {
    const all = this._m.answer.languages || [];
    if (all.length < 2) return null;
    const sel = h(
      "select",
      { "aria-label": this._s.language, "data-action": "language" },
      all.map((l) => h("option", { value: l.code, lang: l.code, selected: l.code === this._lang }, l.name)),
    ) as HTMLSelectElement;
    sel.onchange = () => this._on.language(sel.value);
    return sel;
  }

  /** The preference center, with `current` (or the defaults: no consent, no objection) checked; `again`: redrawn in place. */
  _showPreferences(current: Choice | null, again?: boolean): void {
    if (this._is("preferences") && !again) return;
    const s = this._s;
    const tcf = this._config.regulation === "tcf";
    const c: Choice = current || {
      purposes: [],
      li: this._m.liPurposes.slice(),
      specialFeatures: [],
      vendors: [],
      vendorLi: this._m.vendors.filter(hasLiBasis).map((v) => v.id),
      categories: [],
    };
    this._panel("preferences", s.reopen, [
      h("p", { id: "ng-pd" }, s.description),
      this._policyLink(),
      tcf && this._vl && this._tcfSections(c, this._vl),
      this._categorySection(c, tcf),
    ], [
      this._button("reject-all", s.rejectAll, false, () => this._on.rejectAll("preference_center")),
      this._button("accept-all", s.acceptAll, false, () => this._on.acceptAll("preference_center")),
      this._button("save", s.save, true, () => this._on.save(this._readChoice())),
    ]);
  }

  /** Closes everything after a choice and returns focus where it was. */
  _closeAll(showFab: boolean): void {
    this._hide();
    this._setFab(showFab);
    this._restoreFocus();
  }

  /** Shows or hides the floating reopen button. */
  _setFab(show: boolean): void {
    const want = show && !(this._config.banner && this._config.banner.floatingButton === false);
    if (!want) {
      if (this._fab) this._fab.remove();
      this._fab = null;
      return;
    }
    if (this._fab) return;
    const root = this._mount();
    const b = this._button("reopen", "", false, () => this._on.reopen());
    b.className = "fab";
    b.setAttribute("aria-label", this._s.reopen);
    b.setAttribute("title", this._s.reopen);
    // A shield with a tick (built with the DOM: no innerHTML under Trusted Types).
    const ns = "http://www.w3.org/2000/svg";
    const svg = doc.createElementNS(ns, "svg");
    const path = doc.createElementNS(ns, "path");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    path.setAttribute("d", "M12 2 4 5v6c0 5 3.4 9.7 8 11 4.6-1.3 8-6 8-11V5l-8-3zm-1.2 14.2-3.5-3.5 1.4-1.4 2.1 2.1 4.8-4.8 1.4 1.4-6.2 6.2z");
    svg.appendChild(path);
    b.appendChild(svg);
    this._fab = b;
    root.appendChild(b);
  }

  // -- preference center sections --

  _item(
    key: string,
    title: string,
    details: Child[],
    controls?: HTMLElement[],
  ): HTMLElement {
    const id = "ng-n-" + key;
    const hasDetails = details.some((d) => (Array.isArray(d) ? d.length : !!d));
    const head = hasDetails
      ? h("details", null, h("summary", { id }, title), details)
      : h("span", { id, class: "sm" }, h("strong", null, title));
    return h("div", { class: "it" }, head, controls && controls.length ? h("div", { class: "ctl" }, controls) : null);
  }

  _box(key: string, attr: string, value: string | number, checked: boolean, label: string, disabled?: boolean, role?: string): HTMLElement {
    const lid = "ng-l-" + key + "-" + attr;
    return h(
      "label",
      null,
      h("input", {
        type: "checkbox",
        role,
        [attr]: String(value),
        checked,
        disabled: !!disabled,
        "aria-labelledby": "ng-n-" + key + " " + lid,
      }),
      h("span", { id: lid }, label),
    );
  }

  private _tcfSections(c: Choice, vl: VendorListJson): HTMLElement[] {
    const s = this._s;
    const cfg = this._config;
    const has = (xs: number[], x: number) => xs.indexOf(x) >= 0;
    const out: HTMLElement[] = [];
    const gvlItem = (map: Record<string, GvlItem>, id: number) => map[String(id)] || ({ id, name: "#" + id } as GvlItem);
    const describe = (it: GvlItem) => [
      it.description ? sm(it.description) : null,
      it.illustrations && it.illustrations.length ? h("ul", { class: "sm" }, it.illustrations.map((x) => h("li", null, x))) : null,
    ];
    const purposes = cfg.purposes || [];
    if (purposes.length) {
      out.push(h("h3", null, s.purposes));
      for (const id of purposes) {
        const it = gvlItem(vl.purposes, id);
        const controls = [this._box("p" + id, "data-purpose", id, has(c.purposes, id), s.consent)];
        if (has(this._m.liPurposes, id)) controls.push(this._box("p" + id, "data-purpose-li", id, has(c.li, id), s.li));
        out.push(this._item("p" + id, it.name, describe(it), controls));
      }
    }
    const sfs = cfg.specialFeatures || [];
    if (sfs.length) {
      out.push(h("h3", null, s.specialFeatures));
      for (const id of sfs) {
        const it = gvlItem(vl.specialFeatures, id);
        out.push(this._item("f" + id, it.name, describe(it), [this._box("f" + id, "data-special-feature", id, has(c.specialFeatures, id), s.consent)]));
      }
    }
    if (this._m.stacks.length) {
      out.push(h("h3", null, s.stacks));
      for (const id of this._m.stacks) {
        const st = vl.stacks[String(id)];
        const inc = st.purposes.map((p) => this._name(vl.purposes, p)).concat(st.specialFeatures.map((f) => this._name(vl.specialFeatures, f)));
        out.push(
          this._item("s" + id, st.name, [st.description ? sm(st.description) : null, h("ul", { class: "sm" }, inc.map((x) => h("li", null, x)))]),
        );
      }
    }
    // Special purposes and features the vendors declare: disclosed, not choosable.
    (["specialPurposes", "features"] as const).forEach((k) => {
      const ids = this._m.vendors.reduce((acc: number[], v) => acc.concat(v[k].filter((x) => acc.indexOf(x) < 0)), []).sort((a, b) => a - b);
      if (ids.length) out.push(h("h3", null, s[k]));
      ids.forEach((id) => {
        const it = gvlItem(vl[k], id);
        out.push(this._item(k + id, it.name, describe(it)));
      });
    });
    const vendors = this._m.vendors;
    const custom = cfg.customVendors || [];
    if (vendors.length || custom.length) {
      out.push(h("h3", null, s.vendors + " (" + (vendors.length + custom.length) + ")"));
      for (const v of vendors) out.push(this._vendorItem(v, c, vl));
      for (const v of custom) out.push(this._customVendorItem(v.id, v.name, v.purposes || [], v.privacyPolicyUrl));
    }
    return out;
  }

  private _vendorItem(v: GvlVendor, c: Choice, vl: VendorListJson): HTMLElement {
    const s = this._s;
    const names = (map: Record<string, GvlItem>, xs: number[]) => xs.map((x) => this._name(map, x)).join("; ");
    const line = (label: string, text: string) =>
      text ? sm(h("strong", null, label + ": "), text) : null;
    const r = v.dataRetention || {};
    const retention: HTMLElement[] = [];
    if (typeof r.stdRetention === "number") retention.push(sm(fill(s.retention, r.stdRetention)));
    const extra = (map: Record<string, number> | undefined, items: Record<string, GvlItem>) => {
      for (const k in map || {}) retention.push(sm(fill(s.retention, (map as Record<string, number>)[k]) + " (" + this._name(items, Number(k)) + ")"));
    };
    extra(r.purposes, vl.purposes);
    extra(r.specialPurposes, vl.specialPurposes);
    const urls = v.urls || [];
    const lang = this._lang.toLowerCase().split("-")[0];
    const url = urls.filter((u) => u.langId.toLowerCase() === lang)[0] || urls.filter((u) => u.langId === "en")[0] || urls[0];
    const privacy = safeUrl(url && url.privacy);
    const key = "v" + v.id;
    const controls: HTMLElement[] = [];
    if (hasConsentBasis(v)) controls.push(this._box(key, "data-vendor", v.id, c.vendors.indexOf(v.id) >= 0, s.consent));
    if (hasLiBasis(v)) controls.push(this._box(key, "data-vendor-li", v.id, c.vendorLi.indexOf(v.id) >= 0, s.li));
    return this._item(
      key,
      v.name,
      [
        line(s.purposes + " (" + s.consent + ")", names(vl.purposes, v.purposes)),
        line(s.purposes + " (" + s.li + ")", names(vl.purposes, v.legIntPurposes)),
        line(s.specialPurposes, names(vl.specialPurposes, v.specialPurposes)),
        line(s.features, names(vl.features, v.features)),
        line(s.specialFeatures, names(vl.specialFeatures, v.specialFeatures)),
        retention,
        privacy
          ? sm(link(privacy, s.privacy, s.privacy + ": " + v.name))
          : null,
      ],
      controls,
    );
  }

  private _customVendorItem(id: string, name: string, purposes: string[], policy?: string | null): HTMLElement {
    const s = this._s;
    const cps = this._config.customPurposes || [];
    const pnames = purposes.map((p) => {
      const cp = cps.filter((x) => x.id === p)[0];
      return cp ? localized(cp.name, this._lang, this._config.defaultLanguage) : p;
    });
    const url = safeUrl(policy);
    return this._item("cv-" + id, name, [
      pnames.length ? sm(h("strong", null, s.purposes + ": "), pnames.join("; ")) : null,
      url ? sm(link(url, s.privacy, s.privacy + ": " + name)) : null,
    ]);
  }

  private _categorySection(c: Choice, tcf: boolean): HTMLElement[] {
    const cps = this._config.customPurposes || [];
    if (!cps.length) return [];
    const s = this._s;
    const out: HTMLElement[] = [h("h3", null, s.categories)];
    for (const p of cps) {
      const desc = localized(p.description, this._lang, this._config.defaultLanguage);
      const vendors = (this._config.customVendors || []).filter((v) => (v.purposes || []).indexOf(p.id) >= 0).map((v) => v.name);
      const key = "c-" + p.id;
      out.push(
        this._item(
          key,
          localized(p.name, this._lang, this._config.defaultLanguage) || p.id,
          [
            desc ? sm(desc) : null,
            !tcf && vendors.length ? sm(h("strong", null, s.vendors + ": "), vendors.join("; ")) : null,
          ],
          [
            p.necessary
              ? this._box(key, "data-category", p.id, true, s.always, true)
              : this._box(key, "data-category", p.id, c.categories.indexOf(p.id) >= 0, s.consent),
          ],
        ),
      );
    }
    if (!tcf) {
      const custom = this._config.customVendors || [];
      if (custom.length) {
        out.push(h("h3", null, s.vendors + " (" + custom.length + ")"));
        for (const v of custom) out.push(this._customVendorItem(v.id, v.name, v.purposes || [], v.privacyPolicyUrl));
      }
    }
    return out;
  }

  /** The choice the preference center's checkboxes show. */
  private _readChoice(): Choice {
    const c: Choice = { purposes: [], li: [], specialFeatures: [], vendors: [], vendorLi: [], categories: [] };
    const root = (this._cur as Layer).e;
    const read = (attr: string, into: (number | string)[], numeric: boolean) => {
      root.querySelectorAll("input[" + attr + "]").forEach((el) => {
        const i = el as HTMLInputElement;
        const v = i.getAttribute(attr) as string;
        if (i.checked) into.push(numeric ? Number(v) : v);
      });
    };
    read("data-purpose", c.purposes, true);
    read("data-purpose-li", c.li, true);
    read("data-special-feature", c.specialFeatures, true);
    read("data-vendor", c.vendors, true);
    read("data-vendor-li", c.vendorLi, true);
    read("data-category", c.categories, false);
    return c;
  }
}

// Chromium gives controls inside a closed <details> boxes, but they cannot
// take focus: only a closed details' own summary is reachable.
function inOpenDetails(el: HTMLElement, stop: HTMLElement): boolean {
  for (let p = el.parentElement; p && p !== stop; p = p.parentElement) {
    if (p.tagName === "DETAILS" && !(p as HTMLDetailsElement).open && !(el.tagName === "SUMMARY" && el.parentElement === p)) return false;
  }
  return true;
}
