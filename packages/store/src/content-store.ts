import { isDigest } from './hash.js';
import type { LayerSource } from './import/import-layer.js';
import type { BlobReader, ContentSource, Digest } from './types.js';

/**
 * Blobs by sha256 digest: layer tars, manifests, configs, and the file contents of imported
 * layers. Content-addressed, so a blob shared by two layers or two images is stored once.
 *
 * Lifecycle of a write:
 *
 * ```ts
 * const w = await store.writer();                 // a temp area, invisible to has/get
 * for await (const chunk of body) await w.write(chunk);
 * const digest = await w.commit(expectedDigest);  // verifies, then makes it visible atomically
 * // on any error: await w.abort() — nothing is left behind
 * ```
 *
 * A digest mismatch makes `commit` throw `DigestMismatchError` and leaves the store as it was.
 * `delete` is for the garbage collector (LayerStore / image store), which knows the references.
 */
export interface ContentStore extends ContentSource {
  has(digest: Digest): Promise<boolean>;
  /** Whole blob in memory (manifests, configs). NotFoundError if absent. */
  get(digest: Digest): Promise<Uint8Array>;
  /** Streaming read of a blob. */
  stream(digest: Digest): ReadableStream<Uint8Array>;
  /**
   * The blob as a LayerSource, for an import of a stored layer (load, commit): optional,
   * where the store can read a blob into buffers of the importer's (disk).
   */
  source?(digest: Digest): LayerSource;
  /** Store a small blob held in memory; returns its digest (verified against `expected`). */
  put(data: Uint8Array, expected?: Digest): Promise<Digest>;
  writer(options?: WriterOptions): Promise<ContentWriter>;
  delete(digest: Digest): Promise<void>;
  /**
   * `has` answered without I/O, where the store can (memory): an importer that knows a
   * file's digest before writing it skips the write of a blob the store holds. Optional.
   */
  holds?(digest: Digest): boolean;
  /** Every stored digest (for GC and `info`). */
  list(): AsyncIterable<Digest>;
  size(digest: Digest): Promise<number>;
  /** Synchronous reader for the overlay's file reads (BlobReader). */
  reader(ref: { digest: Digest; size: number }): BlobReader;
  /**
   * Optional: a batch of writes made durable together, for stores where each blob's own
   * sync costs a disk flush (disk). An importer writing a layer's thousands of files uses one
   * (see ContentBatch); stores without it write each blob durably at commit.
   */
  batch?(): ContentBatch;
  /**
   * Make `reader()` possible for this blob. Stores with synchronous access (memory, disk)
   * need nothing; IndexedDB loads the blob's chunks (the preload bridge).
   */
  prepareRead?(digest: Digest): Promise<void>;
}

export interface WriterOptions {
  /**
   * The caller hashes the bytes it writes itself (an importer's hashing worker sees the
   * same bytes) and passes their digest to `commit`, which then takes it as the blob's
   * instead of hashing them a second time. A store may still verify it.
   */
  prehashed?: boolean;
}

export interface ContentWriter {
  write(chunk: Uint8Array): Promise<void>;
  /**
   * `write`, where the caller gives the bytes away: it never changes or reuses `chunk`
   * afterwards, so a store that keeps blobs as arrays (memory) may keep this one rather than
   * a copy. Optional; an importer that reads into buffers of its own uses it.
   */
  adopt?(chunk: Uint8Array): Promise<void>;
  /** Bytes written so far (for resumed downloads). */
  readonly written: number;
  /**
   * Verify and make the blob visible. After it resolves, `existed` tells whether the store
   * already held this blob (then nothing new was stored): importers use it to delete only
   * what they added when they fail.
   */
  commit(expected?: Digest): Promise<Digest>;
  readonly existed: boolean;
  abort(): Promise<void>;
}

/**
 * Blobs written together and made durable together: one flush for a layer's files instead
 * of a sync per file.
 *
 * Lifecycle: `writer()` as many times as needed (each commit verifies its digest; `existed`
 * tells whether the batch had the blob already — whether the store had it is settled at the
 * flush, which costs no lookup per blob), then either `flush()` — every committed blob is
 * synced to disk, then made visible — or `discard()` — nothing of the batch is left
 * behind. Until `flush` resolves the batch's blobs are not visible (`has`, `get`, `reader`
 * do not see them), so a crash before it leaves nothing half-written where a later import
 * would take it for stored.
 */
export interface ContentBatch {
  writer(options?: WriterOptions): Promise<ContentWriter>;
  /**
   * Whether the batch holds this blob already (a writer committed it earlier): a caller that
   * knows a blob's digest before writing it need not write it again. Optional, synchronous,
   * costs no I/O; it does not look at what the store held before the batch.
   */
  holds?(digest: Digest): boolean;
  flush(): Promise<void>;
  discard(): Promise<void>;
}

/** What a prehashed writer's `commit` stores under: the digest its caller vouches for. */
export function prehashedDigest(expected: Digest | undefined): Digest {
  if (expected === undefined || !isDigest(expected)) throw new TypeError('a prehashed writer commits with the digest of what was written');
  return expected;
}
