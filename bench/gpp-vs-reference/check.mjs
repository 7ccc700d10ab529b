// Checks that two JSON Lines files hold the same values line by line (key
// order aside: both sides print every field, each in its own order). Prints
// the first differences and exits 1 if any line differs.
//
//   node bench/gpp-vs-reference/check.mjs OURS.jsonl REFERENCE.jsonl

import { readFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';

const [oursFile, refFile] = process.argv.slice(2);
const read = (f) => readFileSync(f, 'utf8').split('\n').filter((l) => l !== '');
const ours = read(oursFile);
const ref = read(refFile);
if (ours.length !== ref.length) {
  console.error(`${oursFile} has ${ours.length} lines, ${refFile} ${ref.length}`);
  process.exit(1);
}
let bytes = 0;
const differ = [];
ours.forEach((line, i) => {
  if (line === ref[i]) {
    bytes += 1;
    return;
  }
  if (!isDeepStrictEqual(JSON.parse(line), JSON.parse(ref[i]))) differ.push(i);
});
if (differ.length > 0) {
  console.error(`${differ.length} of ${ours.length} lines differ; the first:`);
  for (const i of differ.slice(0, 3)) console.error(`line ${i + 1}:\n  ours      ${ours[i].slice(0, 400)}\n  reference ${ref[i].slice(0, 400)}`);
  process.exit(1);
}
console.error(`all ${ours.length} lines hold the same JSON values (${bytes} byte-identical)`);
