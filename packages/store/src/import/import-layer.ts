import type { ContentStore } from '../content-store.js';
import { makeDev } from '../device.js';
import { DigestMismatchError } from '../errors.js';
import { webSha256, type HasherFactory } from '../hash.js';
import type { Digest, LayerEntry, LayerIndex } from '../types.js';
import { ChangesetBuilder } from './changeset-rules.js';
import { tap, toAsyncIterable } from '../bytes.js';
import { decompress, detectCompression, type Compression, type Gunzip } from './decompress.js';
import { HASH_CHUNK, type HashOffload, type HashSession } from './hash-offload.js';
import { ImportRefs } from './import-refs.js';
import { readTar, type TarHeader } from './tar-reader.js';

export interface ImportOptions {
  /** Default 'auto': detected from the first bytes. */
  compression?: 'auto' | Compression;
  /** The diffID the layer must have (the sha256 of the uncompressed tar). */
  expectedDiffId?: Digest;
  /** The digest the blob as given must have (the compressed layer, as a manifest names it). */
  expectedDigest?: Digest;
  hasher?: HasherFactory;
  /**
   * The hash that addresses the files' contents (`nodeFileHasher` in Node: BLAKE3); default
   * `hasher`. The layer's own digests (diffID, blob) are sha256 whatever this is.
   */
  fileHasher?: HasherFactory;
  /** A faster gzip decoder than DecompressionStream, where the platform has one. */
  gunzip?: Gunzip;
  /**
   * The blob's digest when the caller verifies it itself (a pull writes the same bytes to a
   * content writer, which checks them at commit; a blob read back from the content store was
   * checked when it was stored): the importer then does not hash the blob a second time, and
   * reports this digest — for an uncompressed layer, as its diffID.
   */
  verifiedDigest?: Digest;
  /**
   * Hash on another thread: the diffID and a share of the files (see HashOffload). Given
   * by the platform (`nodeHashOffload` in Node); without it every byte is hashed here.
   */
  offload?: HashOffload;
}

/**
 * A layer read in chunks that become the importer's own (a file: `layerFile` in
 * `@strata/store/node`), unlike a stream's, which its producer may reuse. The importer may
 * give them away: a store that keeps blobs as arrays (memory) keeps a file's bytes as they
 * were read instead of copying them once more (see `ContentWriter.adopt`).
 */
export interface LayerSource {
  /**
   * The next bytes of the layer, in a buffer no one else holds; undefined at the end.
   * `done`: a chunk this source gave that the importer has finished with and kept no part
   * of, which the source may read into again rather than allocate another.
   */
  nextChunk(done?: Uint8Array): Promise<Uint8Array | undefined>;
  /** Release what reading holds (a file descriptor); the importer calls it when it is done. */
  close?(): Promise<void>;
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
 * existed are left alone, and so are those another import in flight has found and uses: see
 * ImportRefs), and the error propagates. Nothing of a failed import is visible.
 * Where the store has batches (disk), the files' blobs are synced together and become
 * visible only once the whole layer has checked out.
 */
