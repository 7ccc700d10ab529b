// The browser-test harness: the real nexaguard server over HTTPS on a free
// port with a throw-away data directory, headless Chromium driven by
// playwright-core, and test pages served on the server's own origin.
//
// Test pages are not files: a context routes https://localhost:PORT/test/*.html
// (and the same path on https://127.0.0.1:PORT, a second origin the demo site
// allows, for cross-origin frames, and on any origin a test defines a page
// for) to HTML built here, so the page's origin is one the site allows while
// /sdk and /v1 requests reach the real server.
//
// Environment:
//   NEXAGUARD_BIN   the binary (default target/debug/nexaguard)
//   CHROMIUM_PATH   the browser (default /usr/bin/chromium)
//   NEXAGUARD_TEST_SERVER_LOG=1   echo the server's standard error
//   NEXAGUARD_DOCS_SCREENSHOTS=1  write screenshots into docs/images (the
//                   documentation's own), not target/browser-screenshots:
//                   `npm --prefix tests/browser run screenshots` sets it

import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const BROWSER_TESTS = path.join(REPO, 'tests', 'browser');

/**
 * Where tests write their screenshots. A test run leaves the tree as it
 * found it: screenshots go under target/ unless the docs' images are being
 * regenerated on purpose (NEXAGUARD_DOCS_SCREENSHOTS=1).
 */
export const SCREENSHOTS = process.env.NEXAGUARD_DOCS_SCREENSHOTS === '1'
  ? path.join(REPO, 'docs', 'images')
  : path.join(REPO, 'target', 'browser-screenshots');
mkdirSync(SCREENSHOTS, { recursive: true });

/** How long a wait for the browser or the server may take before failing. */
export const WAIT_MS = 15_000;

/** NEXAGUARD_BIN, else target/debug/nexaguard; a clear error if missing. */
export function findBinary() {
  const bin = process.env.NEXAGUARD_BIN || path.join(REPO, 'target', 'debug', 'nexaguard');
  if (!existsSync(bin)) {
    throw new Error(
      `the nexaguard binary ${bin} does not exist: run \`cargo build -p nexaguard-cli\` `
        + '(or set NEXAGUARD_BIN to the binary) before the browser tests',
    );
  }
  return bin;
}

/** A TCP port nothing listens on right now. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `fn` until it returns a truthy value; throws `what` on timeout. */
export async function poll(what, fn, { timeout = WAIT_MS, interval = 200 } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      const value = await fn();
      if (value) return value;
      last = value;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) {
      const detail = last instanceof Error ? last.message : JSON.stringify(last);
      throw new Error(`timed out after ${timeout} ms waiting for ${what} (last: ${detail})`);
    }
    await sleep(interval);
  }
}

/**
 * Starts `nexaguard serve --demo` on a free port with a fresh data
 * directory and waits for its "listening" line. Retries on another port if
 * the chosen one was taken in between.
 */
export async function startServer({ bin = findBinary(), args = [] } = {}) {
  for (let attempt = 1; ; attempt += 1) {
    const port = await freePort();
    const dataDir = mkdtempSync(path.join(tmpdir(), 'nexaguard-browser-'));
    try {
      return await Server.start(bin, port, dataDir, args);
    } catch (e) {
      rmSync(dataDir, { recursive: true, force: true });
      if (attempt >= 3 || !/in use|AddrInUse|address/i.test(String(e.message))) throw e;
    }
  }
}

const live = new Set();
process.on('exit', () => {
  for (const child of live) child.kill('SIGTERM');
});

