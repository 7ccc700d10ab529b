// Builds the NexaGuard browser SDK with esbuild.
//
//   node build.mjs                build dist/nexaguard.js (the SDK), its lazily loaded
//                                 chunks dist/nexaguard-<chunk>.js, dist/stub.js and
//                                 dist/nexaguard.d.ts
//   node build.mjs --out DIR      the same, into DIR
//   node build.mjs --check        rebuild into a temporary directory and compare with dist/
//   node build.mjs --size         print gzipped sizes per experience; exit 1 over budget
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
// The chunks the SDK loads only where the visitor's experience needs them
// (src/chunk.ts): name and entry.
const CHUNKS = { tcf: "src/chunks/tcf.ts", us: "src/chunks/us.ts" };
// What a visitor's browser loads besides the stub, per experience.
const EXPERIENCES = {
  tcf: ["nexaguard.js", "nexaguard-tcf.js"],
  us: ["nexaguard.js", "nexaguard-us.js"],
  opt_in: ["nexaguard.js"],
  notice_only: ["nexaguard.js", "nexaguard-us.js"],
  none: ["nexaguard.js"],
};
const chunkFile = (name) => `nexaguard-${name}.js`;
const FILES = ["nexaguard.js", ...Object.keys(CHUNKS).map(chunkFile), "stub.js", "nexaguard.d.ts"];
// Gzipped (level 9), 1 KB = 1000 bytes: what one visitor's browser loads of
// the SDK (with its experience's chunks, each gzipped on its own) at most
// 25 KB, the stub 1 KB.
const SDK_BUDGET = 25_000;
const STUB_BUDGET = 1_000;

const common = {
  absWorkingDir: here,
  bundle: true,
  minify: true,
  format: "iife",
  target: "es2019",
  supported: { "class-field": true, "class-static-field": true, "optional-chain": true, "nullish-coalescing": true, "logical-assignment": true },
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

// Files of @iabtechlabtcf/core replaced by smaller ones under shims/, each
// giving the encoder and the CMP API what they read from the reference
// (TC strings stay byte-identical; test/unit/iab-shims.test.mjs compares
// them with the reference library's). The TC strings are still encoded by
// the IAB library.
// - GVL.js: the GVL is always built from the vendor list in config.json;
//   it is never fetched (GVL.baseUrl stays unset, so the IAB library
//   refuses to load one). The library's class is mostly fetching, caching
//   and translation loading, and it imports the XMLHttpRequest helper.
// - PurposeRestrictionVector.js and its encoder: NexaGuard sets no
//   publisher restrictions, so the vector is always empty.
const SHIMS = [
  [/@iabtechlabtcf[\\/]core[\\/]lib[\\/]mjs[\\/]GVL\.js$/, "gvl.js"],
  [/@iabtechlabtcf[\\/]core[\\/]lib[\\/]mjs[\\/]model[\\/]PurposeRestrictionVector\.js$/, "purpose-restrictions.js"],
  [/@iabtechlabtcf[\\/]core[\\/]lib[\\/]mjs[\\/]encoder[\\/]field[\\/]PurposeRestrictionVectorEncoder\.js$/, "purpose-restrictions-encoder.js"],
];
const iabShims = {
  name: "nexaguard-shims",
  setup(b) {
    for (const [filter, file] of SHIMS) {
      b.onLoad({ filter }, () => ({ contents: readFileSync(join(here, "shims", file), "utf8"), loader: "js" }));
    }
  },
};

async function build(out) {
  mkdirSync(out, { recursive: true });
  // One mangle cache for every file, so that a minified private property
  // has the same name in the SDK and in the chunks it hands objects to.
  let mangleCache = {};
  const chunks = {};
  for (const [name, entry] of Object.entries(CHUNKS)) {
    const file = chunkFile(name);
    const r = await esbuild.build({
      ...common,
      entryPoints: [entry],
      outfile: join(out, file),
      plugins: [iabShims],
      mangleCache,
      banner: { js: `/*! NexaGuard SDK ${pkg.version} ${name} | Apache-2.0${name === "tcf" ? " | includes @iabtechlabtcf/core, @iabtechlabtcf/cmpapi (Apache-2.0)" : ""} */` },
    });
    mangleCache = r.mangleCache;
    // Named after the SHA-256 of its bytes (the first 16 characters of its
    // base64url; routes/assets.rs computes the same) and checked against
    // the same digest (sha256 rather than sha384: 20 characters less of
    // incompressible text in the SDK for each chunk).
    const digest = createHash("sha256").update(readFileSync(join(out, file))).digest("base64");
    const id = digest.replace(/\+/g, "-").replace(/\//g, "_").slice(0, 16);
    chunks[name] = [`nexaguard-${name}-${id}.js`, "sha256-" + digest];
  }
  await esbuild.build({
    ...common,
    entryPoints: ["src/index.ts"],
    outfile: join(out, "nexaguard.js"),
    plugins: [iabShims],
    mangleCache,
    define: { __SDK_VERSION__: JSON.stringify(pkg.version), __CHUNKS__: JSON.stringify(chunks) },
    banner: {
      js: `/*! NexaGuard SDK ${pkg.version} | Apache-2.0 */`,
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
  const sizes = {};
  for (const f of FILES.filter((f) => f.endsWith(".js"))) {
    const p = join(DIST, f);
    if (!existsSync(p)) {
      console.error(`dist/${f} is missing; run npm run build`);
      process.exit(1);
    }
    sizes[f] = gz(p);
    console.log(`${f.padEnd(18)} ${String(readFileSync(p).length).padStart(6)} B raw  ${String(sizes[f]).padStart(6)} B gzipped`);
  }
  let over = sizes["stub.js"] > STUB_BUDGET;
  console.log(`\nstub: ${sizes["stub.js"]} B of ${STUB_BUDGET} B  ${over ? "OVER BUDGET" : "ok"}`);
  for (const [experience, files] of Object.entries(EXPERIENCES)) {
    const total = files.reduce((sum, f) => sum + sizes[f], 0);
    const ok = total <= SDK_BUDGET;
    over ||= !ok;
    console.log(`${experience.padEnd(12)} ${String(total).padStart(6)} B of ${SDK_BUDGET} B  ${ok ? "ok" : "OVER BUDGET"}  (${files.join(" + ")})`);
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
  // The TC string encoder twice, with shims/ and with the IAB library's
  // own classes: test/unit/iab-shims.test.mjs compares them.
  for (const [name, plugins] of [["tcf.mjs", [iabShims]], ["tcf-reference.mjs", []]]) {
    await esbuild.build({
      ...common,
      entryPoints: undefined,
      stdin: {
        contents: 'export { TcEncoder, decodeTc } from "./src/tcf"; export { GVL, TCModel, TCString, PurposeRestriction } from "@iabtechlabtcf/core";',
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
  for (const f of FILES.filter((f) => f.endsWith(".js"))) {
    const p = join(out, f);
    console.log(`${f.padEnd(14)} ${String(gz(p)).padStart(6)} B gzipped  ${sri(p)}`);
  }
}
