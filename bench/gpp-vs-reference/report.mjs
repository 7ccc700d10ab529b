// Prints the benchmark summary from the timing JSON (hyperfine's
// --export-json shape, or run.sh's own timing in the same shape).
//
//   node report.mjs TIMING_JSON COUNT RSS_OURS_KB RSS_REF_KB REF_INPROCESS_TXT

import { readFileSync } from 'node:fs';

const [timingFile, countArg, rssOurs, rssRef, inProcessFile] = process.argv.slice(2);
const count = Number(countArg);
const { results } = JSON.parse(readFileSync(timingFile, 'utf8'));
const byName = Object.fromEntries(results.map((r) => [r.command, r.times]));

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const stats = (name) => {
  const times = byName[name];
  if (!times) throw new Error(`no timing for ${name} in ${timingFile}`);
  return { runs: times.length, median: median(times), best: Math.min(...times) };
};
const ours = stats('nexaguard');
const ref = stats('reference');
const ns = (s) => `${Math.round((s / count) * 1e9).toLocaleString('en')} ns`;
const mb = (kb) => (kb && kb !== '-' ? `${(Number(kb) / 1024).toFixed(1)} MB` : 'n/a');
const row = (name, s, rss) => `${name.padEnd(11)} ${s.median.toFixed(3).padStart(8)} s ${s.best.toFixed(3).padStart(8)} s ${ns(s.median).padStart(12)} ${ns(s.best).padStart(12)} ${mb(rss).padStart(10)}`;

const ratioMedian = ref.median / ours.median;
const ratioBest = ref.best / ours.best;
console.log(`${count} GPP strings, ${ours.runs} runs each; wall time of one process decoding all of them`);
console.log('to JSON on /dev/null, process start-up included.\n');
console.log(`${''.padEnd(11)} ${'median'.padStart(10)} ${'best'.padStart(10)} ${'per string'.padStart(12)} ${'(best)'.padStart(12)} ${'peak RSS'.padStart(10)}`);
console.log(row('nexaguard', ours, rssOurs));
console.log(row('reference', ref, rssRef));
console.log(`\nratio reference / nexaguard: ${ratioMedian.toFixed(1)}x (medians), ${ratioBest.toFixed(1)}x (best runs); target >= 30x: ${ratioMedian >= 30 ? 'met' : 'NOT met'}`);
if (inProcessFile) console.log(readFileSync(inProcessFile, 'utf8').trim());
