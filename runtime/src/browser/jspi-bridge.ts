import { IDB_CHUNK } from '@strata/store';
import { ChunkCache } from './chunk-cache.js';

/** Chunks read ahead of a sequential miss: one suspension serves the next reads too. */
const READAHEAD = 4;

/**
 * The JSPI bridge (JavaScript Promise Integration, `WebAssembly.Suspending`): no shared
 * memory and no cross-origin isolation needed. The overlay stays synchronous; a read of a
 * lower chunk that is not in memory throws PendingChunk before it changes anything. The
 * WASI import that was running is a suspending import (WASI's `suspend` option): it catches
 * the PendingChunk, the wasm stack suspends while the chunk is read from IndexedDB, and the
 * syscall runs again from the start — which is safe because a syscall only reads lower bytes
 * before it mutates anything, or rewrites the same bytes at the same offsets (ChunkedFile).
 */
export class PendingChunk extends Error {
  override readonly name = 'PendingChunk';
  constructor(readonly digest: string, readonly index: number, readonly size: number) {
    super(`chunk ${index} of ${digest} is being read from IndexedDB`);
  }
}

export function jspiAvailable(): boolean {
  return typeof (WebAssembly as unknown as { Suspending?: unknown }).Suspending === 'function' &&
    typeof (WebAssembly as unknown as { promising?: unknown }).promising === 'function';
}

export class SuspendingContent extends ChunkCache {
  /** `maxChunks`: the cache's size (ChunkCache's default when absent). */
  constructor(private readonly load: (digest: string, index: number) => Promise<Uint8Array>, maxChunks?: number) {
    super((digest, index, size) => {
      throw new PendingChunk(digest, index, size);
    }, maxChunks);
  }

  /** The promise to wait for when `e` is a PendingChunk, else undefined (not ours). */
  pending(e: unknown): Promise<void> | undefined {
    if (!(e instanceof PendingChunk)) return undefined;
    const last = Math.min(e.index + READAHEAD, Math.ceil(e.size / IDB_CHUNK)) - 1;
    const loads: Promise<void>[] = [];
    for (let i = e.index; i <= Math.max(e.index, last); i++) {
      if (i === e.index || !this.has(e.digest, i)) {
        loads.push(this.load(e.digest, i).then((bytes) => {
          // Kept for the retry, and the ones after it: the syscall reads them all again.
          this.pin(e.digest, i);
          this.put(e.digest, i, bytes);
        }));
      }
    }
    return Promise.all(loads).then(() => undefined);
  }

  /** Run synchronous overlay code outside the guest, waiting out each chunk it misses. */
  async settle<T>(fn: () => T): Promise<T> {
    for (;;) {
      try {
        const r = fn();
        this.unpin();
        return r;
      } catch (e) {
        const p = this.pending(e);
        if (!p) throw e;
        await p;
      }
    }
  }
}
