import type { Digest, DigestAlgorithm } from '../types.js';

/**
 * Hashing moved off the importing thread. A layer import hashes every byte twice — the tar
 * stream for its diffID, and each file's contents for its content address — and each pass
 * alone costs about what `tar -x` spends on the whole layer. An offload runs the diffID pass
 * and a share of the file passes on another core while the importing thread parses the tar
 * and stores the files (see `importLayer`'s `offload` option; `nodeHashOffload` in
 * `@strata/store/node` is the worker-thread implementation).
 */
export interface HashOffload {
  /**
   * Start hashing one tar stream; undefined when the offload is busy: hash here then.
   * `diffId: false` when the stream's digest is known already: only named files are hashed.
   * `files`: the hash of named files (default sha256; 'blake3' as `nodeFileHasher` addresses
   * files, sha256 below its SMALL_FILE); an offload that cannot compute it returns undefined.
   */
  open(options?: { diffId?: boolean; files?: DigestAlgorithm }): HashSession | undefined;
  /**
   * The part of the file bytes the importer may name to a session (`file`); the importer's
   * own choice when absent. 0: the offload hashes the stream only.
   */
  readonly fileShare?: number;
}

/**
 * One tar stream's hashing. Lifecycle:
 *
 * ```ts
 * const s = offload.open();
 * await s.write(chunk);           // every byte of the stream, in order (back-pressure)
 * const d = s.file(start, size);  // a file's bytes, named by their stream position
 * await s.drain();                // optional: every named file settles (its bytes all written)
 * const diffId = await s.finish(); // after the last write; file digests settle too
 * s.close();                      // always, also after an error: pending promises reject
 * ```
 *
 * Ordering rule: `write(c)` declares that every file starting before `c`'s first byte has
 * been named already — the session may release those bytes once they are hashed. A tar
 * reader that names each file when it reads its header keeps the rule naturally.
 * The caller may reuse `c` once `write` resolves.
 */
export interface HashSession {
  /** At most HASH_CHUNK bytes. */
  write(chunk: Uint8Array): Promise<void>;
  /** The digest (by the session's `files` hash) of bytes [start, start + size) of the stream. */
  file(start: number, size: number): Promise<Digest>;
  /**
   * Settle every file named so far (a hard link needs its target's digest before the next
   * entry). Every byte of those files must have been written: a RangeError otherwise.
   */
  drain(): Promise<void>;
  /**
   * The sha256 of the whole stream (the diffID); undefined if opened without it. Named files
   * settle too; as for drain, all of their bytes must have been written.
   */
  finish(): Promise<Digest | undefined>;
  close(): void;
}

/**
 * The largest `HashSession.write`: a session may hold only a bounded window of the stream.
 * As large as a file's chunk (`layerFile`): the importer cuts chunks into pieces this size
 * and parses the pieces, and a file body split across two is copied into one blob (256 KiB
 * pieces cost a 100 MiB import ~10% in such copies).
 */
export const HASH_CHUNK = 2 ** 20;
