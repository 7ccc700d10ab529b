// The reference side of the benchmark: decodes every line of FILE with
// @iabtechlabtcf/core's TCString.decode and writes the same JSON that
// `nexaguard tcf decode` writes, one object per line, to standard output.
// On standard error: the in-process time per string, without node's start-up.
//
//   node bench/tcf-vs-reference/ref-decode.mjs FILE > /dev/null

import { readFileSync, writeSync } from 'node:fs';
import { referenceJson, segmentTypes, TCString } from '../../tests/reference/lib/ref.mjs';

const file = process.argv[2];
const lines = readFileSync(file, 'utf8').split('\n').filter((l) => l !== '');
let decodeNs = 0n;
let jsonNs = 0n;
let pending = [];
let failed = 0;
const flush = () => {
  writeSync(1, pending.join(''));
  pending = [];
};
for (const line of lines) {
  const t0 = process.hrtime.bigint();
  let model;
  try {
    model = TCString.decode(line);
  } catch (e) {
    failed += 1;
    pending.push(`${JSON.stringify({ error: { code: 'reference', message: e.message } })}\n`);
    continue;
  }
  const t1 = process.hrtime.bigint();
  pending.push(`${JSON.stringify(referenceJson(model, segmentTypes(line).includes(2)))}\n`);
  jsonNs += process.hrtime.bigint() - t1;
  decodeNs += t1 - t0;
  if (pending.length >= 256) flush();
}
flush();
const per = (ns) => (Number(ns) / lines.length / 1000).toFixed(2);
console.error(
  `reference in-process: ${per(decodeNs)} µs/string TCString.decode, `
    + `${per(decodeNs + jsonNs)} µs/string with JSON (${lines.length} strings)`,
);
process.exitCode = failed > 0 ? 1 : 0;
