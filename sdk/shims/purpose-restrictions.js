// A PurposeRestrictionVector for @iabtechlabtcf/core that is always empty:
// build.mjs loads this file in place of lib/mjs/model/PurposeRestrictionVector.js
// (with shims/purpose-restrictions-encoder.js for its encoder). NexaGuard
// sets no publisher restrictions (a site configuration has no field for
// them), so every TC string it writes has NumPubRestrictions 0, which this
// encodes exactly as the reference class does; test/unit/iab-shims.test.mjs
// compares the strings and the CMP API's answers with the reference
// library's. A string that carries restrictions (not one NexaGuard wrote)
// does not decode: the SDK then treats the stored choice as absent and asks
// again.
import { Cloneable } from '../Cloneable.js';

export class PurposeRestrictionVector extends Cloneable {
  bitLength = 0;
  gvl_;
  getRestrictions() {
    return [];
  }
  getVendors() {
    return [];
  }
  getMaxVendorId() {
    return 0;
  }
  getPurposes() {
    return [];
  }
  isEmpty() {
    return true;
  }
  get numRestrictions() {
    return 0;
  }
  set gvl(value) {
    if (!this.gvl_) this.gvl_ = value;
  }
  get gvl() {
    return this.gvl_;
  }
}
