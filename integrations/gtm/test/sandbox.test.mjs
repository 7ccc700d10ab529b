// The NexaGuard Google Tag Manager template (../template.tpl) run under an
// emulation of GTM's sandbox: the file is parsed into its sections, the
// sandboxed JavaScript runs in a V8 context where the browser and the
// language's globals are out of reach and `require` hands out fakes of the
// sandbox APIs that record every call in order and enforce the template's
// declared permissions (a call they do not allow throws, as in GTM). A fake
// page holds `window`, the scripts injected into it and a stand-in for the
// NexaGuard SDK's documented API; a model of Consent Mode answers what a
// visitor in a region would have. The template's own ___TESTS___ scenarios
// run here too, with `mock`, `assertApi` and `assertThat`.
//
// What is emulated is our reading of Google's documentation (docs/gtm.md
// says which parts); GTM itself is not run here.
//
// Run: node --test integrations/gtm/test/

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import test from "node:test";
import { fileURLToPath } from "node:url";
import vm from "node:vm";

const HERE = dirname(fileURLToPath(import.meta.url));
const GTM_DIR = join(HERE, "..");
const REPO = join(GTM_DIR, "..", "..");
const TEMPLATE_TEXT = readFileSync(join(GTM_DIR, "template.tpl"), "utf8");

const TYPES = [
  "ad_storage",
  "ad_user_data",
  "ad_personalization",
  "analytics_storage",
  "functionality_storage",
  "personalization_storage",
  "security_storage",
];
const SITE_KEY = "ngp_0123456789abcdef0123456789abcdef";
const SERVER = "https://cmp.example.com";
const SDK_URL = `${SERVER}/sdk/v1/nexaguard.js?siteKey=${SITE_KEY}`;

const all = (value) => Object.fromEntries(TYPES.map((t) => [t, value]));
const DENIED = { ...all("denied"), security_storage: "granted" };
const GRANTED = all("granted");

// ---------------------------------------------------------------------------
// The template file
// ---------------------------------------------------------------------------

/** The sections of a .tpl file (`___NAME___` lines), in file order. */
function parseSections(text) {
  const sections = new Map();
  const re = /^___([A-Z_]+)___[ \t]*$/gm;
  const marks = [...text.matchAll(re)];
  marks.forEach((m, i) => {
    const start = m.index + m[0].length;
    const end = i + 1 < marks.length ? marks[i + 1].index : text.length;
    sections.set(m[1], text.slice(start, end).replace(/^\n+|\s+$/g, ""));
  });
  return sections;
}

/** GTM's typed values in ___WEB_PERMISSIONS___ as plain JavaScript. */
function plain(v) {
  switch (v.type) {
    case 1:
      return v.string;
    case 2:
      return (v.listItem || []).map(plain);
    case 3:
      return Object.fromEntries(v.mapKey.map((k, i) => [plain(k), plain(v.mapValue[i])]));
    case 8:
      return v.boolean;
    default:
      throw new Error(`unknown permission value type ${v.type}`);
  }
}

/** The declared permissions, by public id, with their parameters as plain values. */
function parsePermissions(json) {
  const out = {};
  for (const p of JSON.parse(json)) {
    const id = p.instance.key.publicId;
    out[id] = Object.fromEntries((p.instance.param || []).map((q) => [q.key, plain(q.value)]));
  }
  return out;
}

/**
 * The subset of YAML that ___TESTS___ and metadata.yaml use: maps, lists
 * of maps, plain and quoted scalars, and `|` / `|-` block scalars. Anything
 * else throws, so a format this reader does not know fails loudly.
 */
