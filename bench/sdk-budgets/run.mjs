#!/usr/bin/env node
// The browser SDK's budgets: a benchmark, not a test (CI does not run it).
//
//   npm ci --prefix tests/browser
//   cargo build -p nexaguard-cli            # or set NEXAGUARD_BIN
//   node bench/sdk-budgets/run.mjs [--runs 20] [--cpu-throttle 1] [--json out.json]
//
// Sizes: per experience, sdk/dist/nexaguard.js and the chunks it loads for
// it, and sdk/dist/stub.js, gzipped (level 9), and
// what the server sends for /sdk/v1/nexaguard.js with Accept-Encoding gzip
// and br. Budgets: SDK 25 KB, stub 1 KB (1 KB = 1000 bytes).
//
// Page loads: the real server (the harness of tests/browser), headless
// Chromium, a publisher page with the demo site's installation snippet;
// each run a fresh context (empty cache and cookies, so a first visit).
// Per run, from an init script that runs before any of the page's scripts:
//   - banner visible: the first animation frame in which the banner (in the
//     SDK's shadow root) has a box and is not hidden or transparent, minus
//     the navigation's domContentLoadedEventStart. Budget 100 ms.
//   - cumulative layout shift: PerformanceObserver 'layout-shift'
//     (buffered), from navigation until 1 s after the banner showed.
//     Budget 0.
//   - long tasks: PerformanceObserver 'longtask' (buffered; Chromium only
//     reports tasks over 50 ms). Budget: none.
// Then, in as many traced runs, the longest main-thread task of any length
// (RunTask on CrRendererMain in a Chromium trace), for information.

import { gzipSync, brotliCompressSync, constants as zc } from 'node:zlib';
import { readFileSync, existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import {
  REPO, definePage, newContext, setup,
} from '../../tests/browser/lib/harness.mjs';

const { values: opts } = parseArgs({
  options: {
    runs: { type: 'string', default: process.env.N || '20' },
    'cpu-throttle': { type: 'string', default: '1' },
    json: { type: 'string' },
    'no-trace': { type: 'boolean', default: false },
  },
});
const RUNS = Number(opts.runs);
const THROTTLE = Number(opts['cpu-throttle']);

const KB = 1000;
const results = [];
function record(name, value, budget, unit, pass, detail = '') {
  results.push({ name, value, budget, unit, pass, detail });
}

// --- sizes -------------------------------------------------------------------

const gz = (buf) => gzipSync(buf, { level: 9 }).length;
const br = (buf) => brotliCompressSync(buf, { params: { [zc.BROTLI_PARAM_QUALITY]: 11 } }).length;

const sizes = {};
// What one visitor's browser loads, per experience: the SDK and the chunks
// it loads for that experience (each gzipped on its own, as served).
const EXPERIENCES = {
  tcf: ['sdk/dist/nexaguard.js', 'sdk/dist/nexaguard-tcf.js'],
  us: ['sdk/dist/nexaguard.js', 'sdk/dist/nexaguard-us.js'],
  'opt_in, none': ['sdk/dist/nexaguard.js'],
  notice_only: ['sdk/dist/nexaguard.js', 'sdk/dist/nexaguard-us.js'],
};
const measured = (rel) => {
  const file = path.join(REPO, rel);
  if (!existsSync(file)) return null;
  const buf = readFileSync(file);
  return { raw: buf.length, gzip: gz(buf), brotli: br(buf) };
};
for (const [name, files] of Object.entries(EXPERIENCES)) {
  const parts = files.map(measured);
  const label = `SDK gzipped, ${name} (${files.map((f) => path.basename(f)).join(' + ')})`;
  if (parts.some((p) => !p)) {
    record(label, null, 25 * KB, 'B', false, 'file missing');
    continue;
  }
  const sum = (k) => parts.reduce((t, p) => t + p[k], 0);
  sizes[name] = { raw: sum('raw'), gzip: sum('gzip'), brotli: sum('brotli') };
  record(label, sizes[name].gzip, 25 * KB, 'B', sizes[name].gzip <= 25 * KB,
    `raw ${sizes[name].raw} B, brotli ${sizes[name].brotli} B`);
}
{
  const stub = measured('sdk/dist/stub.js');
  if (stub) sizes.stub = stub;
  record('stub gzipped (sdk/dist/stub.js)', stub ? stub.gzip : null, 1 * KB, 'B', !!stub && stub.gzip <= 1 * KB,
    stub ? `raw ${stub.raw} B, brotli ${stub.brotli} B` : 'file missing');
}

// --- the browser ---------------------------------------------------------------

/** Runs in every page before its own scripts. */
const INIT = `(() => {
  const m = { cls: 0, shifts: [], longTasks: [], bannerAt: null, bannerSeen: false };
  window.__bench = m;
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        if (e.hadRecentInput) continue;
        m.cls += e.value;
        m.shifts.push({ value: e.value, at: e.startTime, sources: (e.sources || []).map((s) => s.node ? (s.node.nodeName + (s.node.id ? '#' + s.node.id : '')) : '?') });
      }
    }).observe({ type: 'layout-shift', buffered: true });
  } catch (e) { m.error = String(e); }
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) m.longTasks.push({ at: e.startTime, duration: e.duration });
    }).observe({ type: 'longtask', buffered: true });
  } catch (e) { m.error = String(e); }
  const visible = () => {
    const host = document.getElementById('nexaguard-host');
    const b = host && host.shadowRoot && host.shadowRoot.querySelector('[data-nexaguard="banner"]');
    if (!b) return false;
    const r = b.getBoundingClientRect();
    if (r.width === 0 || r.height === 0 || r.bottom <= 0 || r.top >= innerHeight) return false;
    for (let el = b; el; el = el.parentElement || (el.getRootNode() && el.getRootNode().host)) {
      const s = getComputedStyle(el);
      if (s.visibility === 'hidden' || s.display === 'none' || Number(s.opacity) === 0) return false;
    }
    return true;
  };
  const frame = (t) => {
    if (visible()) { m.bannerAt = t; m.bannerSeen = true; return; }
    requestAnimationFrame(frame);
  };
  requestAnimationFrame(frame);
})();`;

const PUBLISHER_BODY = `<header><nav><a href="#a">Home</a> · <a href="#b">News</a> · <a href="#c">About</a></nav></header>
${Array.from({ length: 12 }, (_, i) => `<h2>Section ${i + 1}</h2><p>${'Lorem ipsum dolor sit amet, consectetur adipiscing elit. '.repeat(8)}</p>`).join('\n')}`;

const quantile = (xs, q) => {
  const s = [...xs].sort((a, b) => a - b);
  if (!s.length) return null;
  return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)];
};
const stats = (xs) => ({ median: quantile(xs, 0.5), p95: quantile(xs, 0.95), max: xs.length ? Math.max(...xs) : null });

