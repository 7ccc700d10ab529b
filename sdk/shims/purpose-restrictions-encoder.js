// The encoder of the always-empty PurposeRestrictionVector
// (shims/purpose-restrictions.js), in place of @iabtechlabtcf/core's
// lib/mjs/encoder/field/PurposeRestrictionVectorEncoder.js: NumPubRestrictions
// 0 in its 12 bits, as the reference writes an empty vector; a string with
// restrictions is a decoding error.
import { BitLength } from '../BitLength.js';
import { DecodingError } from '../../errors/index.js';
import { IntEncoder } from './IntEncoder.js';
import { PurposeRestrictionVector } from '../../model/PurposeRestrictionVector.js';

export class PurposeRestrictionVectorEncoder {
  static encode() {
    return IntEncoder.encode(0, BitLength.numRestrictions);
  }
  static decode(encodedString) {
    if (IntEncoder.decode(encodedString.substr(0, BitLength.numRestrictions), BitLength.numRestrictions) !== 0) {
      throw new DecodingError('publisher restrictions are not supported');
    }
    const vector = new PurposeRestrictionVector();
    vector.bitLength = BitLength.numRestrictions;
    return vector;
  }
}
