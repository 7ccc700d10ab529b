// Writes the benchmark's TC strings, one per line, encoded by the reference
// library (@iabtechlabtcf/core) as a CMP would write them:
//   60% typical: ~100 of ~850 GVL vendors with consent, ~60 with legitimate interest
//   25% dense:   ~700 vendors with consent ("accept all" on a large list)
//   15% typical plus 2-8 publisher restrictions and a publisher TC segment
// Seeded, so the same arguments always give the same file.
//
//   node bench/tcf-vs-reference/gen.mjs OUT [COUNT] [SEED]

import { writeFileSync } from 'node:fs';
import { Rng } from '../../tests/reference/lib/prng.mjs';
import { subset, vendorListObject } from '../../tests/reference/lib/gen.mjs';
import { core } from '../../tests/reference/lib/ref.mjs';

const { GVL, TCModel, TCString, PurposeRestriction, Segment } = core;

const [out, countArg = '10000', seedArg = '2026'] = process.argv.slice(2);
if (!out) {
  console.error('usage: node gen.mjs OUT [COUNT] [SEED]');
  process.exit(2);
}
const count = Number(countArg);
const rng = new Rng(Number(seedArg));

const range = (lo, hi) => Array.from({ length: hi - lo + 1 }, (_, i) => lo + i);
// A GVL shaped like the real one: ids up to ~1000 with gaps (deleted or
// never-assigned ids), ~850 vendors.
const gvlIds = range(1, 1000).filter(() => rng.bool(0.85));
const gvl = new GVL(vendorListObject(gvlIds, 150));
// TCString.encode clones the model, GVL included, before every encode; a
// deep copy of an 850-vendor list costs ~17 ms. Nothing writes to the GVL
// while encoding, so every clone can share it: same strings, 50x sooner.
gvl.clone = () => gvl;
const pick = (n) => {
  const chosen = new Set();
  while (chosen.size < Math.min(n, gvlIds.length)) chosen.add(rng.pick(gvlIds));
  return [...chosen];
};
const PURPOSES = range(1, 11);
const CREATED = Date.UTC(2026, 0, 1);

function model(kind) {
  const tc = new TCModel(gvl);
  tc.cmpId = rng.int(2, 400);
  tc.cmpVersion = rng.int(1, 50);
  tc.consentScreen = rng.int(0, 5);
  tc.publisherCountryCode = rng.pick(['DE', 'FR', 'IT', 'ES', 'NL', 'GB']);
  tc.created = new Date(CREATED + rng.int(0, 3e6) * 1000);
  tc.lastUpdated = tc.created;
  tc.isServiceSpecific = kind === 'restrictions' || rng.bool(0.3);
  tc.specialFeatureOptins.set(subset(rng, [1, 2]));
  tc.purposeConsents.set(kind === 'dense' ? PURPOSES : subset(rng, PURPOSES));
  tc.purposeLegitimateInterests.set(subset(rng, [2, 7, 8, 9, 10, 11]));
  const dense = kind === 'dense';
  tc.vendorConsents.set(pick(dense ? rng.int(650, 750) : rng.int(80, 120)));
  tc.vendorLegitimateInterests.set(pick(dense ? rng.int(600, 700) : rng.int(40, 80)));
  tc.vendorsDisclosed.set(pick(dense ? rng.int(750, 800) : rng.int(120, 180)));
  if (kind === 'restrictions') {
    tc.publisherConsents.set(subset(rng, PURPOSES));
    tc.publisherLegitimateInterests.set(subset(rng, [2, 7, 8, 9, 10]));
    tc.numCustomPurposes = rng.int(0, 4);
    tc.publisherCustomConsents.set(subset(rng, range(1, tc.numCustomPurposes)));
    const n = rng.int(2, 8);
    for (let i = 0; i < n; i++) {
      const pr = new PurposeRestriction(rng.int(1, 11), rng.int(0, 2));
      for (const id of pick(rng.int(1, 40))) tc.publisherRestrictions.add(id, pr);
    }
  }
  return tc;
}

const segments = (kind) => [
  Segment.CORE,
  Segment.VENDORS_DISCLOSED,
  ...(kind === 'restrictions' ? [Segment.PUBLISHER_TC] : []),
];

const lines = [];
const kinds = { typical: 0, dense: 0, restrictions: 0 };
for (let i = 0; i < count; i++) {
  const kind = rng.weighted({ typical: 60, dense: 25, restrictions: 15 });
  kinds[kind] += 1;
  lines.push(TCString.encode(model(kind), { segments: segments(kind) }));
}
writeFileSync(out, `${lines.join('\n')}\n`);
const chars = lines.reduce((n, l) => n + l.length, 0);
console.error(
  `wrote ${count} strings to ${out} (seed ${seedArg}): ${kinds.typical} typical, `
    + `${kinds.dense} dense, ${kinds.restrictions} with restrictions; `
    + `mean length ${Math.round(chars / count)} characters`,
);
