// Writes the benchmark's GPP strings, one per line, encoded by the reference
// library (@iabgpp/cmpapi) from random section models (every field random
// within its range, tests/reference-gpp/lib/gen.mjs), in the mixes a CMP
// serving the US and the EU writes:
//   35% usnat alone
//   20% usnat and one state section
//   20% tcfeuv2 (vendor sets from empty to ~1,000 vendors) and usnat
//   10% uspv1, usnat and usca
//   15% any 2-5 sections, tcfcav1 and every state included
// Seeded, so the same arguments always give the same file.
//
//   node bench/gpp-vs-reference/gen.mjs OUT [COUNT] [SEED]

import { writeFileSync } from 'node:fs';
import { Rng } from '../../tests/reference/lib/prng.mjs';
import { randomGpp, randomSectionMix, SECTION_NAMES } from '../../tests/reference-gpp/lib/gen.mjs';
import { referenceEncode } from '../../tests/reference-gpp/lib/ref.mjs';

const [out, countArg = '10000', seedArg = '2026'] = process.argv.slice(2);
if (!out) {
  console.error('usage: node gen.mjs OUT [COUNT] [SEED]');
  process.exit(2);
}
const count = Number(countArg);
const rng = new Rng(Number(seedArg));
const STATES = SECTION_NAMES.filter((n) => n.startsWith('us') && n !== 'usnat' && n !== 'uspv1');

const MIXES = {
  usnat: () => ['usnat'],
  'usnat+state': () => ['usnat', rng.pick(STATES)],
  'tcfeuv2+usnat': () => ['tcfeuv2', 'usnat'],
  'uspv1+usnat+usca': () => ['uspv1', 'usnat', 'usca'],
  any: () => randomSectionMix(rng),
};

const lines = [];
const kinds = Object.fromEntries(Object.keys(MIXES).map((k) => [k, 0]));
for (let i = 0; i < count; i++) {
  const kind = rng.weighted({ usnat: 35, 'usnat+state': 20, 'tcfeuv2+usnat': 20, 'uspv1+usnat+usca': 10, any: 15 });
  kinds[kind] += 1;
  lines.push(referenceEncode(randomGpp(rng, MIXES[kind]())));
}
writeFileSync(out, `${lines.join('\n')}\n`);
const chars = lines.reduce((n, l) => n + l.length, 0);
console.error(
  `wrote ${count} strings to ${out} (seed ${seedArg}): `
    + `${Object.entries(kinds).map(([k, n]) => `${n} ${k}`).join(', ')}; `
    + `mean length ${Math.round(chars / count)} characters`,
);
