// The reference side of the benchmark: decodes every line of FILE with
// @iabgpp/cmpapi (GppModel, every section's toObj) and writes the JSON that
// `nexaguard gpp decode` writes, one object per line, to standard output
// (tests/reference-gpp/lib/ref.mjs: referenceDecode). On standard error: the
// in-process time per string, without node's start-up.
//
//   node bench/gpp-vs-reference/ref-decode.mjs FILE > /dev/null

import { readFileSync, writeSync } from 'node:fs';
import { referenceDecode } from '../../tests/reference-gpp/lib/ref.mjs';

const file = process.argv[2];
const lines = readFileSync(file, 'utf8').split('\n').filter((l) => l !== '');
let ns = 0n;
let pending = [];
let failed = 0;
const flush = () => {
  writeSync(1, pending.join(''));
  pending = [];
};
for (const line of lines) {
  const t0 = process.hrtime.bigint();
  try {
    pending.push(`${JSON.stringify(referenceDecode(line))}\n`);
  } catch (e) {
    failed += 1;
    pending.push(`${JSON.stringify({ error: { code: 'reference', message: e.message } })}\n`);
  }
  ns += process.hrtime.bigint() - t0;
  if (pending.length >= 256) flush();
}
flush();
console.error(
  `reference in-process: ${(Number(ns) / lines.length).toFixed(0)} ns/string decode and JSON `
    + `(${lines.length} strings)`,
);
process.exitCode = failed > 0 ? 1 : 0;