export async function importLayer(
  content: ContentStore,
  body: AsyncIterable<Uint8Array> | ReadableStream<Uint8Array> | LayerSource,
  options: ImportOptions = {},
): Promise<ImportedLayer> {
  const hasher = options.hasher ?? webSha256;
  const fileHasher = options.fileHasher ?? hasher;
  const raw = hasher();
  let session: HashSession | undefined;
  // The files' blobs, made durable together once the layer has checked out (disk store).
  const batch = content.batch?.();
  const share = new OffloadShare(options.offload?.fileShare ?? (batch ? 1 : 0.5));
  let compressedSize = 0;
  let size = 0;
  const added = new Set<Digest>();
  // Where blobs become visible one by one (no batch), other imports in flight may use them.
  const refs = batch ? undefined : new ImportRefs(content);
  // Files whose digest the offload is still computing: their writers commit when it comes.
  const pending = new Set<Promise<void>>();
  const target = batch ?? content;
  // The buffers a store kept (ContentWriter.adopt): a LayerSource may not read into them again.
  const adopted = new WeakSet<ArrayBufferLike>();
  try {
    const owned = 'nextChunk' in body;
    // Chunks go back to the source only when nothing decompresses them: a decoder may still
    // hold its input when it asks for more.
    let recycle = false;
    const source = peekable(owned ? chunksOf(body, (c) => recycle && !adopted.has(c.buffer)) : toAsyncIterable(body));
    const head = await source.peek(4);
    const compression = options.compression === undefined || options.compression === 'auto' ? detectCompression(head) : options.compression;
    // Bodies are views of the importer's own buffers only when nothing decompressed them.
    const adoptable = owned && compression === 'none';
    recycle = adoptable;
    // An uncompressed layer's digest is its diffID: one its caller verified is not hashed
    // again, and another is hashed once.
    const knownDiffId = compression === 'none' ? options.verifiedDigest : undefined;
    session = options.offload?.open({ diffId: knownDiffId === undefined, files: fileHasher.algorithm ?? 'sha256' });
    const tarHash = session || knownDiffId ? undefined : hasher();
    const hashRaw = options.verifiedDigest === undefined;
    const rawSource = compression === 'none' ? source : tap(source, (chunk) => {
      if (hashRaw) raw.update(chunk);
      compressedSize += chunk.length;
    });
    const decompressed = decompress(rawSource, compression, options.gunzip);
    const tarBytes = tap(session ? pieces(decompressed, HASH_CHUNK) : decompressed, (chunk) => {
      size += chunk.length;
      if (session) return session.write(chunk);
      tarHash?.update(chunk);
    });
    /** A file's blob: stored now, or (`offloaded`) once the offload gives its digest. */
    const writeFile = async (entry: LayerEntry, fileSize: number, bytes: Uint8Array | AsyncIterable<Uint8Array>, offloaded: Promise<Digest> | undefined, known: Digest | undefined) => {
      // Always prehashed: the store's own hash need not be the files' (fileHasher).
      const w = await target.writer({ prehashed: true });
      const h = offloaded || known ? undefined : fileHasher();
      try {
        if (bytes instanceof Uint8Array) {
          h?.update(bytes);
          if (adoptable && w.adopt && fileSize >= ADOPT_MIN) {
            adopted.add(bytes.buffer);
            await w.adopt(bytes);
          } else {
            await w.write(bytes);
          }
        } else {
          for await (const chunk of bytes) {
            h?.update(chunk);
            await w.write(chunk);
          }
        }
      } catch (e) {
        await w.abort();
        throw e;
      }
      const stored = (digest: Digest): void => {
        // A batch's blobs are not visible before its flush: discarding it is the cleanup.
        if (!batch && !w.existed) added.add(digest);
        entry.content = { digest, size: fileSize };
      };
      if (offloaded) {
        const p = offloaded.then(async (d) => {
          await refs?.refer(d);
          return w.commit(d);
        }, async (e) => {
          await w.abort();
          throw e;
        }).then(stored);
        pending.add(p);
        p.then(() => pending.delete(p), () => { /* stays in pending: awaited below */ });
      } else {
        const digest = known ?? h!.digest();
        await refs?.refer(digest);
        stored(await w.commit(digest));
      }
    };
    const builder = new ChangesetBuilder();
    for await (const { header, body, offset, data } of readTar(tarBytes)) {
      const entry = entryOf(header);
      // A hard link copies its target's entry, content included.
      if (header.type === 'link' && pending.size > 0) {
        await session!.drain();
        await Promise.all(pending);
      }
      if (header.type === 'file' && header.size > 0) {
        // Named before its bytes are read: the session's ordering rule.
        const offloaded = session && share.take(header.size, pending.size) ? session.file(offset, header.size) : undefined;
        // A body held whole is hashed in one call, and its writer need not hash it again.
        const known = !offloaded && data && fileHasher.once ? fileHasher.once(data) : undefined;
        if (known !== undefined) await refs?.refer(known);
        // Nor written at all when it is stored already (a layer's repeated files, content
        // that another layer brought).
        if (known !== undefined && (batch ? batch.holds?.(known) : content.holds?.(known))) entry.content = { digest: known, size: header.size };
        else await writeFile(entry, header.size, data ?? body(), offloaded, known);
      }
      builder.add(header.name, entry, header.type === 'link' ? header.linkname : undefined);
    }
    // Drain whatever follows the end-of-archive marker so the digests cover the whole blob.
    for await (const _ of tarBytes) { /* trailing zero blocks */ }
    const streamed = session ? await session.finish() : tarHash?.digest();
    const diffId = knownDiffId ?? streamed!;
    await Promise.all(pending);
    const digest = compression === 'none' ? diffId : (options.verifiedDigest ?? raw.digest());
    if (compression === 'none') compressedSize = size;
    if (options.expectedDiffId && options.expectedDiffId !== diffId) throw new DigestMismatchError(options.expectedDiffId, diffId, 'layer diffID');
    if (options.expectedDigest && options.expectedDigest !== digest) throw new DigestMismatchError(options.expectedDigest, digest, 'layer');
    await batch?.flush();
    await refs?.finish(true, added);
    return { diffId, entries: builder.finish(), digest, compressedSize, size, compression, warnings: builder.warnings };
  } catch (e) {
    // Closing rejects what the offload still owes, so no writer commits after the cleanup.
    session?.close();
    await Promise.allSettled(pending);
    await batch?.discard().catch(() => {});
    await refs?.finish(false, added);
    throw e;
  } finally {
    session?.close();
    if ('nextChunk' in body) await body.close?.();
  }
}