async function loadOnce(env, key, { trace }) {
  const ctx = await newContext(env.browser, env.server);
  try {
    await ctx.context.addInitScript({ content: INIT });
    const url = await definePage(ctx, { key, name: 'bench', body: PUBLISHER_BODY });
    const page = await ctx.context.newPage();
    if (THROTTLE > 1) {
      const cdp = await ctx.context.newCDPSession(page);
      await cdp.send('Emulation.setCPUThrottlingRate', { rate: THROTTLE });
    }
    if (trace) await env.browser.startTracing(page, { categories: ['devtools.timeline', 'disabled-by-default-devtools.timeline'] });
    await page.goto(url, { waitUntil: 'load' });
    await page.waitForFunction(() => window.__bench.bannerSeen, null, { timeout: 15_000 });
    await page.waitForTimeout(1000); // late layout shifts and long tasks
    const m = await page.evaluate(() => {
      const nav = performance.getEntriesByType('navigation')[0];
      const res = performance.getEntriesByType('resource');
      const end = (re) => res.find((e) => re.test(e.name))?.responseEnd ?? null;
      return {
        ...window.__bench,
        dcl: nav.domContentLoadedEventStart,
        sdkEnd: end(/\/sdk\/v1\/nexaguard[^/]*\.js/),
        configEnd: end(/\/config\.json/),
      };
    });
    let longestTask = null;
    if (trace) {
      const buf = await env.browser.stopTracing();
      longestTask = longestMainThreadTask(JSON.parse(buf.toString('utf8')));
    }
    return {
      bannerMs: m.bannerAt - m.dcl,
      sdkMs: m.sdkEnd === null ? null : m.sdkEnd - m.dcl,
      configMs: m.configEnd === null ? null : m.configEnd - m.dcl,
      cls: m.cls, shifts: m.shifts, longTasks: m.longTasks, longestTask, error: m.error };
  } finally {
    await ctx.context.close();
  }
}

/** The longest RunTask on the page's renderer main thread, in ms. */
function longestMainThreadTask(trace) {
  const events = trace.traceEvents ?? trace;
  const mainThreads = new Set(events
    .filter((e) => e.name === 'thread_name' && e.args?.name === 'CrRendererMain')
    .map((e) => `${e.pid}:${e.tid}`));
  let max = 0;
  for (const e of events) {
    if (e.name === 'RunTask' && e.ph === 'X' && mainThreads.has(`${e.pid}:${e.tid}`)) max = Math.max(max, (e.dur ?? 0) / 1000);
  }
  return max;
}

