import type { BlobReader, ContentRef, ContentSource } from '@strata/store';
import { readChunked } from '@strata/store';

/**
 * The container worker's view of lower file bytes under the SharedArrayBuffer and JSPI
 * bridges: IDB_CHUNK-sized chunks fetched on first use and kept in a small LRU, so a program
 * pulls in only what it reads. `miss` fetches a chunk synchronously — or throws, which is how
 * the JSPI bridge asks for a suspension (jspi-bridge.ts) — before anything is cached.
 */
export class ChunkCache implements ContentSource {
  private readonly cache = new Map<string, Uint8Array>();
  /** Chunks a syscall still retrying needs: not evicted until `unpin` (see SuspendingContent). */
  private readonly pinned = new Set<string>();
  /** Chunks fetched through the bridge (the tests check that it was used). */
  requests = 0;

  constructor(private readonly miss: (digest: string, index: number, size: number) => Uint8Array, private readonly maxChunks = 256) {}

  /** Keep a fetched chunk; the least recently used ones go first when the cache is full. */
  put(digest: string, index: number, bytes: Uint8Array): void {
    this.requests++;
    this.cache.set(`${digest}:${index}`, bytes);
    if (this.cache.size <= this.maxChunks) return;
    // The least recently used that is not pinned; the cache grows past its size while a
    // syscall needs more pinned chunks than that.
    for (const key of this.cache.keys()) {
      if (this.cache.size <= this.maxChunks) break;
      if (!this.pinned.has(key)) this.cache.delete(key);
    }
  }

  /** Keep a chunk until `unpin`. */
  pin(digest: string, index: number): void {
    this.pinned.add(`${digest}:${index}`);
  }

  /** The syscall that needed the pinned chunks is done: they may go as any other. */
  unpin(): void {
    if (this.pinned.size > 0) this.pinned.clear();
  }

  has(digest: string, index: number): boolean {
    return this.cache.has(`${digest}:${index}`);
  }

  private chunk(digest: string, index: number, size: number): Uint8Array {
    const key = `${digest}:${index}`;
    const hit = this.cache.get(key);
    if (hit) {
      this.cache.delete(key);
      this.cache.set(key, hit);
      return hit;
    }
    const bytes = this.miss(digest, index, size);
    this.put(digest, index, bytes);
    return bytes;
  }

  reader(ref: ContentRef): BlobReader {
    const size = ref.size;
    return {
      size,
      readAt: (buf, offset) => readChunked((i) => this.chunk(ref.digest, i, size), size, buf, offset),
    };
  }
}
