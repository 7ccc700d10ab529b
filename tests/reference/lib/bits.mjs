// Builds TC strings bit by bit, for hand-made edge cases that no encoder
// writes (overlapping ranges, ids past the declared maximum...).

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

export class Bits {
  constructor() {
    this.bits = '';
  }

  int(value, width) {
    if (!Number.isInteger(value) || value < 0 || value >= 2 ** width) {
      throw new Error(`${value} does not fit ${width} bits`);
    }
    this.bits += value.toString(2).padStart(width, '0');
    return this;
  }

  bool(b) {
    return this.int(b ? 1 : 0, 1);
  }

  letters(two) {
    return this.int(two.charCodeAt(0) - 65, 6).int(two.charCodeAt(1) - 65, 6);
  }

  /** A fixed-width bit set, id 1 first. */
  set(ids, width) {
    for (let id = 1; id <= width; id++) this.bool(ids.includes(id));
    return this;
  }

  /** Range entries: [[start, end], [single], ...] preceded by their 12-bit count. */
  entries(list) {
    this.int(list.length, 12);
    for (const e of list) {
      this.bool(e.length === 2).int(e[0], 16);
      if (e.length === 2) this.int(e[1], 16);
    }
    return this;
  }

  /** Base64url without padding, the last sextet filled with zero bits. */
  toBase64Url() {
    const bits = this.bits.padEnd(Math.ceil(this.bits.length / 6) * 6, '0');
    let out = '';
    for (let i = 0; i < bits.length; i += 6) out += ALPHABET[parseInt(bits.slice(i, i + 6), 2)];
    return out;
  }
}

/**
 * A core segment with fixed header fields (cmpId 7, created 2024-05-01) and
 * the given vendor sections, written by the callbacks, and restrictions.
 */
export function coreSegment({ consents, legitimateInterests, restrictions = (b) => b.int(0, 12) }) {
  const ds = Date.UTC(2024, 4, 1) / 100;
  const b = new Bits()
    .int(2, 6)
    .int(Math.floor(ds / 2 ** 32), 4).int(ds % 2 ** 32, 32)
    .int(Math.floor(ds / 2 ** 32), 4).int(ds % 2 ** 32, 32)
    .int(7, 12).int(1, 12).int(0, 6).letters('EN')
    .int(100, 12).int(5, 6).bool(false).bool(false)
    .set([], 12).set([1], 24).set([], 24).bool(false).letters('DE');
  consents(b);
  legitimateInterests(b);
  restrictions(b);
  return b.toBase64Url();
}

/** An empty vendor section: MaxVendorId 0, bit field. */
export const noVendors = (b) => b.int(0, 16).bool(false);