export class Server {
  /** `args`: more `serve` flags (a trusted region header, say). */
  static async start(bin, port, dataDir, args = []) {
    const child = spawn(
      bin,
      [
        'serve', '--demo',
        '--data-dir', dataDir,
        '--listen', `127.0.0.1:${port}`,
        '--rate-limit-per-minute', '1000000',
        '--rate-limit-burst', '1000000',
        ...args,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } },
    );
    live.add(child);
    const server = new Server(bin, port, dataDir, child);
    await server.#waitListening();
    server.cert = readFileSync(path.join(dataDir, 'tls', 'cert.pem'));
    return server;
  }

  constructor(bin, port, dataDir, child) {
    this.bin = bin;
    this.port = port;
    this.dataDir = dataDir;
    this.child = child;
    this.origin = `https://localhost:${port}`;
    /** The demo site's second allowed origin, for cross-origin frames. */
    this.otherOrigin = `https://127.0.0.1:${port}`;
    this.stderr = '';
    this.stdout = '';
    this.exited = null;
    this.snippets = new Map();
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk) => {
      if (process.env.NEXAGUARD_TEST_SERVER_LOG) process.stderr.write(chunk);
      this.stderr = (this.stderr + chunk).slice(-64 * 1024);
    });
    child.on('exit', (code, signal) => {
      live.delete(child);
      this.exited = { code, signal };
    });
  }

  #waitListening() {
    const { child } = this;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`the server did not print its listening line within 60 s; stderr:\n${this.stderr}`));
      }, 60_000);
      child.stdout.setEncoding('utf8');
      child.stdout.on('data', (chunk) => {
        this.stdout += chunk;
        if (/NexaGuard is listening on https:\/\/\S+/.test(this.stdout)) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.on('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`the server exited (${code ?? signal}) before listening; stderr:\n${this.stderr}`));
      });
    });
  }

  /** SIGTERM, then SIGKILL after 10 s; removes the data directory. */
  async stop() {
    if (!this.exited) {
      const exited = new Promise((resolve) => this.child.once('exit', resolve));
      this.child.kill('SIGTERM');
      const killer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(killer);
    }
    rmSync(this.dataDir, { recursive: true, force: true });
  }

  /** One HTTPS request to the server, trusting only its own certificate. */
  request(method, urlPath, { body, headers = {} } = {}) {
    return new Promise((resolve, reject) => {
      const req = https.request(
        {
          host: '127.0.0.1',
          servername: 'localhost',
          port: this.port,
          method,
          path: urlPath,
          ca: this.cert,
          headers: { host: `localhost:${this.port}`, ...headers },
        },
        (res) => {
          const chunks = [];
          res.on('data', (c) => chunks.push(c));
          res.on('end', () => {
            const bytes = Buffer.concat(chunks);
            const text = bytes.toString('utf8');
            resolve({
              status: res.statusCode,
              headers: res.headers,
              body: bytes,
              text,
              json() {
                try {
                  return JSON.parse(text);
                } catch {
                  throw new Error(`${method} ${urlPath}: ${res.statusCode}, not JSON: ${text.slice(0, 500)}`);
                }
              },
            });
          });
        },
      );
      req.on('error', reject);
      if (body !== undefined) req.write(body);
      req.end();
    });
  }

  async getJson(urlPath) {
    const res = await this.request('GET', urlPath);
    if (res.status !== 200) {
      throw new Error(`GET ${urlPath}: HTTP ${res.status}: ${res.text.slice(0, 500)}`);
    }
    return res.json();
  }

  /** The demo site's production key, from the demo page. */
  async demoKey() {
    if (this._demoKey) return this._demoKey;
    const res = await this.request('GET', '/demo/');
    const m = /ngp_[0-9a-f]{32}/.exec(res.text);
    if (res.status !== 200 || !m) {
      throw new Error(`no demo site key in GET /demo/ (HTTP ${res.status}): ${res.text.slice(0, 300)}`);
    }
    this._demoKey = m[0];
    return m[0];
  }

  /** GET /v1/sites/{key}/config.json. */
  siteConfig(key) {
    return this.getJson(`/v1/sites/${key}/config.json`);
  }

  /**
   * The installation snippet of a site. Falls back, with a warning, to a
   * plain SDK script tag while the server has no snippet endpoint.
   */
  async snippet(key) {
    if (this.snippets.has(key)) return this.snippets.get(key);
    const res = await this.request('GET', `/v1/sites/${key}/snippet.html`);
    let snippet;
    if (res.status === 200) {
      snippet = { html: res.text, stubHash: res.headers['x-nexaguard-stub-hash'] ?? null, fallback: false };
    } else if (res.status === 404 && !/unknown_site_key|not_published/.test(res.text)) {
      console.warn(
        `WARNING: GET /v1/sites/${key}/snippet.html answered 404; the test pages load `
          + 'the SDK with a plain script tag instead of the installation snippet',
      );
      snippet = {
        html: `<script src="/sdk/v1/nexaguard.js" data-site-key="${key}" async></script>`,
        stubHash: null,
        fallback: true,
      };
    } else {
      throw new Error(`GET /v1/sites/${key}/snippet.html: HTTP ${res.status}: ${res.text.slice(0, 300)}`);
    }
    this.snippets.set(key, snippet);
    return snippet;
  }

  /** Runs a CLI subcommand against this server's data directory; parses JSON output. */
  cli(args) {
    const result = spawnSync(this.bin, [...args, '--data-dir', this.dataDir], { encoding: 'utf8' });
    if (result.error) throw result.error;
    if (result.status !== 0) {
      throw new Error(`nexaguard ${args.join(' ')} exited ${result.status}: ${result.stderr}${result.stdout}`);
    }
    const out = result.stdout.trim();
    try {
      return JSON.parse(out);
    } catch {
      return out;
    }
  }

  tenantId() {
    if (!this._tenant) this._tenant = this.cli(['tenant', 'create', 'browser tests']).id;
    return this._tenant;
  }

  /**
   * Creates a site allowing both test origins (or `origins`), publishes
   * `config` to its production environment and waits until the server
   * serves it. Returns { id, key, version }.
   */
  async createSite(name, config, origins = [this.origin, this.otherOrigin]) {
    const site = this.cli([
      'site', 'create', '--tenant', this.tenantId(), '--name', name,
      ...origins.flatMap((o) => ['--origin', o]),
    ]);
    const key = site.siteKeys?.production;
    if (!site.id || !/^ngp_/.test(key ?? '')) {
      throw new Error(`site create printed no id / production key: ${JSON.stringify(site)}`);
    }
    const version = await this.publish(site.id, key, config);
    return { id: site.id, key, version };
  }

  /** Publishes `config` (an object) and waits until config.json serves that version. */
  async publish(siteId, key, config) {
    const file = path.join(this.dataDir, `config-${siteId}-${Date.now()}.json`);
    writeFileSync(file, JSON.stringify(config, null, 2));
    const out = this.cli(['site', 'config', 'publish', '--site', siteId, '--environment', 'production', file]);
    const version = out.version;
    if (!Number.isInteger(version)) throw new Error(`publish printed no version: ${JSON.stringify(out)}`);
    await this.waitForConfigVersion(key, version);
    return version;
  }

  /** Polls config.json until it serves `version` (the server refreshes every ~5 s). */
  waitForConfigVersion(key, version, timeout = 20_000) {
    return poll(`config.json of ${key} to serve configVersion ${version}`, async () => {
      const res = await this.request('GET', `/v1/sites/${key}/config.json`);
      if (res.status !== 200) throw new Error(`HTTP ${res.status}: ${res.text.slice(0, 200)}`);
      const served = res.json().configVersion;
      if (served < version) throw new Error(`serves configVersion ${served}`);
      return true;
    }, { timeout, interval: 250 });
  }

  /** GET /v1/consents/{token}?siteKey=key: the newest recorded event. */
  consentState(token, key) {
    return this.getJson(`/v1/consents/${encodeURIComponent(token)}?siteKey=${encodeURIComponent(key)}`);
  }

  /** The TC string decoded by the Rust tcf crate (`nexaguard tcf decode`). */
  decodeTc(tc) {
    const result = spawnSync(this.bin, ['tcf', 'decode', tc], { encoding: 'utf8' });
    if (result.status !== 0) {
      throw new Error(`nexaguard tcf decode ${tc} exited ${result.status}: ${result.stderr}`);
    }
    return JSON.parse(result.stdout);
  }
}

