// Property-by-property comparison of decode JSON, reporting every
// disagreement (not just the first) with enough context to reproduce it.

import assert from 'node:assert/strict';

const show = (v) => {
  const s = JSON.stringify(v);
  return s === undefined ? '(absent)' : s.length > 160 ? `${s.slice(0, 160)}...` : s;
};

/** Properties of `got` and `want` whose values differ, as readable lines. */
export function differingProperties(got, want) {
  const keys = new Set([...Object.keys(got), ...Object.keys(want)]);
  const out = [];
  for (const key of keys) {
    if (JSON.stringify(got[key]) !== JSON.stringify(want[key])) {
      out.push(`${key}: got ${show(got[key])}, want ${show(want[key])}`);
    }
  }
  return out;
}

/**
 * Collects disagreements over many items and fails once, listing the first
 * few. `context` names the run (seed) so that a failure can be replayed.
 */
export class Disagreements {
  constructor(label, context) {
    this.label = label;
    this.context = context;
    this.items = [];
    this.checked = 0;
  }

  /** Compares two decode JSON objects for item `i` (described by `what`). */
  compare(i, what, got, want) {
    this.checked += 1;
    const diffs = differingProperties(got, want);
    if (diffs.length > 0) this.items.push(`#${i} ${what}\n    ${diffs.join('\n    ')}`);
  }

  /** Records a failure that is not a property difference. */
  fail(i, what, message) {
    this.checked += 1;
    this.items.push(`#${i} ${what}\n    ${message}`);
  }

  assertNone() {
    if (this.items.length === 0) return;
    assert.fail(
      `${this.items.length} of ${this.checked} ${this.label} disagree (${this.context}):\n  `
        + this.items.slice(0, 8).join('\n  '),
    );
  }
}