/**
 * Which files the offload hashes. Its thread hashes every byte of the stream for the diffID
 * already, but this one reads, parses and stores, and hashes its files while their bytes are
 * still in its cache. Into memory, half the file bytes each balanced the two on the import
 * benchmark (0.35 to 0.65 all came within 10%); onto disk, where this thread also makes four
 * system calls a file, the offload takes them all (~173 against ~192 ms at half). Small files
 * stay here (hashed in one call, they cost less than the bookkeeping of sending them), and a
 * cap on files in flight bounds the writers waiting for their digest (each holds a
 * descriptor on disk).
 */
class OffloadShare {
  private here = 0;
  private there = 0;

  /** `share`: the part of the file bytes the offload may take. */
  constructor(private readonly share: number) {}

  take(size: number, inFlight: number): boolean {
    const give = size >= 16 * 1024 && inFlight < 256 && this.there + size <= this.share * (this.here + this.there + size);
    if (give) this.there += size;
    else this.here += size;
    return give;
  }
}

/**
 * Smaller files are copied even where their bytes could be adopted: an adopted view keeps
 * its whole chunk alive, and a layer of small files would keep its tar headers and
 * padding (a block each) and the bytes of files stored already along with them.
 */
const ADOPT_MIN = 16 * 1024;

/**
 * A LayerSource's chunks. Reading the tar, the generator is asked for the next only once
 * everything below it (the tar reader, the stores' writes) is done with the last one, which
 * then goes back to the source when `reusable` says so.
 */
async function* chunksOf(src: LayerSource, reusable: (chunk: Uint8Array) => boolean): AsyncGenerator<Uint8Array> {
  let last: Uint8Array | undefined;
  for (;;) {
    const c = await src.nextChunk(last && reusable(last) ? last : undefined);
    if (c === undefined) return;
    last = c;
    yield c;
  }
}

function entryOf(h: TarHeader): LayerEntry {
  const base = { mode: h.mode, uid: h.uid, gid: h.gid, mtimeNs: h.mtimeNs };
  const e: LayerEntry = (() => {
    switch (h.type) {
      case 'dir': return { type: 'dir', ...base, size: 0 };
      case 'symlink': return { type: 'symlink', ...base, size: new TextEncoder().encode(h.linkname).length, target: h.linkname };
      case 'chardev': return { type: 'chardev', ...base, size: 0, rdev: makeDev(h.devmajor, h.devminor) };
      case 'blockdev': return { type: 'blockdev', ...base, size: 0, rdev: makeDev(h.devmajor, h.devminor) };
      case 'fifo': return { type: 'fifo', ...base, size: 0 };
      default: return { type: 'file', ...base, size: h.type === 'file' ? h.size : 0 };
    }
  })();
  if (Object.keys(h.xattrs).length > 0) e.xattrs = h.xattrs;
  return e;
}

/** The chunks of `src`, none longer than `max` (views, not copies). */
async function* pieces(src: AsyncIterable<Uint8Array>, max: number): AsyncGenerator<Uint8Array> {
  for await (const c of src) {
    if (c.length <= max) yield c;
    else for (let off = 0; off < c.length; off += max) yield c.subarray(off, off + max);
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