/** Reads a JSON file of the repository. */
export function repoJson(rel) {
  return JSON.parse(readFileSync(path.join(REPO, rel), 'utf8'));
}

// --- the browser -----------------------------------------------------------

/** Headless Chromium; fails (never skips) when it is not installed. */
export async function launchBrowser() {
  const executablePath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
  if (!existsSync(executablePath)) {
    throw new Error(
      `Chromium is not installed at ${executablePath}: install it with \`apt-get install -y chromium\` `
        + '(or set CHROMIUM_PATH to a Chromium binary); the browser tests cannot run without it',
    );
  }
  return chromium.launch({ executablePath, headless: true, args: ['--no-sandbox'] });
}

/**
 * A fresh browser context (own cookies and storage) whose /test/*.html
 * URLs on both test origins are served from `ctx.pages`. Page errors of
 * every page are collected in `ctx.errors`.
 */
export async function newContext(browser, server, options = {}) {
  const context = await browser.newContext({
    ignoreHTTPSErrors: true,
    locale: 'en-US',
    viewport: { width: 1280, height: 800 },
    ...options,
  });
  context.setDefaultTimeout(WAIT_MS);
  const pages = new Map();
  const testUrl = (url) => {
    const u = new URL(url);
    return u.pathname.startsWith('/test/')
      && (u.origin === server.origin || u.origin === server.otherOrigin || pages.has(u.origin + u.pathname));
  };
  await context.route(testUrl, (route) => {
    const u = new URL(route.request().url());
    const page = pages.get(u.origin + u.pathname);
    if (!page) return route.fulfill({ status: 404, contentType: 'text/plain', body: 'no such test page' });
    return route.fulfill({ status: 200, contentType: 'text/html; charset=utf-8', headers: page.headers, body: page.html });
  });
  const errors = [];
  context.on('page', (page) => {
    page.on('pageerror', (e) => errors.push(`${page.url()}: ${e.stack || e.message}`));
  });
  return { context, pages, errors, server };
}

