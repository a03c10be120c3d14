import type { ContentStore } from '../content-store.js';
import { DigestMismatchError } from '../errors.js';
import { webSha256, type HasherFactory } from '../hash.js';
import type { Digest, LayerEntry, LayerIndex } from '../types.js';
import { ChangesetBuilder } from './changeset-rules.js';
import { toAsyncIterable } from '../bytes.js';
import { decompress, detectCompression, type Compression, type Gunzip } from './decompress.js';
import { readTar, type TarHeader } from './tar-reader.js';

export interface ImportOptions {
  /** Default 'auto': detected from the first bytes. */
  compression?: 'auto' | Compression;
  /** The diffID the layer must have (the sha256 of the uncompressed tar). */
  expectedDiffId?: Digest;
  /** The digest the blob as given must have (the compressed layer, as a manifest names it). */
  expectedDigest?: Digest;
  hasher?: HasherFactory;
  /** A faster gzip decoder than DecompressionStream, where the platform has one. */
  gunzip?: Gunzip;
  /**
   * The compressed blob's digest when the caller verifies it itself (a pull writes the same
   * bytes to a content writer, which checks them at commit): the importer then does not hash
   * the compressed bytes a second time, and reports this digest.
   */
  verifiedDigest?: Digest;
}

/** A layer after import: its index plus what was measured on the way. */
export interface ImportedLayer extends LayerIndex {
  /** sha256 of the bytes as given (compressed). */
  readonly digest: Digest;
  readonly compressedSize: number;
  /** Bytes of the uncompressed tar. */
  readonly size: number;
  readonly compression: Compression;
  /** Entries left out, with why (see ChangesetBuilder). */
  readonly warnings: readonly string[];
}

/**
 * Stream an OCI layer (tar, tar+gzip, tar+zstd) into the content store: every regular
 * file's contents become a blob (by the sha256 of the contents, so identical files in any
 * layer or image are stored once), and the entries become a LayerIndex with the changeset
 * rules applied (see changeset-rules.ts). The tar is never held in memory whole.
 *
 * Atomic: if anything fails — a corrupt or truncated tar, a hostile entry, a digest or diffID
 * that does not match — the blobs this import added are deleted again (blobs that already
 * existed are left alone), and the error propagates. Nothing of a failed import is visible.
 * Where the store has batches (disk), the files' blobs are synced together and become
 * visible only once the whole layer has checked out.
 */
export async function importLayer(
  content: ContentStore,
  body: AsyncIterable<Uint8Array> | ReadableStream<Uint8Array>,
  options: ImportOptions = {},
): Promise<ImportedLayer> {
  const hasher = options.hasher ?? webSha256;
  const raw = hasher();
  const tarHash = hasher();
  let compressedSize = 0;
  let size = 0;
  const added: Digest[] = [];
  // The files' blobs, made durable together once the layer has checked out (disk store).
  const batch = content.batch?.();
  const target = batch ?? content;
  try {
    const source = peekable(toAsyncIterable(body));
    const head = await source.peek(4);
    const compression = options.compression === undefined || options.compression === 'auto' ? detectCompression(head) : options.compression;
    // An uncompressed layer's digest is its diffID: hash it once.
    const hashRaw = options.verifiedDigest === undefined;
    const rawSource = compression === 'none' ? source : tap(source, (chunk) => {
      if (hashRaw) raw.update(chunk);
      compressedSize += chunk.length;
    });
    const tarBytes = tap(decompress(rawSource, compression, options.gunzip), (chunk) => {
      tarHash.update(chunk);
      size += chunk.length;
    });
    const builder = new ChangesetBuilder();
    for await (const { header, body: data } of readTar(tarBytes)) {
      const entry = entryOf(header);
      if (header.type === 'file' && header.size > 0) {
        const w = await target.writer();
        try {
          for await (const chunk of data()) await w.write(chunk);
        } catch (e) {
          await w.abort();
          throw e;
        }
        const digest = await w.commit();
        // A batch's blobs are not visible before its flush: discarding it is the cleanup.
        if (!batch && !w.existed && !added.includes(digest)) added.push(digest);
        entry.content = { digest, size: header.size };
      }
      builder.add(header.name, entry, header.type === 'link' ? header.linkname : undefined);
    }
    // Drain whatever follows the end-of-archive marker so the digests cover the whole blob.
    for await (const _ of tarBytes) { /* trailing zero blocks */ }
    const diffId = tarHash.digest();
    const digest = compression === 'none' ? diffId : (options.verifiedDigest ?? raw.digest());
    if (compression === 'none') compressedSize = size;
    if (options.expectedDiffId && options.expectedDiffId !== diffId) throw new DigestMismatchError(options.expectedDiffId, diffId, 'layer diffID');
    if (options.expectedDigest && options.expectedDigest !== digest) throw new DigestMismatchError(options.expectedDigest, digest, 'layer');
    await batch?.flush();
    return { diffId, entries: builder.finish(), digest, compressedSize, size, compression, warnings: builder.warnings };
  } catch (e) {
    await batch?.discard().catch(() => {});
    for (const d of added) await content.delete(d).catch(() => {});
    throw e;
  }
}

function entryOf(h: TarHeader): LayerEntry {
  const base = { mode: h.mode, uid: h.uid, gid: h.gid, mtimeNs: h.mtimeNs };
  const e: LayerEntry = (() => {
    switch (h.type) {
      case 'dir': return { type: 'dir', ...base, size: 0 };
      case 'symlink': return { type: 'symlink', ...base, size: new TextEncoder().encode(h.linkname).length, target: h.linkname };
      case 'chardev': return { type: 'chardev', ...base, size: 0, rdev: (h.devmajor << 8) | h.devminor };
      case 'blockdev': return { type: 'blockdev', ...base, size: 0, rdev: (h.devmajor << 8) | h.devminor };
      case 'fifo': return { type: 'fifo', ...base, size: 0 };
      default: return { type: 'file', ...base, size: h.type === 'file' ? h.size : 0 };
    }
  })();
  if (Object.keys(h.xattrs).length > 0) e.xattrs = h.xattrs;
  return e;
}

async function* tap(src: AsyncIterable<Uint8Array>, fn: (c: Uint8Array) => void): AsyncGenerator<Uint8Array> {
  for await (const c of src) {
    fn(c);
    yield c;
  }
}

/** An async iterable that can show its first bytes before they are consumed. */
function peekable(src: AsyncIterable<Uint8Array>) {
  const it = src[Symbol.asyncIterator]();
  const pending: Uint8Array[] = [];
  let done = false;
  const pull = async (): Promise<boolean> => {
    if (done) return false;
    const r = await it.next();
    if (r.done) {
      done = true;
      return false;
    }
    pending.push(r.value);
    return true;
  };
  return {
    async peek(n: number): Promise<Uint8Array> {
      while (pending.reduce((a, c) => a + c.length, 0) < n && (await pull()));
      const all = new Uint8Array(Math.min(n, pending.reduce((a, c) => a + c.length, 0)));
      let pos = 0;
      for (const c of pending) {
        if (pos >= all.length) break;
        const take = Math.min(c.length, all.length - pos);
        all.set(c.subarray(0, take), pos);
        pos += take;
      }
      return all;
    },
    async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array> {
      for (;;) {
        while (pending.length) yield pending.shift()!;
        if (!(await pull())) return;
      }
    },
  };
}

