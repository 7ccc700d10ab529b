// RFC 6238 TOTP codes (SHA-1, 6 digits, 30-second steps), as authenticator
// apps compute them, for tests that sign in with a second factor.

import { createHmac } from 'node:crypto';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** The bytes of an RFC 4648 base32 string (padding and spaces ignored). */
export function base32Decode(text) {
  const clean = text.replace(/[\s=]/g, '').toUpperCase();
  let bits = 0;
  let value = 0;
  const out = [];
  for (const ch of clean) {
    const index = ALPHABET.indexOf(ch);
    if (index < 0) throw new Error(`not base32: ${JSON.stringify(ch)}`);
    value = (value << 5) | index;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

/** The TOTP code of `secretBase32` at `time` (milliseconds, default now). */
export function totp(secretBase32, time = Date.now()) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(time / 1000 / 30)));
  const mac = createHmac('sha1', base32Decode(secretBase32)).update(counter).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  const number = (mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000;
  return String(number).padStart(6, '0');
}

const STEP_MS = 30_000;
const stepOf = (time) => Math.floor(time / STEP_MS);

/**
 * One account's authenticator app, for tests that give several codes: the
 * server takes a TOTP step only once per account (a step at or before the
 * last one used is a replay) and accepts one step either side of now. So
 * each code is for the step after the last one used, and when that step is
 * more than one ahead of now, `code()` waits for the clock.
 */
export class Authenticator {
  /** `lastStep`: the step the server last accepted for the account, if known. */
  constructor(secret, { lastStep = -1 } = {}) {
    this.secret = secret;
    this.lastStep = lastStep;
  }

  /** A code the server has not seen for this account (the step is then used). */
  async code() {
    const step = Math.max(stepOf(Date.now()), this.lastStep + 1);
    while (step > stepOf(Date.now()) + 1) await new Promise((resolve) => setTimeout(resolve, 500));
    this.lastStep = step;
    return totp(this.secret, step * STEP_MS);
  }

  /** A code of a step the server has already taken for this account (a replay). */
  usedCode() {
    if (this.lastStep < 0) throw new Error('no code has been used yet');
    return totp(this.secret, this.lastStep * STEP_MS);
  }
}