/**
 * Defines a test page of `key`'s site at `${origin}/test/${name}.html` in
 * `ctx`: `before` goes before the snippet in <head>, `after` right after it
 * (still before the SDK can have loaded), `body` into <body>.
 * Returns the page's URL.
 */
export async function definePage(ctx, { key, name, before = '', after = '', body = '', origin, headers, lang = 'en' }) {
  const { server } = ctx;
  const snippet = key ? (await server.snippet(key)).html : '';
  const url = `${origin ?? server.origin}/test/${name}.html`;
  const html = `<!doctype html>
<html lang="${lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>NexaGuard browser test: ${name}</title>
${before}
${snippet}
${after}
</head>
<body>
<main>
<h1>Test page ${name}</h1>
<p>Some content of the publisher's page, with <a href="#top">a link</a>.</p>
${body}
</main>
</body>
</html>
`;
  ctx.pages.set(url, { html, headers });
  return url;
}

/** A new page of `ctx` opened at `url`. */
export async function openPage(ctx, url) {
  const page = await ctx.context.newPage();
  await page.goto(url, { waitUntil: 'domcontentloaded' });
  return page;
}

/** Runs `fn` with a fresh context, closing it afterwards. */
export async function withContext(browser, server, fn, options) {
  const ctx = await newContext(browser, server, options);
  try {
    return await fn(ctx);
  } finally {
    await ctx.context.close();
  }
}

/** Starts a server (with `serve` flags `args`) and a browser for one test file; `close()` ends both. */
export async function setup({ args } = {}) {
  const server = await startServer({ args });
  let browser;
  try {
    browser = await launchBrowser();
  } catch (e) {
    await server.stop();
    throw e;
  }
  return {
    server,
    browser,
    async close() {
      await browser.close().catch(() => {});
      await server.stop();
    },
  };
}

/** The demo owner's e-mail address and password, printed once by `serve --demo`. */
export function demoOwner(server) {
  const line = /Demo owner:\s+(\S+) \/ (\S+)/.exec(server.stdout);
  if (!line) throw new Error(`the demo owner's password line is missing from:\n${server.stdout}`);
  return { email: line[1], password: line[2] };
}
