import { IDB_CHUNK } from '@strata/store';
import { ChunkCache } from './chunk-cache.js';

/**
 * The SharedArrayBuffer sync bridge: a container worker needs lower file bytes synchronously
 * (WASI calls are synchronous); IndexedDB answers asynchronously. The worker posts a request
 * to a reader worker (idb-reader-worker.ts) and blocks in `Atomics.wait` until the reader has
 * put the bytes in a shared buffer. Needs cross-origin isolation (SharedArrayBuffer).
 *
 * Buffer layout (one request at a time):
 *   Int32 [0] state: 0 idle, 1 requested, 2 answered, 3 failed   (both sides; notify on change)
 *   Int32 [1] length of the answer in bytes
 *   bytes 8.. : the answer: one IDB_CHUNK-sized chunk of the blob
 */
export const BRIDGE_HEADER = 8;

export function createBridgeBuffer(): SharedArrayBuffer {
  return new SharedArrayBuffer(BRIDGE_HEADER + IDB_CHUNK);
}

export interface ChunkRequest {
  digest: string;
  index: number;
}

/** The container worker's side: a content source whose misses block on the reader worker. */
export function bridgedContent(sab: SharedArrayBuffer, port: { postMessage(m: ChunkRequest): void }): ChunkCache {
  const state = new Int32Array(sab, 0, 2);
  const data = new Uint8Array(sab, BRIDGE_HEADER);
  return new ChunkCache((digest, index) => {
    Atomics.store(state, 0, 1);
    port.postMessage({ digest, index });
    // A reader that never answers (its page went away) must not hang the program forever.
    const deadline = Date.now() + 30_000;
    while (Atomics.load(state, 0) === 1) {
      if (Date.now() > deadline) {
        Atomics.store(state, 0, 0);
        throw new Error(`the IndexedDB reader did not answer for ${digest} chunk ${index}`);
      }
      Atomics.wait(state, 0, 1, 1_000);
    }
    const failed = Atomics.load(state, 0) === 3;
    const bytes = failed ? undefined : data.slice(0, Atomics.load(state, 1));
    Atomics.store(state, 0, 0);
    if (!bytes) throw new Error(`the IndexedDB reader could not read ${digest} chunk ${index}`);
    return bytes;
  });
}
