import type { BlobReader, ContentRef, ContentSource } from '@strata/store';
import { IDB_CHUNK } from '@strata/store';

/**
 * The SharedArrayBuffer sync bridge: a container worker needs lower file bytes synchronously
 * (WASI calls are synchronous); IndexedDB answers asynchronously. The worker posts a request
 * to a reader worker and blocks in `Atomics.wait` until the reader has put the bytes in a
 * shared buffer. Needs cross-origin isolation (SharedArrayBuffer).
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

/** The container worker's side: a ContentSource whose reads go through the bridge. */
export class BridgedContent implements ContentSource {
  private readonly state: Int32Array;
  private readonly data: Uint8Array;
  /** Chunks already fetched, most recent last (a small LRU keeps rereads local). */
  private readonly cache = new Map<string, Uint8Array>();

  constructor(sab: SharedArrayBuffer, private readonly port: { postMessage(m: ChunkRequest): void }, private readonly maxChunks = 256) {
    this.state = new Int32Array(sab, 0, 2);
    this.data = new Uint8Array(sab, BRIDGE_HEADER);
  }

  /** Requests made through the bridge (the test checks that it was used). */
  requests = 0;

  private chunk(digest: string, index: number): Uint8Array {
    const key = `${digest}:${index}`;
    const hit = this.cache.get(key);
    if (hit) {
      this.cache.delete(key);
      this.cache.set(key, hit);
      return hit;
    }
    Atomics.store(this.state, 0, 1);
    this.requests++;
    this.port.postMessage({ digest, index });
    // A reader that never answers (its page went away) must not hang the program forever.
    const deadline = Date.now() + 30_000;
    while (Atomics.load(this.state, 0) === 1) {
      if (Date.now() > deadline) {
        Atomics.store(this.state, 0, 0);
        throw new Error(`the IndexedDB reader did not answer for ${key}`);
      }
      Atomics.wait(this.state, 0, 1, 1_000);
    }
    if (Atomics.load(this.state, 0) === 3) {
      Atomics.store(this.state, 0, 0);
      throw new Error(`the IndexedDB reader could not read ${key}`);
    }
    const bytes = this.data.slice(0, Atomics.load(this.state, 1));
    Atomics.store(this.state, 0, 0);
    this.cache.set(key, bytes);
    while (this.cache.size > this.maxChunks) this.cache.delete(this.cache.keys().next().value!);
    return bytes;
  }

  reader(ref: ContentRef): BlobReader {
    const size = ref.size;
    return {
      size,
      readAt: (buf, offset) => {
        let done = 0;
        while (done < buf.length && offset + done < size) {
          const pos = offset + done;
          const c = this.chunk(ref.digest, Math.floor(pos / IDB_CHUNK));
          const inChunk = pos % IDB_CHUNK;
          const n = Math.min(buf.length - done, c.length - inChunk);
          buf.set(c.subarray(inChunk, inChunk + n), done);
          done += n;
        }
        return done;
      },
    };
  }
}
