// Builds the NexaGuard browser SDK with esbuild.
//
//   node build.mjs                build dist/nexaguard.js, dist/stub.js, dist/nexaguard.d.ts
//   node build.mjs --out DIR      the same, into DIR
//   node build.mjs --check        rebuild into a temporary directory and compare with dist/
//   node build.mjs --size         print gzipped sizes; exit 1 over budget
//   node build.mjs --test-bundle  build test/.build/logic.mjs for the unit tests
//
// The output is deterministic (no timestamps, no absolute paths), so CI can
// rebuild and compare: the committed dist/ must match a fresh build.

import * as esbuild from "esbuild";
import { createHash } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const here = dirname(fileURLToPath(import.meta.url));
const pkg = JSON.parse(readFileSync(join(here, "package.json"), "utf8"));
const DIST = join(here, "dist");
const FILES = ["nexaguard.js", "stub.js", "nexaguard.d.ts"];
// Gzipped (level 9), 1 KB = 1000 bytes: the SDK at most 25 KB, the stub 1 KB.
const BUDGETS = { "nexaguard.js": 25_000, "stub.js": 1_000 };

const common = {
  absWorkingDir: here,
  bundle: true,
  minify: true,
  format: "iife",
  target: "es2019",
  platform: "browser",
  charset: "utf8",
  legalComments: "none",
  // Private members are spelled _name (lowercase after the underscore);
  // minify them too. __tcfapi* and the IAB libraries' names do not match.
  mangleProps: /^_[a-z]/,
  sourcemap: false,
  logLevel: "warning",
  write: true,
};

// The GVL is always built from the vendor list in config.json; it is never
// fetched (GVL.baseUrl stays unset, so the IAB library refuses to load one).
// The library's GVL class is mostly fetching, caching and translation
// loading, and it imports the XMLHttpRequest helper (Json.js): load
// shims/gvl.js in its place, a GVL that takes a vendor list object only and
// gives the encoder and the CMP API what they read from the reference class
// (TC strings stay byte-identical). The TC strings are still encoded by the
// IAB library.
const gvlShim = {
  name: "nexaguard-gvl",
  setup(b) {
    b.onLoad({ filter: /@iabtechlabtcf[\\/]core[\\/]lib[\\/]mjs[\\/]GVL\.js$/ }, () => ({
      contents: readFileSync(join(here, "shims", "gvl.js"), "utf8"),
      loader: "js",
    }));
  },
};

async function build(out) {
  mkdirSync(out, { recursive: true });
  await esbuild.build({
    ...common,
    entryPoints: ["src/index.ts"],
    outfile: join(out, "nexaguard.js"),
    plugins: [gvlShim],
    define: { __SDK_VERSION__: JSON.stringify(pkg.version) },
    banner: {
      js: `/*! NexaGuard SDK ${pkg.version} | Apache-2.0 | includes @iabtechlabtcf/core and @iabtechlabtcf/cmpapi (Apache-2.0) */`,
    },
  });
  await esbuild.build({
    ...common,
    entryPoints: ["src/stub.ts"],
    outfile: join(out, "stub.js"),
  });
  copyFileSync(join(here, "types", "nexaguard.d.ts"), join(out, "nexaguard.d.ts"));
}

function gz(path) {
  return gzipSync(readFileSync(path), { level: 9 }).length;
}

function sri(path) {
  return "sha384-" + createHash("sha384").update(readFileSync(path)).digest("base64");
}

async function check() {
  const tmp = mkdtempSync(join(tmpdir(), "nexaguard-sdk-"));
  try {
    await build(tmp);
    const problems = [];
    for (const f of FILES) {
      const committed = join(DIST, f);
      if (!existsSync(committed)) {
        problems.push(`dist/${f} is missing`);
        continue;
      }
      if (!readFileSync(committed).equals(readFileSync(join(tmp, f)))) problems.push(`dist/${f} differs from a fresh build`);
    }
    const extra = existsSync(DIST) ? readdirSync(DIST).filter((f) => !FILES.includes(f)) : [];
    for (const f of extra) problems.push(`dist/${f} is not a build output`);
    if (problems.length) {
      console.error("sdk/dist is out of date:\n  " + problems.join("\n  "));
      console.error("Run `npm run build` in sdk/ and commit sdk/dist.");
      process.exit(1);
    }
    console.log("sdk/dist matches a fresh build.");
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

function size() {
  let over = false;
  for (const [f, budget] of Object.entries(BUDGETS)) {
    const p = join(DIST, f);
    if (!existsSync(p)) {
      console.error(`dist/${f} is missing; run npm run build`);
      process.exit(1);
    }
    const raw = readFileSync(p).length;
    const g = gz(p);
    const ok = g <= budget;
    over ||= !ok;
    console.log(
      `${f.padEnd(14)} ${String(raw).padStart(6)} B raw  ${String(g).padStart(6)} B gzipped  budget ${budget} B  ${ok ? "ok" : "OVER BUDGET"}`,
    );
  }
  if (over) process.exit(1);
}

async function testBundle() {
  await esbuild.build({
    ...common,
    entryPoints: ["src/logic.ts"],
    outfile: join(here, "test", ".build", "logic.mjs"),
    format: "esm",
    platform: "neutral",
    minify: false,
  });
  // The TC string encoder twice, with shims/gvl.js and with the IAB
  // library's own GVL class: test/unit/gvl-shim.test.mjs compares them.
  for (const [name, plugins] of [["tcf.mjs", [gvlShim]], ["tcf-reference.mjs", []]]) {
    await esbuild.build({
      ...common,
      entryPoints: undefined,
      stdin: {
        contents: 'export { TcEncoder, decodeTc } from "./src/tcf"; export { GVL } from "@iabtechlabtcf/core";',
        resolveDir: here,
        loader: "ts",
      },
      outfile: join(here, "test", ".build", name),
      format: "esm",
      platform: "neutral",
      mainFields: ["module", "main"],
      minify: false,
      plugins,
    });
  }
}

const args = process.argv.slice(2);
if (args.includes("--check")) {
  await check();
} else if (args.includes("--size")) {
  size();
} else if (args.includes("--test-bundle")) {
  await testBundle();
} else {
  const i = args.indexOf("--out");
  const out = i >= 0 ? args[i + 1] : DIST;
  await build(out);
  for (const f of ["nexaguard.js", "stub.js"]) {
    const p = join(out, f);
    console.log(`${f.padEnd(14)} ${String(gz(p)).padStart(6)} B gzipped  ${sri(p)}`);
  }
}
