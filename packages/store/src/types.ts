/**
 * The data model shared by the store, the overlay and the image code. Kept free of I/O so
 * every backend (memory, disk, IndexedDB) and every consumer agrees on one shape.
 */

/**
 * `<algorithm>:<64 hex>`. Everything OCI names (blobs, diffIDs, image IDs) is sha256; the
 * contents of imported layers' files may be addressed by blake3 instead, where the platform
 * hashes that faster (`nodeFileHasher` in `@strata/store/node`).
 */
export type Digest = `${DigestAlgorithm}:${string}`;

export type DigestAlgorithm = 'sha256' | 'blake3';

/** A reference to file contents in the ContentStore. */
export interface ContentRef {
  digest: Digest;
  size: number;
}

export type EntryType = 'file' | 'dir' | 'symlink' | 'fifo' | 'chardev' | 'blockdev' | 'whiteout';

/**
 * One path of a layer, after the OCI changeset rules were applied at import:
 * - `.wh.<name>` became an entry of type `whiteout` at `<dir>/<name>`;
 * - `.wh..wh..opq` became `opaque: true` on its directory (wherever it stood in the tar);
 * - a tar hard link became an entry with the same `linkGroup` (and content) as its target;
 * - parent directories missing from the tar exist with `implicit: true` (their attributes
 *   then come from the layer below, as extraction onto an existing directory would leave).
 */
export interface LayerEntry {
  type: EntryType;
  /** Permission bits only (0o7777). */
  mode: number;
  uid: number;
  gid: number;
  /** Modification time, nanoseconds since the epoch. */
  mtimeNs: bigint;
  /** Byte size of a file; length of a symlink target; 0 otherwise. */
  size: number;
  /** File contents; absent for empty files and non-files. */
  content?: ContentRef;
  /** Symlink target, verbatim. */
  target?: string;
  /** Entries of one layer with the same linkGroup are one inode (tar hard links). */
  linkGroup?: number;
  rdev?: number;
  xattrs?: Record<string, Uint8Array>;
  opaque?: boolean;
  implicit?: boolean;
}

/**
 * A read-only layer, imported once and keyed by its diffID (the sha256 of the uncompressed
 * tar). Paths are relative to the layer root, normalised, without a leading or trailing
 * slash; the root itself is `''` and is always present.
 */
export interface LayerIndex {
  readonly diffId: Digest;
  readonly entries: ReadonlyMap<string, LayerEntry>;
}

/** Synchronous random access to one blob (see DESIGN.md, BlobReader). */
export interface BlobReader {
  readonly size: number;
  /** Read up to `buf.length` bytes at `offset`; returns the count (0 at end). */
  readAt(buf: Uint8Array, offset: number): number;
}

/** Where the overlay reads lower file contents from. */
export interface ContentSource {
  reader(ref: ContentRef): BlobReader;
}