const env = await setup();
try {
  const key = await env.server.demoKey();
  const snippet = await env.server.snippet(key);
  if (snippet.fallback) console.warn('(no snippet endpoint: measured with a plain SDK script tag)');
  else {
    const snippetGz = gz(Buffer.from(snippet.html));
    sizes.snippet = { raw: Buffer.byteLength(snippet.html), gzip: snippetGz };
  }
  for (const enc of ['gzip', 'br']) {
    const res = await env.server.request('GET', '/sdk/v1/nexaguard.js', { headers: { 'accept-encoding': enc } });
    sizes[`served ${enc}`] = {
      status: res.status,
      contentEncoding: res.headers['content-encoding'] ?? 'identity',
      bytes: res.body.length,
    };
  }

  await loadOnce(env, key, { trace: false }); // warm-up: start-up of the browser and server, not counted
  const runs = [];
  for (let i = 0; i < RUNS; i += 1) {
    runs.push(await loadOnce(env, key, { trace: false }));
    process.stderr.write('.');
  }
  const traced = [];
  if (!opts['no-trace']) {
    for (let i = 0; i < RUNS; i += 1) {
      traced.push(await loadOnce(env, key, { trace: true }));
      process.stderr.write('t');
    }
  }
  process.stderr.write('\n');

  const banner = stats(runs.map((r) => r.bannerMs));
  record('banner visible after DOMContentLoaded', banner, 100, 'ms', banner.max <= 100,
    banner.max > 100 ? `${runs.filter((r) => r.bannerMs > 100).length}/${RUNS} runs over` : '');
  const phases = {
    sdk: stats(runs.map((r) => r.sdkMs).filter((x) => x !== null)),
    config: stats(runs.map((r) => r.configMs).filter((x) => x !== null)),
    afterFetch: stats(runs.filter((r) => r.sdkMs !== null && r.configMs !== null)
      .map((r) => r.bannerMs - Math.max(r.sdkMs, r.configMs))),
  };
  const cls = stats(runs.map((r) => r.cls));
  const shifted = runs.filter((r) => r.cls > 0);
  record('cumulative layout shift', cls, 0, '', cls.max === 0,
    shifted.length ? `${shifted.length}/${RUNS} runs shifted; e.g. ${JSON.stringify(shifted[0].shifts.slice(0, 3))}` : '');
  const lt = runs.map((r) => Math.max(0, ...r.longTasks.map((t) => t.duration)));
  const withLong = runs.filter((r) => r.longTasks.length > 0);
  record('longest long task (> 50 ms, longtask observer)', stats(lt), 50, 'ms', withLong.length === 0,
    withLong.length ? `${withLong.length}/${RUNS} runs had a long task` : 'no long task in any run');
  if (traced.length) {
    const tt = stats(traced.map((r) => r.longestTask));
    record('longest main-thread task (trace, any length)', tt, 50, 'ms', null, 'information only: traced runs, tracing overhead included');
  }
  const errors = runs.filter((r) => r.error).map((r) => r.error);
  if (errors.length) console.warn(`observer errors: ${[...new Set(errors)].join('; ')}`);

  // --- report -------------------------------------------------------------------
  const fmt = (v, unit) => (v === null || v === undefined || Number.isNaN(v) ? '—'
    : unit === 'ms' ? `${v.toFixed(1)} ms` : unit === 'B' ? `${v} B` : v.toFixed(4));
  console.log(`\nNexaGuard SDK budgets — ${new Date().toISOString()}, ${RUNS} fresh page loads per metric, `
    + `Chromium ${env.browser.version()}, CPU throttling ${THROTTLE}×, server ${env.server.bin}\n`);
  console.log('Sizes:');
  for (const [k, v] of Object.entries(sizes)) console.log(`  ${k.padEnd(14)} ${JSON.stringify(v)}`);
  const ms = (x) => (x === null ? '—' : `${x.toFixed(1)} ms`);
  console.log('\nAfter DOMContentLoaded (median / p95 / max): SDK fetched '
    + `${ms(phases.sdk.median)} / ${ms(phases.sdk.p95)} / ${ms(phases.sdk.max)}, config.json fetched `
    + `${ms(phases.config.median)} / ${ms(phases.config.p95)} / ${ms(phases.config.max)}, banner visible `
    + `${ms(banner.median)} / ${ms(banner.p95)} / ${ms(banner.max)}; banner visible after both fetches `
    + `${ms(phases.afterFetch.median)} / ${ms(phases.afterFetch.p95)} / ${ms(phases.afterFetch.max)}`);
  console.log('\n| budget | median | p95 | max | limit | result |');
  console.log('|---|---|---|---|---|---|');
  for (const r of results) {
    const s = typeof r.value === 'object' && r.value !== null ? r.value : { median: r.value, p95: r.value, max: r.value };
    const limit = r.unit === 'B' ? `${r.budget / KB} KB` : r.unit === 'ms' ? `${r.budget} ms` : String(r.budget);
    const verdict = r.pass === null ? 'info' : r.pass ? 'pass' : 'FAIL';
    console.log(`| ${r.name} | ${fmt(s.median, r.unit)} | ${fmt(s.p95, r.unit)} | ${fmt(s.max, r.unit)} | ≤ ${limit} | ${verdict}${r.detail ? ` (${r.detail})` : ''} |`);
  }
  if (opts.json) {
    writeFileSync(opts.json, JSON.stringify({ date: new Date().toISOString(), runs: RUNS, throttle: THROTTLE, chromium: env.browser.version(), sizes, results, raw: { runs, traced } }, null, 2));
  }
  process.exitCode = results.every((r) => r.pass !== false) ? 0 : 1;
} finally {
  await env.close();
}
