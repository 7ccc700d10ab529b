// src/gpp/encode.ts against the Rust codec (`nexaguard gpp decode` and
// `validate`, crates/gpp): the server must read the strings the browser
// writes as exactly the fields the browser encoded, and find nothing wrong
// with a visitor's choice. The CLI comes from NEXAGUARD_BIN (default
// ../target/debug/nexaguard from sdk/); without it these tests fail under
// CI=true and are skipped, with a notice, elsewhere.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";
import { acceptAllChoice, rejectAllChoice } from "../.build/logic.mjs";
import { TcEncoder } from "../.build/tcf.mjs";
import { demoConfig, vendorList } from "./helpers.mjs";

const sdk = fileURLToPath(new URL("../..", import.meta.url));
const bin = resolve(sdk, process.env.NEXAGUARD_BIN || "../target/debug/nexaguard");
let skip = false;
if (!existsSync(bin)) {
  if (process.env.CI === "true") throw new Error(`no nexaguard CLI at ${bin}: build it (cargo build -p nexaguard-cli) or set NEXAGUARD_BIN`);
  console.log(`skipped: no nexaguard CLI at ${bin} (cargo build -p nexaguard-cli, or set NEXAGUARD_BIN)`);
  skip = "no nexaguard CLI";
}

const built = await esbuild.build({
  stdin: { contents: 'export * from "./src/gpp/encode";', resolveDir: sdk, loader: "ts" },
  bundle: true,
  write: false,
  format: "esm",
  platform: "neutral",
});
const gpp = await import("data:text/javascript;base64," + Buffer.from(built.outputFiles[0].contents).toString("base64"));

const US_IDS = gpp.SECTION_IDS.filter((id) => id >= 7);
const CHOICES = Array.from({ length: 16 }, (_, k) => ({
  saleOptOut: !!(k & 1),
  sharingOptOut: !!(k & 2),
  targetedAdvertisingOptOut: !!(k & 4),
  gpc: !!(k & 8),
}));

/** Runs the CLI with one string per line on standard input; one JSON object per line back. */
function cli(args, lines) {
  const r = spawnSync(bin, ["gpp", ...args], { input: lines.join("\n") + "\n", encoding: "utf8", maxBuffer: 1 << 28 });
  const out = r.stdout.trim().split("\n").map((l) => JSON.parse(l));
  assert.equal(out.length, lines.length, r.stderr);
  return out;
}

// The fields of a sub-section a string leaves out read as the Rust codec's
// (and the reference's) defaults; a visitor's choice leaves out only the
// sensitive data consents of usin, usky and usri, whose values are 0 anyway.
test("the Rust codec reads every choice in every US section as the fields encoded", { skip }, () => {
  const cases = [];
  for (const id of US_IDS) for (const c of CHOICES) cases.push({ [gpp.sectionName(id)]: gpp.usChoice(id, c) });
  const decoded = cli(["decode"], cases.map((s) => gpp.encodeGpp(s)));
  cases.forEach((sections, i) => {
    const [name] = Object.keys(sections);
    assert.deepEqual(decoded[i].sectionIds, [gpp.sectionId(name)]);
    assert.deepEqual(decoded[i].sections, sections, decoded[i].gppString);
  });
});

test("the Rust codec finds nothing to report in a choice, with the GPC signal it was made with", { skip }, () => {
  for (const gpc of [false, true]) {
    const strings = [];
    for (const id of US_IDS) for (const c of CHOICES.filter((c) => c.gpc === gpc)) strings.push(gpp.encodeGpp({ [gpp.sectionName(id)]: gpp.usChoice(id, c) }));
    const all = Object.fromEntries(US_IDS.map((id) => [gpp.sectionName(id), gpp.usChoice(id, { ...CHOICES[3], gpc })]));
    strings.push(gpp.encodeGpp(all));
    cli(["validate", "--gpc", String(gpc)], strings).forEach((r, i) => assert.deepEqual(r, { findings: [], valid: true }, strings[i]));
  }
});

test("the Rust codec reads strings of several sections, tcfeuv2 included, as the sections encoded", { skip }, () => {
  const encoder = new TcEncoder(demoConfig, vendorList, "en");
  const tcs = [encoder.encode(acceptAllChoice(demoConfig, vendorList)), encoder.encode(rejectAllChoice(demoConfig))];
  const cases = [];
  let k = 0;
  for (const tc of [null, ...tcs]) {
    for (const ids of [[7], [7, 8], [8, 9, 10, 11, 12], [13, 17, 21, 24, 25, 27], US_IDS]) {
      const sections = tc ? { tcfeuv2: tc } : {};
      for (const id of ids) sections[gpp.sectionName(id)] = gpp.usChoice(id, CHOICES[k++ % 16]);
      cases.push(sections);
    }
  }
  const decoded = cli(["decode"], cases.map((s) => gpp.encodeGpp(s)));
  // tcfeuv2 as the codec reads the TC string on its own.
  const alone = cli(["decode"], tcs);
  cases.forEach((sections, i) => {
    const { tcfeuv2, ...us } = sections;
    const expected = tcfeuv2 ? { tcfeuv2: alone[tcs.indexOf(tcfeuv2)].sections.tcfeuv2, ...us } : us;
    assert.deepEqual(decoded[i].sectionIds, Object.keys(sections).map(gpp.sectionId).sort((a, b) => a - b));
    assert.deepEqual(decoded[i].sections, expected);
  });
});
