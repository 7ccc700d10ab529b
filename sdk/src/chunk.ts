// Lazily loaded parts of the SDK. The TCF code (the IAB libraries) and the
// US sections' GPP encoder are built as separate files (dist/nexaguard-*.js)
// that the SDK loads only where the visitor's experience needs them, so
// that what a browser loads stays within the SDK budget in every region.
//
// Invariant: a chunk is loaded from the SDK's own origin under its
// content-hashed name with the subresource integrity build.mjs computed
// when it built the chunk, so a chunk can only ever run the exact bytes
// this SDK was built with.

/* eslint-disable @typescript-eslint/no-explicit-any */
import type { usCategories } from "./consent-mode";
import type { encodeGpp, usSections } from "./gpp/encode";
import type { Cmp, decodeTc, TcEncoder } from "./tcf";
import type { showNotice, showOptOut } from "./us/ui";

/** What each chunk registers on window.__nexaguardChunks. */
export interface Chunks {
  tcf: { TcEncoder: typeof TcEncoder; Cmp: typeof Cmp; decodeTc: typeof decodeTc };
  us: {
    encodeGpp: typeof encodeGpp;
    usSections: typeof usSections;
    usCategories: typeof usCategories;
    showNotice: typeof showNotice;
    showOptOut: typeof showOptOut;
  };
}

/** Chunk name to [file name, integrity], filled in by build.mjs. */
declare const __CHUNKS__: { [K in keyof Chunks]: [string, string] };

/** Registers a chunk's exports (called by the chunk itself). */
export function registerChunk<K extends keyof Chunks>(w: any, name: K, exports: Chunks[K]): void {
  (w.__nexaguardChunks = w.__nexaguardChunks || {})[name] = exports;
}

/** Loads in progress or done, by chunk name. */
const pending: Record<string, Promise<any>> = {};

/** Loads a chunk once; later calls share the first load. */
export function loadChunk<K extends keyof Chunks>(w: any, d: Document, base: string, name: K, nonce?: string): Promise<Chunks[K]> {
  return (pending[name] =
    pending[name] ||
    new Promise<Chunks[K]>((resolve, reject) => {
      const [file, integrity] = __CHUNKS__[name];
      const el = d.createElement("script");
      el.async = true;
      el.src = base + "/sdk/v1/" + file;
      el.integrity = integrity;
      el.crossOrigin = "anonymous";
      if (nonce) el.nonce = nonce;
      const fail = () => reject(new Error("NexaGuard: could not load " + el.src));
      el.onload = () => {
        const c = (w.__nexaguardChunks || {})[name];
        if (c) resolve(c);
        else fail();
      };
      el.onerror = fail;
      d.head.appendChild(el);
    }));
}