function parseYaml(text) {
  const lines = text.split("\n");
  let i = 0;
  const indentOf = (l) => l.match(/^ */)[0].length;
  const blank = (l) => /^\s*(#.*)?$/.test(l);
  const scalar = (raw) => {
    const s = raw.trim();
    if (s === "") return null;
    if (s.startsWith("'")) return s.slice(1, -1).replace(/''/g, "'");
    if (s.startsWith('"')) return JSON.parse(s);
    if (s === "true" || s === "false") return s === "true";
    if (s === "[]") return [];
    if (/^-?\d+$/.test(s)) return Number(s);
    return s.replace(/\s+#.*$/, "");
  };
  function block(parentIndent) {
    const out = [];
    while (i < lines.length && (blank(lines[i]) || indentOf(lines[i]) > parentIndent)) out.push(lines[i++]);
    while (out.length && out[out.length - 1].trim() === "") out.pop();
    const cut = Math.min(...out.filter((l) => l.trim()).map(indentOf));
    return out.map((l) => l.slice(cut)).join("\n");
  }
  function value(rest, indent) {
    if (/^\|-?$/.test(rest.trim())) return block(indent);
    if (rest.trim() === "") return node(indent, true);
    return scalar(rest);
  }
  // A list may sit at its key's own indent ("scenarios:" then "- name:").
  function node(parentIndent, listAtSameIndent = false) {
    while (i < lines.length && blank(lines[i])) i++;
    if (i >= lines.length) return null;
    const indent = indentOf(lines[i]);
    const isList = lines[i].slice(indent).startsWith("- ");
    if (indent < parentIndent || (indent === parentIndent && !(listAtSameIndent && isList))) return null;
    if (isList) {
      const list = [];
      while (i < lines.length && (blank(lines[i]) || (indentOf(lines[i]) === indent && lines[i].slice(indent).startsWith("- ")))) {
        if (blank(lines[i])) {
          i++;
          continue;
        }
        // A list item is a map whose first key sits after the dash.
        lines[i] = " ".repeat(indent + 2) + lines[i].slice(indent + 2);
        list.push(map(indent + 2));
      }
      return list;
    }
    return map(indent);
  }
  function map(indent) {
    const out = {};
    while (i < lines.length) {
      if (blank(lines[i])) {
        i++;
        continue;
      }
      if (indentOf(lines[i]) !== indent || lines[i].slice(indent).startsWith("- ")) break;
      const m = /^([A-Za-z_][\w]*):(.*)$/.exec(lines[i].slice(indent));
      if (!m) throw new Error(`YAML this reader does not know: ${lines[i]}`);
      i++;
      out[m[1]] = value(m[2], indent);
    }
    return out;
  }
  return node(-1) || {};
}

const SECTIONS = parseSections(TEMPLATE_TEXT);
const INFO = JSON.parse(SECTIONS.get("INFO"));
const PARAMS = JSON.parse(SECTIONS.get("TEMPLATE_PARAMETERS"));
const CODE = SECTIONS.get("SANDBOXED_JS_FOR_WEB_TEMPLATE");
const PERMISSIONS = parsePermissions(SECTIONS.get("WEB_PERMISSIONS"));
const TESTS = parseYaml(SECTIONS.get("TESTS"));

/** Every parameter, GROUP children included, by name. */
function paramsByName(params, out = new Map()) {
  for (const p of params) {
    out.set(p.name, p);
    if (p.subParams) paramsByName(p.subParams, out);
  }
  return out;
}
const PARAM_BY_NAME = paramsByName(PARAMS);

/**
 * `data` as GTM builds it for a tag of this template: each field's default,
 * then the given values. A name that is no field of the template throws,
 * so a test cannot pass on a field the template does not have.
 */
function dataFor(values = {}) {
  const data = {};
  for (const [name, p] of PARAM_BY_NAME) {
    if (p.type === "LABEL" || p.type === "GROUP") continue;
    if (p.type === "PARAM_TABLE" || p.type === "SIMPLE_TABLE") data[name] = [];
    else if (p.type === "CHECKBOX") data[name] = p.defaultValue === true;
    else if ("defaultValue" in p) data[name] = typeof p.defaultValue === "number" ? String(p.defaultValue) : p.defaultValue;
    else data[name] = "";
  }
  for (const [name, v] of Object.entries(values)) {
    if (!PARAM_BY_NAME.has(name)) throw new Error(`${name} is not a field of the template`);
    data[name] = v;
  }
  return data;
}

/** A row of the defaults table, every column from the template's own defaults unless given. */
function row(region, states = {}) {
  const table = PARAM_BY_NAME.get("defaultSettings");
  const out = {};
  for (const c of table.paramTableColumns) out[c.param.name] = c.param.defaultValue ?? "";
  for (const k of Object.keys(states)) {
    if (!(k in out)) throw new Error(`${k} is not a column of the defaults table`);
  }
  return { ...out, ...states, region };
}

// ---------------------------------------------------------------------------
// Permissions
// ---------------------------------------------------------------------------

/** The permission each sandbox API needs (GTM's API reference), or null for none. */
const API_PERMISSION = {
  setDefaultConsentState: "access_consent",
  updateConsentState: "access_consent",
  isConsentGranted: "access_consent",
  addConsentListener: "access_consent",
  gtagSet: "write_data_layer",
  injectScript: "inject_script",
  injectHiddenIframe: "inject_hidden_iframe",
  sendPixel: "send_pixel",
  callInWindow: "access_globals",
  copyFromWindow: "access_globals",
  setInWindow: "access_globals",
  createQueue: "access_globals",
  createArgumentsQueue: "access_globals",
  aliasInWindow: "access_globals",
  copyFromDataLayer: "read_data_layer",
  logToConsole: "logging",
  templateStorage: "access_template_storage",
  localStorage: "access_local_storage",
  getCookieValues: "get_cookies",
  setCookie: "set_cookies",
  getUrl: "get_url",
  getQueryParameters: "get_url",
  getReferrerUrl: "get_referrer",
  readTitle: "read_title",
  getContainerVersion: "read_container_data",
  makeTableMap: null,
  makeInteger: null,
  makeNumber: null,
  makeString: null,
  getType: null,
  encodeUri: null,
  encodeUriComponent: null,
  decodeUri: null,
  decodeUriComponent: null,
  queryPermission: null,
  callLater: null,
  getTimestampMillis: null,
  JSON: null,
  Math: null,
  Object: null,
  parseUrl: null,
};

/**
 * Whether a URL match pattern of the inject_script permission allows `url`.
 * Our reading of GTM's patterns: scheme and host must match (`*` any host,
 * `*.example.com` that domain and its subdomains), and the path, with the
 * query, must match the pattern's path where `*` is any run of characters.
 */
function urlMatches(pattern, url) {
  const m = /^([a-z]+):\/\/([^/]+)(\/.*)$/.exec(pattern);
  if (!m) return false;
  let u;
  try {
    u = new URL(url);
  } catch {
    return false;
  }
  if (u.username || u.password) return false;
  if (u.protocol !== `${m[1]}:`) return false;
  const host = m[2].toLowerCase();
  const actual = u.host.toLowerCase();
  const hostOk = host === "*" || host === actual || (host.startsWith("*.") && (actual === host.slice(2) || actual.endsWith(host.slice(1))));
  if (!hostOk) return false;
  const glob = new RegExp(`^${m[3].split("*").map((s) => s.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*")}$`);
  return glob.test(u.pathname + u.search);
}

/** A write_data_layer key pattern: the key itself, or a prefix ending in `.*`. */
function keyMatches(pattern, key) {
  return pattern === key || pattern === "*" || (pattern.endsWith(".*") && key.startsWith(pattern.slice(0, -1)));
}

class PermissionError extends Error {}

/** The checks GTM makes, for the declared permissions; each records what it allowed. */
function permissionChecker(perms, used) {
  const note = (what) => used.add(what);
  const deny = (msg) => {
    throw new PermissionError(`permission denied: ${msg}`);
  };
  const checks = {
    access_consent(type, access) {
      const entry = (perms.access_consent?.consentTypes || []).find((t) => t.consentType === type);
      if (!entry || !entry[access]) return false;
      note(`access_consent:${type}:${access}`);
      return true;
    },
    inject_script(url) {
      const pattern = (perms.inject_script?.urls || []).find((p) => urlMatches(p, url));
      if (!pattern) return false;
      note(`inject_script:${pattern}`);
      return true;
    },
    access_globals(access, key) {
      const entry = (perms.access_globals?.keys || []).find((k) => k.key === key);
      const accesses = access === "readwrite" ? ["read", "write"] : [access];
      if (!entry || !accesses.every((a) => entry[a])) return false;
      accesses.forEach((a) => note(`access_globals:${key}:${a}`));
      return true;
    },
    write_data_layer(key) {
      const pattern = (perms.write_data_layer?.keyPatterns || []).find((p) => keyMatches(p, key));
      if (!pattern) return false;
      note(`write_data_layer:${pattern}`);
      return true;
    },
    logging() {
      if (!perms.logging) return false;
      note("logging");
      return true;
    },
  };
  return {
    query(id, ...args) {
      const check = checks[id];
      return !!check && check(...args);
    },
    require(id, ...args) {
      if (!checks[id]) deny(`${id} is not emulated`);
      if (!checks[id](...args)) deny(`${id} does not allow ${JSON.stringify(args)}`);
    },
  };
}

/** Every permission entry the template declares, in the form the checker notes them. */
function declaredEntries(perms) {
  const out = [];
  for (const t of perms.access_consent?.consentTypes || []) {
    for (const a of ["read", "write"]) if (t[a]) out.push(`access_consent:${t.consentType}:${a}`);
  }
  for (const p of perms.inject_script?.urls || []) out.push(`inject_script:${p}`);
  for (const k of perms.access_globals?.keys || []) {
    for (const a of ["read", "write", "execute"]) if (k[a]) out.push(`access_globals:${k.key}:${a}`);
  }
  for (const p of perms.write_data_layer?.keyPatterns || []) out.push(`write_data_layer:${p}`);
  if (perms.logging) out.push("logging");
  return out;
}

// ---------------------------------------------------------------------------
// Values crossing between the sandbox and the page
// ---------------------------------------------------------------------------

/**
 * GTM copies what crosses between sandboxed code and the page: null,
 * undefined, booleans, numbers, strings, arrays, plain objects and
 * functions (wrapped so that their own arguments are copied too); anything
 * else (a Promise, a DOM node, a class instance) becomes undefined.
 */
function cross(v, seen = new Map()) {
  if (v === null || v === undefined) return v;
  const t = typeof v;
  if (t === "boolean" || t === "number" || t === "string") return v;
  if (t === "function") {
    return function crossed(...args) {
      return cross(v(...args.map((a) => cross(a))));
    };
  }
  if (t !== "object") return undefined;
  if (seen.has(v)) return seen.get(v);
  if (Array.isArray(v)) {
    const out = [];
    seen.set(v, out);
    v.forEach((x) => out.push(cross(x, seen)));
    return out;
  }
  // Plain objects of either realm: the sandbox's objects come from its own
  // V8 context, whose Object.prototype is not this one's.
  const proto = Object.getPrototypeOf(v);
  if (proto !== null && Object.getPrototypeOf(proto) !== null) return undefined;
  const out = {};
  seen.set(v, out);
  for (const [k, x] of Object.entries(v)) out[k] = cross(x, seen);
  return out;
}

/** The value at a dot path of `root`, and the object holding it. */
function resolvePath(root, path) {
  const parts = path.split(".");
  let parent = null;
  let cur = root;
  for (const p of parts) {
    if (cur === null || cur === undefined || !Object.prototype.hasOwnProperty.call(Object(cur), p)) return { parent: null, value: undefined };
    parent = cur;
    cur = cur[p];
  }
  return { parent, value: cur };
}

// ---------------------------------------------------------------------------
// The page: window, scripts, Consent Mode as Google applies it
// ---------------------------------------------------------------------------

class Page {
  constructor({ debug = true, scripts = () => "load", region = "" } = {}) {
    this.window = {};
    this.debug = debug;
    this.scripts = scripts;
    this.region = region;
    this.injected = [];
    this.console = [];
    this.defaults = [];
    this.updates = [];
    this.sets = {};
    this.sdk = null;
  }

  /**
   * A visitor's state for one type, as Consent Mode works it out: an
   * update wins; before one, the default of the most specific region entry
   * naming the visitor's region (subdivision, then country), else the
   * entry without a region; `undefined` when nothing set it.
   */
  consent(type, region = this.region) {
    for (let i = this.updates.length - 1; i >= 0; i--) {
      if (type in this.updates[i]) return this.updates[i][type];
    }
    const country = region.split("-")[0];
    const rank = (d) => {
      if (!d.region) return 1;
      if (region && d.region.includes(region)) return 3;
      if (country && d.region.includes(country)) return 2;
      return 0;
    };
    let best = null;
    for (const d of this.defaults) {
      if (!(type in d) || rank(d) === 0) continue;
      if (!best || rank(d) >= rank(best)) best = d;
    }
    return best ? best[type] : undefined;
  }

  consentState(region) {
    return Object.fromEntries(TYPES.map((t) => [t, this.consent(t, region)]));
  }

  /** A script element's load, asynchronously as in a browser. */
  loadScript(url, onLoad, onError) {
    this.injected.push(url);
    setImmediate(() => {
      const outcome = this.scripts(url, this);
      if (outcome === "load") {
        this.sdk = FakeSdk.run(this, url);
        onLoad();
      } else if (outcome === "load-nothing") {
        onLoad();
      } else {
        onError();
      }
    });
  }
}

/**
 * A stand-in for the NexaGuard SDK that keeps the contract docs/js-api.md
 * gives `window.NexaGuard` (`on`, `off`, `ready`, `getConsent`, `version`):
 * a stored choice is reported with a `consent` event and then `ready`, a
 * first visit with `ready(null)`, each choice with `consent`, and `ready`
 * subscribed to late calls back once, asynchronously. Like the SDK it does
 * nothing without a site key; it takes the key from its script URL's
 * `siteKey` parameter, which is what the template relies on (docs/gtm.md).
 */
class FakeSdk {
  static run(page, src) {
    const w = page.window;
    if (w.NexaGuard && w.NexaGuard.version) return page.sdk;
    const sdk = new FakeSdk(page, new URL(src).searchParams.get("siteKey") || "");
    w.NexaGuard = sdk.api;
    if (!sdk.siteKey) page.console.push("NexaGuard: no site key (data-site-key on the script tag)");
    return sdk;
  }

  constructor(page, siteKey) {
    this.page = page;
    this.siteKey = siteKey;
    this.listeners = { ready: [], consent: [], ui: [] };
    this.state = null;
    this.isReady = false;
    const copy = (x) => (x === null || x === undefined ? x : JSON.parse(JSON.stringify(x)));
    this.copy = copy;
    this.api = {
      version: "0.1.0",
      ready: () => Promise.resolve(copy(this.state)),
      getConsent: () => copy(this.state),
      on: (event, cb) => {
        if (!this.listeners[event] || typeof cb !== "function") return;
        this.listeners[event].push(cb);
        if (event === "ready" && this.isReady) setTimeout(() => cb(copy(this.state)), 0);
      },
      off: (event, cb) => {
        const list = this.listeners[event] || [];
        const i = list.indexOf(cb);
        if (i >= 0) list.splice(i, 1);
      },
    };
  }

  emit(event, payload) {
    if (!this.siteKey) return;
    this.listeners[event].slice().forEach((cb) => cb(this.copy(payload)));
  }

  /** The configuration loaded and no choice holds: the banner shows. */
  firstVisit() {
    this.isReady = true;
    this.emit("ready", null);
  }

  /** The configuration loaded and the stored choice holds. */
  returning(state) {
    this.state = state;
    this.emit("consent", state);
    this.isReady = true;
    this.emit("ready", state);
  }

  /** The visitor made a choice. */
  choose(state) {
    this.state = state;
    this.emit("consent", state);
  }
}

/** A ConsentState as the SDK reports it. */
function consentState(consentMode, categories = ["necessary"]) {
  return {
    purposes: [],
    legitimateInterests: [],
    specialFeatures: [],
    vendors: [],
    vendorLegitimateInterests: [],
    categories,
    consentMode,
    configVersion: 3,
    timestamp: "2026-12-07T10:00:00Z",
  };
}

const settle = async () => {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
  await new Promise((r) => setTimeout(r, 1));
};

// ---------------------------------------------------------------------------
// The sandbox
// ---------------------------------------------------------------------------

/** Globals that sandboxed JavaScript does not have: each is undefined inside. */
const HIDDEN_GLOBALS = [
  "window", "document", "navigator", "location", "globalThis", "self", "console", "setTimeout",
  "setInterval", "setImmediate", "queueMicrotask", "fetch", "XMLHttpRequest", "eval", "Function",
  "JSON", "Math", "Object", "Array", "String", "Number", "Boolean", "Date", "RegExp", "Promise",
  "Symbol", "Reflect", "Proxy", "Map", "Set", "WeakMap", "WeakSet", "Error", "TypeError",
  "parseInt", "parseFloat", "isNaN", "isFinite", "encodeURIComponent", "decodeURIComponent",
  "encodeURI", "decodeURI", "escape", "unescape", "require", "process", "module", "exports",
  "Buffer", "Intl", "WebAssembly", "SharedArrayBuffer", "Atomics",
];

/**
 * What sandboxed JavaScript leaves out of the language, checked on the code
 * with strings and comments blanked: no `typeof` (getType), `new`, `this`,
 * classes, regular expressions, template literals, spread, `for...in`/`of`,
 * `delete`, modules or async functions; `require` only with a literal name.
 */
function sandboxLint(code) {
  const problems = [];
  let out = "";
  for (let i = 0; i < code.length; ) {
    const c = code[i];
    const n = code[i + 1];
    if (c === "/" && n === "/") {
      while (i < code.length && code[i] !== "\n") i++;
    } else if (c === "/" && n === "*") {
      const end = code.indexOf("*/", i + 2);
      i = end < 0 ? code.length : end + 2;
      out += " ";
    } else if (c === "'" || c === '"') {
      let j = i + 1;
      while (j < code.length && code[j] !== c) j += code[j] === "\\" ? 2 : 1;
      out += '""';
      i = j + 1;
    } else if (c === "`") {
      problems.push("template literal");
      i++;
    } else if (c === "/") {
      const before = out.replace(/\s+$/, "").slice(-1);
      if (before === "" || "(,=:[!&|?{};".includes(before)) problems.push("regular expression literal");
      out += c;
      i++;
    } else {
      out += c;
      i++;
    }
  }
  const forbidden = {
    typeof: /\btypeof\b/,
    new: /\bnew\b/,
    this: /\bthis\b/,
    class: /\bclass\b/,
    instanceof: /\binstanceof\b/,
    delete: /\bdelete\b/,
    "for...in / for...of": /\bfor\s*\([^;)]*\b(in|of)\b/,
    "async / await": /\b(async|await)\b/,
    "import / export": /\b(import|export)\b/,
    spread: /\.\.\./,
    "getter / setter": /\b(get|set)\s+\w+\s*\(/,
  };
  for (const [what, re] of Object.entries(forbidden)) if (re.test(out)) problems.push(what);
  const requires = [...code.matchAll(/\brequire\s*\(/g)].length;
  const literal = [...code.matchAll(/\brequire\s*\(\s*(['"])[A-Za-z]+\1\s*\)/g)].length;
  if (requires !== literal) problems.push("require without a literal API name");
  return [...new Set(problems)];
}

/** The API names the code requires. */
function requiredApis(code) {
  return [...new Set([...code.matchAll(/\brequire\s*\(\s*['"]([A-Za-z]+)['"]\s*\)/g)].map((m) => m[1]))];
}

const getType = (v) => {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  return typeof v;
};

const CONSENT_SETTING_EXTRAS = ["region", "wait_for_update"];

/**
 * A run of the template: the fake APIs, the calls they saw (in order), the
 * permission entries they used, and `runCode(data)`.
 */
class Sandbox {
  constructor({ page = new Page(), permissions = PERMISSIONS, code = CODE } = {}) {
    this.page = page;
    this.permissions = permissions;
    this.code = code;
    this.calls = [];
    this.used = new Set();
    this.mocks = new Map();
    this.checker = permissionChecker(permissions, this.used);
    this.apis = this.buildApis();
  }

  record(api, args) {
    this.calls.push({ api, args: cross(args) });
  }

  callsOf(api) {
    return this.calls.filter((c) => c.api === api).map((c) => c.args);
  }

  /** A fake API: permission checks first (they run even when mocked), then the mock or the fake. */
  api(name, check, impl) {
    return (...args) => {
      check(...args);
      this.record(name, args);
      if (this.mocks.has(name)) {
        const m = this.mocks.get(name);
        return typeof m === "function" ? m(...args) : m;
      }
      return impl(...args);
    };
  }

  buildApis() {
    const page = this.page;
    const need = (id, ...args) => this.checker.require(id, ...args);
    const consentSettings = (name, settings, extras) => {
      if (getType(settings) !== "object") throw new TypeError(`${name} takes an object`);
      for (const [k, v] of Object.entries(settings)) {
        if (extras.includes(k)) continue;
        if (v !== "granted" && v !== "denied") throw new TypeError(`${name}: ${k} is ${JSON.stringify(v)}, not granted or denied`);
        need("access_consent", k, "write");
      }
      for (const k of Object.keys(settings)) {
        if (CONSENT_SETTING_EXTRAS.includes(k) && !extras.includes(k)) throw new TypeError(`${name} takes no ${k}`);
      }
      if ("region" in settings && !(Array.isArray(settings.region) && settings.region.every((r) => typeof r === "string"))) {
        throw new TypeError(`${name}: region must be an array of region codes`);
      }
      if ("wait_for_update" in settings && typeof settings.wait_for_update !== "number") {
        throw new TypeError(`${name}: wait_for_update must be a number`);
      }
    };
    const globals = (access, key) => need("access_globals", access, key);
    return {
      setDefaultConsentState: this.api(
        "setDefaultConsentState",
        (s) => consentSettings("setDefaultConsentState", s, CONSENT_SETTING_EXTRAS),
        (s) => void page.defaults.push(cross(s)),
      ),
      updateConsentState: this.api(
        "updateConsentState",
        (s) => consentSettings("updateConsentState", s, []),
        (s) => void page.updates.push(cross(s)),
      ),
      isConsentGranted: this.api(
        "isConsentGranted",
        (type) => need("access_consent", type, "read"),
        (type) => page.consent(type) !== "denied",
      ),
      gtagSet: this.api(
        "gtagSet",
        (keyOrObject, value) => {
          const keys = [];
          const flatten = (o, prefix) => {
            for (const [k, v] of Object.entries(o)) {
              if (getType(v) === "object") flatten(v, `${prefix}${k}.`);
              else keys.push(prefix + k);
            }
          };
          if (getType(keyOrObject) === "object") flatten(keyOrObject, "");
          else if (typeof keyOrObject === "string" && value !== undefined) keys.push(keyOrObject);
          else throw new TypeError("gtagSet takes an object, or a key and a value");
          keys.forEach((k) => need("write_data_layer", k));
        },
        (keyOrObject, value) => {
          Object.assign(page.sets, getType(keyOrObject) === "object" ? cross(keyOrObject) : { [keyOrObject]: cross(value) });
        },
      ),
      injectScript: this.api(
        "injectScript",
        (url) => {
          if (typeof url !== "string") throw new TypeError("injectScript takes a URL");
          need("inject_script", url);
        },
        (url, onSuccess, onFailure) => page.loadScript(url, () => onSuccess && onSuccess(), () => onFailure && onFailure()),
      ),
      callInWindow: this.api(
        "callInWindow",
        (path) => globals("execute", path),
        (path, ...args) => {
          const { parent, value } = resolvePath(page.window, path);
          if (typeof value !== "function") return undefined;
          return cross(value.apply(parent, args.map((a) => cross(a))));
        },
      ),
      copyFromWindow: this.api(
        "copyFromWindow",
        (key) => globals("read", key),
        (key) => cross(resolvePath(page.window, key).value),
      ),
      setInWindow: this.api(
        "setInWindow",
        (key) => globals("write", key),
        (key, value, override) => {
          const parts = key.split(".");
          const { value: parent } = parts.length > 1 ? resolvePath(page.window, parts.slice(0, -1).join(".")) : { value: page.window };
          if (getType(parent) !== "object") return false;
          const last = parts[parts.length - 1];
          if (last in parent && !override) return false;
          parent[last] = cross(value);
          return true;
        },
      ),
      createQueue: this.api(
        "createQueue",
        (key) => globals("readwrite", key),
        (key) => {
          const w = page.window;
          if (!Array.isArray(w[key])) w[key] = [];
          return (...args) => w[key].push(...args.map((a) => cross(a)));
        },
      ),
      logToConsole: this.api(
        "logToConsole",
        () => need("logging"),
        (...args) => {
          // environments 'debug' logs in preview and debug mode only, silently.
          if (this.permissions.logging.environments === "all" || page.debug) page.console.push(args.join(" "));
        },
      ),
      queryPermission: this.api(
        "queryPermission",
        () => {},
        (id, ...args) => {
          if (id === "access_globals") return this.checker.query(id, args[0], args[1]);
          if (id === "access_consent") return this.checker.query(id, args[0], args[1]);
          return this.checker.query(id, ...args);
        },
      ),
      makeTableMap: this.api(
        "makeTableMap",
        () => {},
        (table, keyCol, valueCol) => {
          if (!Array.isArray(table)) return null;
          const out = {};
          let any = false;
          for (const r of table) {
            if (getType(r) !== "object" || !(keyCol in r)) continue;
            out[r[keyCol]] = cross(r[valueCol]);
            any = true;
          }
          return any ? out : null;
        },
      ),
      getType: this.api("getType", () => {}, getType),
      makeInteger: this.api("makeInteger", () => {}, (v) => Math.trunc(Number(v))),
      makeNumber: this.api("makeNumber", () => {}, (v) => Number(v)),
      makeString: this.api("makeString", () => {}, (v) => String(v)),
      encodeUriComponent: this.api("encodeUriComponent", () => {}, (v) => encodeURIComponent(v)),
      encodeUri: this.api("encodeUri", () => {}, (v) => encodeURI(v)),
      decodeUriComponent: this.api("decodeUriComponent", () => {}, (v) => {
        try {
          return decodeURIComponent(v);
        } catch {
          return undefined;
        }
      }),
      callLater: this.api("callLater", () => {}, (fn) => void setTimeout(() => fn(), 0)),
      getTimestampMillis: this.api("getTimestampMillis", () => {}, () => Date.now()),
      JSON: {
        parse: (s) => {
          try {
            return JSON.parse(String(s));
          } catch {
            return undefined;
          }
        },
        stringify: (v) => {
          try {
            return JSON.stringify(v);
          } catch {
            return undefined;
          }
        },
      },
      Math: { abs: Math.abs, ceil: Math.ceil, floor: Math.floor, max: Math.max, min: Math.min, pow: Math.pow, round: Math.round, sqrt: Math.sqrt },
      Object: { keys: Object.keys, values: Object.values, entries: Object.entries, freeze: Object.freeze },
    };
  }

  /** `require` as sandboxed code sees it. */
  require = (name) => {
    if (typeof name !== "string" || !(name in this.apis)) throw new Error(`${name} is not a sandbox API this emulation knows`);
    return this.apis[name];
  };

  /** Runs the template's code with `data` (plus gtmOnSuccess and gtmOnFailure). */
  runCode(values) {
    const data = cross(values);
    data.gtmOnSuccess = () => this.record("gtmOnSuccess", []);
    data.gtmOnFailure = () => this.record("gtmOnFailure", []);
    const fn = compile(this.code, ["require", "data"], "template.tpl (sandboxed JS)");
    fn(this.require, data);
  }

  outcome() {
    const success = this.callsOf("gtmOnSuccess").length;
    const failure = this.callsOf("gtmOnFailure").length;
    return success && !failure ? "success" : failure && !success ? "failure" : success + failure ? "both" : "pending";
  }
}

/** Compiles sandboxed code as a function of `params`, with the hidden globals shadowed. */
function compile(code, params, filename) {
  const source = `(function (${HIDDEN_GLOBALS.join(", ")}) {\n return function (${params.join(", ")}) {\n${code}\n};\n})`;
  const outer = new vm.Script(source, { filename }).runInContext(vm.createContext({}));
  return outer();
}

/** Runs the template on a page and lets its asynchronous parts finish. */
async function run(values, { page = new Page(), permissions } = {}) {
  const sandbox = new Sandbox({ page, permissions });
  sandbox.runCode(dataFor(values));
  await settle();
  return sandbox;
}

const standard = () => ({
  serverUrl: SERVER,
  siteKey: SITE_KEY,
  defaultSettings: [
    row("", { ...GRANTED }),
    row("eea_uk_ch", { ...DENIED }),
    row("US-CA, US-VA", { ...GRANTED, ad_user_data: "denied", ad_personalization: "denied" }),
  ],
  waitForUpdate: "500",
  urlPassthrough: true,
  adsDataRedaction: true,
});

// ---------------------------------------------------------------------------
// GTM's test API, for the template's ___TESTS___
// ---------------------------------------------------------------------------

function deepEqual(a, b) {
  try {
    assert.deepStrictEqual(cross(a), cross(b));
    return true;
  } catch {
    return false;
  }
}

/** Runs one ___TESTS___ scenario the way GTM's test runner does, setup first. */
function runScenario(scenario, setup = "") {
  const sandbox = new Sandbox({ page: new Page() });
  const mock = (name, value) => {
    if (!(name in sandbox.apis)) throw new Error(`mock: ${name} is not a sandbox API`);
    sandbox.mocks.set(name, value);
  };
  const assertApi = (name) => {
    const calls = () => sandbox.callsOf(name);
    return {
      wasCalled: () => assert.ok(calls().length > 0, `${name} was not called`),
      wasNotCalled: () => assert.equal(calls().length, 0, `${name} was called: ${JSON.stringify(calls())}`),
      wasCalledWith: (...args) =>
        assert.ok(calls().some((c) => deepEqual(c, args)), `${name} was not called with ${JSON.stringify(args)}; calls: ${JSON.stringify(calls())}`),
      wasNotCalledWith: (...args) => assert.ok(!calls().some((c) => deepEqual(c, args)), `${name} was called with ${JSON.stringify(args)}`),
    };
  };
  const assertThat = (actual, message) => ({
    isEqualTo: (expected) => assert.ok(deepEqual(actual, expected), message || `${JSON.stringify(actual)} is not ${JSON.stringify(expected)}`),
    isNotEqualTo: (expected) => assert.ok(!deepEqual(actual, expected), message),
    isStrictlyEqualTo: (expected) => assert.strictEqual(actual, expected, message),
    isTrue: () => assert.strictEqual(actual, true, message),
    isFalse: () => assert.strictEqual(actual, false, message),
    isDefined: () => assert.notStrictEqual(actual, undefined, message),
    isUndefined: () => assert.strictEqual(actual, undefined, message),
    isNull: () => assert.strictEqual(actual, null, message),
    isNotNull: () => assert.notStrictEqual(actual, null, message),
    contains: (...items) => items.forEach((x) => assert.ok(actual.some((y) => deepEqual(x, y)), message)),
  });
  const fail = (message) => assert.fail(message || "fail() called");
  const runCode = (data) => sandbox.runCode(data);
  const fn = compile(`${setup}\n${scenario.code}`, ["require", "mock", "assertApi", "assertThat", "runCode", "fail"], `___TESTS___: ${scenario.name}`);
  fn(sandbox.require, mock, assertApi, assertThat, runCode, fail);
  return sandbox;
}

// ---------------------------------------------------------------------------
// The file and its declarations
// ---------------------------------------------------------------------------

test("the template has the sections a GTM export has, in GTM's order", () => {
  assert.deepEqual(
    [...SECTIONS.keys()],
    ["TERMS_OF_SERVICE", "INFO", "TEMPLATE_PARAMETERS", "SANDBOXED_JS_FOR_WEB_TEMPLATE", "WEB_PERMISSIONS", "TESTS", "NOTES"],
  );
  assert.match(SECTIONS.get("TERMS_OF_SERVICE"), /Community\s+Template Gallery Developer Terms of Service/);
  assert.equal(INFO.type, "TAG");
  assert.equal(INFO.id, "cvt_temp_public_id");
  assert.deepEqual(INFO.containerContexts, ["WEB"]);
  assert.equal(INFO.displayName, "NexaGuard CMP");
  assert.ok(INFO.description.length <= 500, "the gallery shows a short description");
});

test("the fields are the server URL, the site key, the defaults table, wait_for_update and the two checkboxes", () => {
  const fields = [...PARAM_BY_NAME.values()].filter((p) => !["LABEL", "GROUP"].includes(p.type)).map((p) => `${p.name}:${p.type}`);
  assert.deepEqual(fields, [
    "serverUrl:TEXT",
    "siteKey:TEXT",
    "defaultSettings:PARAM_TABLE",
    "waitForUpdate:TEXT",
    "urlPassthrough:CHECKBOX",
    "adsDataRedaction:CHECKBOX",
  ]);
  const columns = PARAM_BY_NAME.get("defaultSettings").paramTableColumns.map((c) => c.param);
  assert.deepEqual(columns.map((c) => c.name), ["region", ...TYPES]);
  for (const c of columns.slice(1)) {
    assert.deepEqual(c.selectItems.map((s) => s.value).sort(), ["denied", "granted"], c.name);
    assert.equal(c.macrosInSelect, false, `${c.name}: a value is granted or denied, nothing else`);
  }
  // Every data field the code reads is a field of the template.
  for (const m of CODE.matchAll(/\bdata\.([A-Za-z]+)/g)) {
    if (!["gtmOnSuccess", "gtmOnFailure"].includes(m[1])) assert.ok(PARAM_BY_NAME.has(m[1]), `data.${m[1]} is no field`);
  }
});

test("the field validators accept real values and refuse what the code would refuse", () => {
  const validates = (name, value) =>
    (PARAM_BY_NAME.get(name).valueValidators || []).every((v) => {
      if (v.type === "NON_EMPTY") return value !== "";
      if (v.type === "REGEX") return new RegExp(v.args[0]).test(value);
      if (v.type === "NON_NEGATIVE_NUMBER") return /^\d+(\.\d+)?$/.test(String(value));
      throw new Error(`validator ${v.type} is not emulated`);
    });
  for (const ok of ["https://cmp.example.com", "https://cmp.example.com/", "https://localhost:8443", "https://[::1]:8443"]) {
    assert.ok(validates("serverUrl", ok), ok);
  }
  for (const bad of ["", "http://cmp.example.com", "https://cmp.example.com/path", "https://cmp.example.com?x=1", "https://u:p@cmp.example.com", "cmp.example.com"]) {
    assert.ok(!validates("serverUrl", bad), bad);
  }
  assert.ok(validates("siteKey", SITE_KEY));
  assert.ok(validates("siteKey", "ngs_ffffffffffffffffffffffffffffffff"));
  for (const bad of ["", "ngp_", "ngx_0123456789abcdef0123456789abcdef", "ngp_0123456789ABCDEF0123456789ABCDEF", ` ${SITE_KEY}x`]) {
    assert.ok(!validates("siteKey", bad), bad);
  }
  assert.ok(validates("waitForUpdate", "500"));
  assert.ok(!validates("waitForUpdate", "-1"));
});

test("every API the code requires is declared in the permissions, and every permission is one the code needs", () => {
  const apis = requiredApis(CODE);
  const needed = new Set();
  for (const api of apis) {
    assert.ok(api in API_PERMISSION, `${api}: which permission it needs is not known here`);
    if (API_PERMISSION[api]) needed.add(API_PERMISSION[api]);
  }
  for (const id of needed) assert.ok(id in PERMISSIONS, `${id} is needed by the code but not declared`);
  for (const id of Object.keys(PERMISSIONS)) assert.ok(needed.has(id), `${id} is declared but no required API needs it`);
  assert.deepEqual(Object.keys(PERMISSIONS).sort(), ["access_consent", "access_globals", "inject_script", "logging", "write_data_layer"]);
});

test("the permissions are as narrow as the template needs", () => {
  const consent = PERMISSIONS.access_consent.consentTypes;
  assert.deepEqual(consent.map((t) => t.consentType), TYPES);
  for (const t of consent) {
    assert.equal(t.write, true, `${t.consentType}: written by the defaults and the updates`);
    assert.equal(t.read, false, `${t.consentType}: the template reads no consent state`);
  }
  assert.deepEqual(PERMISSIONS.inject_script.urls, ["https://*/sdk/v1/nexaguard.js*"]);
  assert.deepEqual(PERMISSIONS.access_globals.keys, [{ key: "NexaGuard.on", read: true, write: false, execute: true }]);
  assert.deepEqual(PERMISSIONS.write_data_layer.keyPatterns, ["url_passthrough", "ads_data_redaction"]);
  assert.equal(PERMISSIONS.logging.environments, "debug");
});

test("the code uses only what the sandbox's JavaScript offers", () => {
  assert.deepEqual(sandboxLint(CODE), []);
  // The lint itself catches what it is for.
  assert.deepEqual(sandboxLint("const x = typeof y;"), ["typeof"]);
  assert.deepEqual(sandboxLint("const r = /a+/;"), ["regular expression literal"]);
  assert.deepEqual(sandboxLint("const s = `a${b}`;"), ["template literal"]);
  assert.deepEqual(sandboxLint("const n = 'new this typeof'; // new"), []);
  assert.deepEqual(sandboxLint("const api = require(name);"), ["require without a literal API name"]);
  assert.deepEqual(sandboxLint("const a = b / c / d;"), []);
});

test("the region groups are the server's", () => {
  const rust = readFileSync(join(REPO, "crates", "consent", "src", "regions.rs"), "utf8");
  const constant = (name) => {
    const m = new RegExp(`pub const ${name}: \\[&str; \\d+\\] = \\[([^\\]]*)\\];`).exec(rust);
    assert.ok(m, `${name} not found in regions.rs`);
    return [...m[1].matchAll(/"([A-Z-]+)"/g)].map((x) => x[1]);
  };
  const regionsOf = (text) => {
    const sandbox = new Sandbox();
    sandbox.runCode(dataFor({ serverUrl: "", defaultSettings: [row(text)] }));
    return sandbox.callsOf("setDefaultConsentState")[0][0].region;
  };
  const eeaUkCh = constant("EEA_UK_CH");
  assert.deepEqual(regionsOf("eea_uk_ch"), eeaUkCh);
  assert.deepEqual(regionsOf("EEA"), eeaUkCh.filter((c) => c !== "GB" && c !== "CH"));
  assert.deepEqual(regionsOf("us_comprehensive"), constant("US_COMPREHENSIVE"));
  // The server's gtag list for ca_qc leaves out CA-QC, which CA covers.
  assert.deepEqual(regionsOf("ca_qc"), constant("CA_QC").filter((c) => c !== "CA-QC"));
  assert.deepEqual(regionsOf("br"), constant("BR"));
});

test("metadata.yaml names the homepage, the documentation and each published version", () => {
  const text = readFileSync(join(GTM_DIR, "metadata.yaml"), "utf8");
  assert.match(text, /^# /, "a header comment says what the file holds");
  const meta = parseYaml(text);
  assert.deepEqual(Object.keys(meta).sort(), ["documentation", "homepage", "versions"]);
  assert.match(meta.homepage, /^https:\/\//);
  assert.match(meta.documentation, /^https:\/\/.*gtm\.md$/);
  assert.ok(Array.isArray(meta.versions) && meta.versions.length >= 1);
  for (const v of meta.versions) {
    assert.deepEqual(Object.keys(v).sort(), ["changeNotes", "sha"]);
    // Until the first gallery release the sha is the placeholder docs/gtm.md explains.
    assert.match(String(v.sha), /^([0-9a-f]{40}|0{40})$/);
    assert.ok(v.changeNotes.length > 0);
  }
});

// ---------------------------------------------------------------------------
// The emulation enforces what it claims to
// ---------------------------------------------------------------------------

test("the emulation throws on a call the permissions do not allow, as GTM does", () => {
  const attempt = (code) => {
    const sandbox = new Sandbox({ code });
    return () => sandbox.runCode(dataFor());
  };
  assert.throws(attempt("require('injectScript')('https://evil.example/x.js');"), PermissionError);
  assert.throws(attempt("require('injectScript')('http://cmp.example.com/sdk/v1/nexaguard.js');"), PermissionError);
  assert.throws(attempt("require('callInWindow')('NexaGuard.acceptAll');"), PermissionError);
  assert.throws(attempt("require('setInWindow')('NexaGuard', {}, true);"), PermissionError);
  assert.throws(attempt("require('copyFromWindow')('dataLayer');"), PermissionError);
  assert.throws(attempt("require('updateConsentState')({third_party_storage: 'granted'});"), PermissionError);
  assert.throws(attempt("require('isConsentGranted')('ad_storage');"), PermissionError);
  assert.throws(attempt("require('gtagSet')('developer_id.x', true);"), PermissionError);
  assert.throws(attempt("require('sendPixel')('https://cmp.example.com/p');"), /not a sandbox API|permission/);
  // Errors of the sandbox's own context: matched by message, not class.
  assert.throws(attempt("const x = window.NexaGuard;"), /reading 'NexaGuard'/, "window is out of reach");
  assert.throws(attempt("JSON.parse('1');"), /reading 'parse'/, "JSON needs require");
  // Allowed ones pass.
  attempt("require('callInWindow')('NexaGuard.on', 'ready', function () {});")();
  attempt("require('injectScript')('https://cmp.example.com/sdk/v1/nexaguard.js?siteKey=x', function () {}, function () {});")();
});

test("inject_script URL patterns match as the emulation reads Google's rules", () => {
  const p = "https://*/sdk/v1/nexaguard.js*";
  assert.ok(urlMatches(p, SDK_URL));
  assert.ok(urlMatches(p, "https://cmp.example.com:8443/sdk/v1/nexaguard.js"));
  assert.ok(!urlMatches(p, "http://cmp.example.com/sdk/v1/nexaguard.js"));
  assert.ok(!urlMatches(p, "https://cmp.example.com/sdk/v1/other.js"));
  assert.ok(!urlMatches(p, "https://cmp.example.com/x/sdk/v1/nexaguard.js"));
  assert.ok(!urlMatches(p, "https://user:pw@cmp.example.com/sdk/v1/nexaguard.js"));
  assert.ok(urlMatches("https://*.example.com/sdk/v1/*", "https://cmp.example.com/sdk/v1/nexaguard.js"));
  assert.ok(urlMatches("https://*.example.com/sdk/v1/*", "https://example.com/sdk/v1/nexaguard.js"));
  assert.ok(!urlMatches("https://*.example.com/sdk/v1/*", "https://example.org/sdk/v1/nexaguard.js"));
  assert.ok(!urlMatches("https://cmp.example.com/sdk/v1/*", "https://cmp.example.com.evil.test/sdk/v1/nexaguard.js"));
});

test("logging is silent outside preview and debug mode, as the debug-only permission has it", async () => {
  const quiet = await run({ ...standard(), siteKey: "" }, { page: new Page({ debug: false }) });
  assert.deepEqual(quiet.page.console, []);
  assert.ok(quiet.callsOf("logToConsole").length > 0);
  const loud = await run({ ...standard(), siteKey: "" }, { page: new Page({ debug: true }) });
  assert.match(loud.page.console.join("\n"), /NexaGuard CMP: the site key must be/);
});

// ---------------------------------------------------------------------------
// What the template does
// ---------------------------------------------------------------------------

test("a first visit gets the defaults per region, then the default row, then gtagSet, then the SDK for the site key, and no update", async () => {
  const sandbox = await run(standard());
  const order = sandbox.calls.map((c) => c.api).filter((a) => !["getType", "makeInteger", "encodeUriComponent", "queryPermission", "logToConsole", "copyFromWindow", "callInWindow"].includes(a));
  assert.deepEqual(order, ["setDefaultConsentState", "setDefaultConsentState", "setDefaultConsentState", "gtagSet", "injectScript", "gtmOnSuccess"]);
  const defaults = sandbox.callsOf("setDefaultConsentState").map((a) => a[0]);
  assert.deepEqual(defaults[0], { ...DENIED, region: readEeaUkCh(), wait_for_update: 500 });
  assert.deepEqual(defaults[1], { ...GRANTED, ad_user_data: "denied", ad_personalization: "denied", region: ["US-CA", "US-VA"], wait_for_update: 500 });
  assert.deepEqual(defaults[2], { ...GRANTED, wait_for_update: 500 });
  assert.deepEqual(sandbox.callsOf("gtagSet"), [[{ url_passthrough: true, ads_data_redaction: true }]]);
  assert.deepEqual(sandbox.page.sets, { url_passthrough: true, ads_data_redaction: true });
  assert.deepEqual(sandbox.page.injected, [SDK_URL]);
  assert.equal(sandbox.callsOf("injectScript")[0][3], "nexaguard-sdk", "a cache token: one script element however often the tag fires");
  // The SDK says this visitor has to choose: nothing to update.
  sandbox.page.sdk.firstVisit();
  await settle();
  assert.deepEqual(sandbox.callsOf("updateConsentState"), []);
  assert.equal(sandbox.outcome(), "success");
  assert.deepEqual(sandbox.page.console, []);
});

test("before any choice a visitor has the default of the most specific region naming them", async () => {
  const sandbox = await run(standard());
  assert.deepEqual(sandbox.page.consentState("FR"), DENIED);
  assert.deepEqual(sandbox.page.consentState("GB"), DENIED);
  assert.deepEqual(sandbox.page.consentState("US-CA"), { ...GRANTED, ad_user_data: "denied", ad_personalization: "denied" });
  assert.deepEqual(sandbox.page.consentState("US-TX"), GRANTED, "a state the US row does not name gets the default row");
  assert.deepEqual(sandbox.page.consentState("JP"), GRANTED);
  assert.deepEqual(sandbox.page.consentState(""), GRANTED, "an unknown region gets the default row");
});

test("a returning visitor's stored choice becomes one consent update once the SDK has loaded it", async () => {
  const sandbox = await run(standard());
  const stored = consentState({ ...DENIED, analytics_storage: "granted" }, ["necessary", "analytics"]);
  sandbox.page.sdk.returning(stored);
  await settle();
  assert.deepEqual(sandbox.callsOf("updateConsentState"), [[{ ...DENIED, analytics_storage: "granted" }]], "the consent event and ready report it; one update");
  assert.deepEqual(sandbox.page.consentState("FR"), { ...DENIED, analytics_storage: "granted" });
  assert.deepEqual(sandbox.page.consentState("US-CA"), { ...DENIED, analytics_storage: "granted" });
});

test("a stored choice reported before the template listened still reaches Consent Mode", async () => {
  // The SDK was already on the page and ready (a second firing, a page that
  // also loads it): ready calls a late subscriber back with the state.
  const page = new Page();
  FakeSdk.run(page, SDK_URL).returning(consentState(GRANTED));
  const sandbox = await run(standard(), { page });
  assert.deepEqual(sandbox.callsOf("updateConsentState"), [[GRANTED]]);
  assert.equal(sandbox.outcome(), "success");
});

test("each choice is a consent update with the choice's seven states", async () => {
  const sandbox = await run(standard());
  sandbox.page.sdk.firstVisit();
  sandbox.page.sdk.choose(consentState(GRANTED, ["necessary", "analytics", "marketing"]));
  await settle();
  assert.deepEqual(sandbox.callsOf("updateConsentState"), [[GRANTED]]);
  assert.deepEqual(sandbox.page.consentState("DE"), GRANTED);
  sandbox.page.sdk.choose(consentState(DENIED));
  await settle();
  assert.deepEqual(sandbox.callsOf("updateConsentState"), [[GRANTED], [DENIED]]);
  assert.deepEqual(sandbox.page.consentState("DE"), DENIED, "a withdrawal is an update too");
});

test("a consent payload without Consent Mode states updates nothing, and values other than granted are denied", async () => {
  const sandbox = await run(standard());
  sandbox.page.sdk.choose({ categories: ["necessary"] });
  sandbox.page.sdk.choose(consentState({ ...GRANTED, ad_storage: "yes", security_storage: undefined }));
  await settle();
  assert.deepEqual(sandbox.callsOf("updateConsentState"), [[{ ...GRANTED, ad_storage: "denied", security_storage: "denied" }]]);
});

test("an empty site key fails the tag and injects nothing, and the defaults are still set", async () => {
  for (const siteKey of ["", "   ", "ngp_short", "ngx_0123456789abcdef0123456789abcdef"]) {
    const sandbox = await run({ ...standard(), siteKey });
    assert.equal(sandbox.outcome(), "failure", JSON.stringify(siteKey));
    assert.deepEqual(sandbox.page.injected, []);
    assert.equal(sandbox.callsOf("injectScript").length, 0);
    assert.equal(sandbox.callsOf("setDefaultConsentState").length, 3, "Google tags still see denied where the rows say so");
    assert.deepEqual(sandbox.page.consentState("FR"), DENIED);
  }
});

test("a server URL that is not an https origin fails the tag and injects nothing", async () => {
  for (const serverUrl of ["", "http://cmp.example.com", "cmp.example.com", "https://cmp.example.com/cmp", "https://cmp.example.com/?x=1", "https://u:p@cmp.example.com", "javascript:alert(1)"]) {
    const sandbox = await run({ ...standard(), serverUrl });
    assert.equal(sandbox.outcome(), "failure", serverUrl);
    assert.deepEqual(sandbox.page.injected, [], serverUrl);
    assert.match(sandbox.page.console.join("\n"), /the server URL must be an https origin/, serverUrl);
  }
  // Spaces around it, upper case and one trailing slash are fine.
  const sandbox = await run({ ...standard(), serverUrl: " HTTPS://CMP.Example.com/ " });
  assert.deepEqual(sandbox.page.injected, [SDK_URL]);
});

test("a server URL the inject_script permission does not cover fails the tag instead of throwing", async () => {
  // A user who narrowed the permission to their own host, then typed another.
  const permissions = { ...PERMISSIONS, inject_script: { urls: ["https://cmp.example.com/sdk/v1/nexaguard.js*"] } };
  const sandbox = await run({ ...standard(), serverUrl: "https://cmp.example.org" }, { permissions });
  assert.equal(sandbox.outcome(), "failure");
  assert.deepEqual(sandbox.page.injected, []);
  assert.match(sandbox.page.console.join("\n"), /permission does not allow https:\/\/cmp\.example\.org\/sdk\/v1\/nexaguard\.js/);
  const narrowed = await run(standard(), { permissions });
  assert.equal(narrowed.outcome(), "success");
});

test("a script that does not load, or defines no NexaGuard, fails the tag", async () => {
  const failed = await run(standard(), { page: new Page({ scripts: () => "error" }) });
  assert.equal(failed.outcome(), "failure");
  assert.match(failed.page.console.join("\n"), /could not load/);
  const empty = await run(standard(), { page: new Page({ scripts: () => "load-nothing" }) });
  assert.equal(empty.outcome(), "failure");
  assert.match(empty.page.console.join("\n"), /defined no window\.NexaGuard/);
  assert.equal(empty.callsOf("callInWindow").length, 0);
});

test("what the template relies on in window.NexaGuard is what the SDK's types declare", () => {
  // The stand-in above keeps this contract; if the SDK's declaration moves
  // away from it, the stand-in (and so these tests) would be wrong.
  const dts = readFileSync(join(REPO, "sdk", "types", "nexaguard.d.ts"), "utf8");
  assert.match(dts, /on<K extends NexaGuardEvent>\(event: K, callback: \(payload: NexaGuardEventMap\[K\]\) => void\): void;/);
  assert.match(dts, /interface NexaGuardEventMap \{\s*ready: ConsentState \| null;\s*consent: ConsentState;/);
  assert.match(dts, /consentMode: ConsentModeStates;/);
  const states = /interface ConsentModeStates \{([^}]*)\}/.exec(dts)[1];
  assert.deepEqual([...states.matchAll(/(\w+): ConsentModeValue;/g)].map((m) => m[1]), TYPES);
  assert.match(dts, /type ConsentModeValue = "granted" \| "denied";/);
});

test("the SDK finds the site key in its script URL, which is all injectScript can give it", async () => {
  const sandbox = await run(standard());
  assert.equal(sandbox.page.sdk.siteKey, SITE_KEY);
  assert.equal(new URL(sandbox.page.injected[0]).searchParams.get("siteKey"), SITE_KEY);
  // Without the key in the URL the SDK would stay silent: the stand-in
  // behaves as the SDK does without a key.
  const page = new Page();
  const silent = FakeSdk.run(page, `${SERVER}/sdk/v1/nexaguard.js`);
  assert.equal(silent.siteKey, "");
  assert.match(page.console[0], /no site key/);
});

test("regions are ISO codes or group names; an unusable entry is dropped and a row left with none is skipped, never widened to everywhere", async () => {
  const sandbox = await run({
    ...standard(),
    defaultSettings: [
      row("de, FR ,, US-ca, Europe, 12", { ...DENIED }),
      row("Europe, EU, uk, el", { ...GRANTED }),
      row("", { ...DENIED, analytics_storage: "granted" }),
    ],
  });
  const defaults = sandbox.callsOf("setDefaultConsentState").map((a) => a[0]);
  assert.equal(defaults.length, 2);
  assert.deepEqual(defaults[0].region, ["DE", "FR", "US-CA"]);
  assert.deepEqual(defaults[1], { ...DENIED, analytics_storage: "granted", wait_for_update: 500 });
  assert.deepEqual(sandbox.page.consentState("IT"), { ...DENIED, analytics_storage: "granted" }, "the dropped row granted nothing anywhere");
  const log = sandbox.page.console.join("\n");
  assert.match(log, /row 1: not a region code or group: Europe, 12/);
  assert.match(log, /row 2: not a region code or group: Europe, EU \(use EEA or eea_uk_ch\), uk \(use GB\), el \(use GR\)/);
  assert.equal(sandbox.outcome(), "success");
});

test("without a row for everywhere else every type is denied there, and a second such row is ignored", async () => {
  const none = await run({ ...standard(), defaultSettings: [row("US-CA", { ...GRANTED })] });
  assert.deepEqual(none.callsOf("setDefaultConsentState").map((a) => a[0]), [
    { ...GRANTED, region: ["US-CA"], wait_for_update: 500 },
    { ...all("denied"), wait_for_update: 500 },
  ]);
  const empty = await run({ ...standard(), defaultSettings: [] });
  assert.deepEqual(empty.callsOf("setDefaultConsentState").map((a) => a[0]), [{ ...all("denied"), wait_for_update: 500 }]);
  const twice = await run({ ...standard(), defaultSettings: [row("", { ...DENIED }), row("", { ...GRANTED })] });
  assert.deepEqual(twice.callsOf("setDefaultConsentState").map((a) => a[0]), [{ ...DENIED, wait_for_update: 500 }]);
  assert.match(twice.page.console.join("\n"), /row 2 also has no region/);
});

test("wait_for_update goes on every default, and 0 or nothing leaves it out", async () => {
  for (const [waitForUpdate, expected] of [["2000", 2000], ["0", undefined], ["", undefined], ["abc", undefined]]) {
    const sandbox = await run({ ...standard(), waitForUpdate });
    for (const [d] of sandbox.callsOf("setDefaultConsentState")) assert.equal(d.wait_for_update, expected, waitForUpdate);
  }
});

test("url_passthrough and ads_data_redaction follow the checkboxes, false by default", async () => {
  const defaults = await run({ serverUrl: SERVER, siteKey: SITE_KEY });
  assert.deepEqual(defaults.callsOf("gtagSet"), [[{ url_passthrough: false, ads_data_redaction: false }]]);
  const one = await run({ ...standard(), urlPassthrough: false, adsDataRedaction: true });
  assert.deepEqual(one.page.sets, { url_passthrough: false, ads_data_redaction: true });
});

test("every declared permission entry is used by the template in these scenarios", async () => {
  const used = new Set();
  const collect = (s) => s.used.forEach((u) => used.add(u));
  const first = await run(standard());
  first.page.sdk.choose(consentState(GRANTED));
  await settle();
  collect(first);
  collect(await run({ ...standard(), siteKey: "" }));
  assert.deepEqual([...used].sort(), declaredEntries(PERMISSIONS).sort());
});

// ---------------------------------------------------------------------------
// The template's own tests
// ---------------------------------------------------------------------------

test("the template's ___TESTS___ scenarios pass in the emulation", async (t) => {
  assert.ok(Array.isArray(TESTS.scenarios) && TESTS.scenarios.length >= 5, "scenarios were read");
  const names = TESTS.scenarios.map((s) => s.name);
  assert.equal(new Set(names).size, names.length, "scenario names are distinct");
  assert.equal(names.length, [...SECTIONS.get("TESTS").matchAll(/^- name:/gm)].length, "every scenario was read");
  assert.deepEqual(sandboxLint(TESTS.setup || ""), [], "the setup is sandboxed JavaScript too");
  for (const scenario of TESTS.scenarios) {
    await t.test(scenario.name, () => {
      assert.deepEqual(sandboxLint(scenario.code), []);
      runScenario(scenario, TESTS.setup || "");
    });
  }
});

test("a ___TESTS___ scenario that asserts something false fails in the emulation", () => {
  assert.throws(() => runScenario({ name: "wrong", code: "runCode(mockData);\nassertApi('gtmOnFailure').wasCalled();" }, TESTS.setup), /gtmOnFailure was not called/);
  assert.throws(() => runScenario({ name: "wrong", code: "runCode(mockData);\nassertApi('updateConsentState').wasCalled();" }, TESTS.setup));
});

/** The server's eea_uk_ch list, as regions.rs has it. */
function readEeaUkCh() {
  const rust = readFileSync(join(REPO, "crates", "consent", "src", "regions.rs"), "utf8");
  const m = /pub const EEA_UK_CH: \[&str; \d+\] = \[([^\]]*)\];/.exec(rust);
  return [...m[1].matchAll(/"([A-Z-]+)"/g)].map((x) => x[1]);
}
