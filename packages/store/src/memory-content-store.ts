import { concatBytes } from './bytes.js';
import { prehashedDigest, type ContentStore, type ContentWriter, type WriterOptions } from './content-store.js';
import { DigestMismatchError, NotFoundError } from './errors.js';
import { webSha256, type HasherFactory } from './hash.js';
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
    const chunks: Uint8Array[] = [];
    const h = options.prehashed ? undefined : this.hasher();
    let written = 0;
    let done = false;
    let existed = false;
    const store = this.blobs;
    return {
      get written() {
        return written;
      },
      get existed() {
        return existed;
      },
      async write(chunk) {
        if (done) throw new Error('content writer already finished');
        h?.update(chunk);
        // A copy the store owns: the caller may reuse its buffer, and a Node Buffer's slice()
        // would be a view of it, not a copy.
        chunks.push(new Uint8Array(chunk));
        written += chunk.length;
      },
      async adopt(chunk) {
        if (done) throw new Error('content writer already finished');
        h?.update(chunk);
        chunks.push(chunk);
        written += chunk.length;
      },
      async commit(expected) {
        if (done) throw new Error('content writer already finished');
        const given = h ? undefined : prehashedDigest(expected);
        done = true;
        const digest = given ?? h!.digest();
        if (expected !== undefined && expected !== digest) throw new DigestMismatchError(expected, digest);
        existed = store.has(digest);
        if (!existed) {
          // One chunk (most files of a layer) is already a private copy: keep it as it is.
          store.set(digest, chunks.length === 1 ? chunks[0]! : concatBytes(chunks));
        }
        return digest;
      },
      async abort() {
        done = true;
        chunks.length = 0;
      },
    };
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
