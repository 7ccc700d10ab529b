// Script blocking: <script type="text/plain" data-nexaguard-category="analytics">
// elements (inline or with src) run once every category they name is
// granted, including those added to the page later.

const SELECTOR = 'script[type="text/plain"][data-nexaguard-category]';

/** The categories a blocked script needs: space- or comma-separated ids; digits are IAB purposes. */
export function requiredCategories(attr: string | null): string[] {
  return (attr || "").split(/[\s,]+/).filter(Boolean);
}

export class ScriptGate {
  private _observer: MutationObserver | null = null;

  constructor(
    private _doc: Document,
    private _allowed: (category: string) => boolean,
  ) {}

  /** Watches for blocked scripts added later. */
  start(): void {
    if (this._observer || typeof MutationObserver === "undefined") return;
    this._observer = new MutationObserver((records) => {
      for (const r of records) {
        r.addedNodes.forEach((n) => {
          if (n.nodeType !== 1) return;
          const el = n as Element;
          if (el.matches(SELECTOR)) this._consider(el as HTMLScriptElement);
          else if (el.firstElementChild) el.querySelectorAll(SELECTOR).forEach((s) => this._consider(s as HTMLScriptElement));
        });
      }
    });
    this._observer.observe(this._doc.documentElement, { childList: true, subtree: true });
  }

  /** Runs every blocked script whose categories are now granted. */
  scan(): void {
    this._doc.querySelectorAll(SELECTOR).forEach((s) => this._consider(s as HTMLScriptElement));
  }

  private _consider(el: HTMLScriptElement): void {
    const need = requiredCategories(el.getAttribute("data-nexaguard-category"));
    if (need.length && need.every(this._allowed) && el.parentNode) activate(this._doc, el);
  }
}

/** Replaces a blocked script with a live copy: same attributes and text, without the type. */
export function activate(doc: Document, el: HTMLScriptElement): HTMLScriptElement {
  const s = doc.createElement("script");
  for (let i = 0; i < el.attributes.length; i++) {
    const a = el.attributes[i];
    if (a.name !== "type") s.setAttribute(a.name, a.value);
  }
  const type = el.getAttribute("data-nexaguard-type");
  if (type) s.type = type;
  // Browsers hide the nonce attribute after parsing; copy the property.
  if (el.nonce) s.nonce = el.nonce;
  // Keep the document order of external scripts unless they asked for async.
  if (el.src && !el.hasAttribute("async")) s.async = false;
  s.text = el.text;
  (el.parentNode as Node).replaceChild(s, el);
  return s;
}
