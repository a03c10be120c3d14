import { concatBytes } from './bytes.js';
import { prehashedDigest, type ContentStore, type ContentWriter, type WriterOptions } from './content-store.js';
import { DigestMismatchError, NotFoundError } from './errors.js';
import { webSha256, type Hasher, type HasherFactory } from './hash.js';
import type { BlobReader, Digest } from './types.js';

/**
 * Blobs in memory: for tests, the browser before IndexedDB, and throwaway roots. Browser-safe.
 * Writes become visible only at `commit`, after the digest is verified.
 */
export class MemoryContentStore implements ContentStore {
  private readonly blobs = new Map<Digest, Uint8Array>();

  constructor(private readonly hasher: HasherFactory = webSha256) {}

  holds(digest: Digest): boolean {
    return this.blobs.has(digest);
  }

  async has(digest: Digest): Promise<boolean> {
    return this.blobs.has(digest);
  }

  async get(digest: Digest): Promise<Uint8Array> {
    return this.blob(digest);
  }

  stream(digest: Digest): ReadableStream<Uint8Array> {
    const bytes = this.blob(digest);
    return new ReadableStream({
      start(controller) {
        controller.enqueue(bytes);
        controller.close();
      },
    });
  }

  async put(data: Uint8Array, expected?: Digest): Promise<Digest> {
    const w = await this.writer();
    await w.write(data);
    return w.commit(expected);
  }

  async writer(options: WriterOptions = {}): Promise<ContentWriter> {
    return new MemoryWriter(this.blobs, options.prehashed ? undefined : this.hasher());
  }

  async delete(digest: Digest): Promise<void> {
    this.blobs.delete(digest);
  }

  async *list(): AsyncIterable<Digest> {
    yield* [...this.blobs.keys()];
  }

  async size(digest: Digest): Promise<number> {
    return this.blob(digest).length;
  }

  reader(ref: { digest: Digest; size: number }): BlobReader {
    const bytes = this.blob(ref.digest);
    return {
      size: bytes.length,
      readAt(buf, offset) {
        const n = Math.max(0, Math.min(buf.length, bytes.length - offset));
        buf.set(bytes.subarray(offset, offset + n));
        return n;
      },
    };
  }

  private blob(digest: Digest): Uint8Array {
    const b = this.blobs.get(digest);
    if (!b) throw new NotFoundError(`blob ${digest} not found`);
    return b;
  }
}

/**
 * A write into a MemoryContentStore: visible at `commit`. A class rather than an object of
 * closures: a layer import makes one per file, thousands, and per-writer closures were
 * measurable garbage on a layer of small files.
 */
class MemoryWriter implements ContentWriter {
  private readonly chunks: Uint8Array[] = [];
  private done = false;
  written = 0;
  existed = false;

  /** `h`: the hash to verify with; none for a prehashed write. */
  constructor(private readonly store: Map<Digest, Uint8Array>, private readonly h: Hasher | undefined) {}

  async write(chunk: Uint8Array): Promise<void> {
    // A copy the store owns: the caller may reuse its buffer, and a Node Buffer's slice()
    // would be a view of it, not a copy.
    this.add(new Uint8Array(chunk), chunk);
  }

  async adopt(chunk: Uint8Array): Promise<void> {
    this.add(chunk, chunk);
  }

  async commit(expected?: Digest): Promise<Digest> {
    if (this.done) throw new Error('content writer already finished');
    const given = this.h ? undefined : prehashedDigest(expected);
    this.done = true;
    const digest = given ?? this.h!.digest();
    if (expected !== undefined && expected !== digest) throw new DigestMismatchError(expected, digest);
    this.existed = this.store.has(digest);
    if (!this.existed) {
      // One chunk (most files of a layer) is already the store's own: keep it as it is.
      this.store.set(digest, this.chunks.length === 1 ? this.chunks[0]! : concatBytes(this.chunks));
    }
    return digest;
  }

  async abort(): Promise<void> {
    this.done = true;
    this.chunks.length = 0;
  }

  private add(kept: Uint8Array, given: Uint8Array): void {
    if (this.done) throw new Error('content writer already finished');
    this.h?.update(given);
    this.chunks.push(kept);
    this.written += given.length;
  }
}
