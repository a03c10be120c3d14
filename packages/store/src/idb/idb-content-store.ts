import { createStore, del, delMany, get, keys, set, update, type UseStore } from 'idb-keyval';
import { prehashedDigest, type ContentStore, type ContentWriter, type WriterOptions } from '../content-store.js';
import { concatBytes } from '../bytes.js';
import { DigestMismatchError, NotFoundError } from '../errors.js';
import { guardQuota } from './quota.js';
import { webSha256, type HasherFactory } from '../hash.js';
import type { BlobReader, Digest, LayerIndex } from '../types.js';

/** Blob bytes are stored in chunks, so reading a range never loads a whole file. */
export const IDB_CHUNK = 256 * 1024;

interface Meta {
  size: number;
  /** The ingest id its chunks were written under (`chunk:<id>:<n>`). */
  id: string;
}

/**
 * Blobs in IndexedDB (through idb-keyval), for the browser: `meta:<digest>` → {size, id} and
 * the bytes as `chunk:<id>:<n>` records of IDB_CHUNK bytes.
 *
 * A write puts its chunks under a fresh ingest id as they come; `commit` verifies the digest
 * and only then writes the meta record — the one write that makes the blob visible, so an
 * interrupted or failed write leaves no visible blob (its orphan chunks are removed by
 * `abort`, or by `sweep` after a crash). A quota error becomes StorageFullError.
 *
 * Reads: `get`/`stream` are asynchronous. `reader()` is synchronous, as the overlay needs,
 * and serves from chunks loaded beforehand with `preload(digest)` (the preload bridge); a
 * worker with the SharedArrayBuffer or JSPI bridge reads through those instead.
 */
export class IdbContentStore implements ContentStore {
  private readonly store: UseStore;
  private readonly loaded = new Map<Digest, Uint8Array[]>();
  /** How many preloadLayers calls hold each blob loaded (see preloadLayers). */
  private readonly preloadHolds = new Map<Digest, number>();
  private readonly metas = new Map<Digest, Meta>();

  constructor(dbName = 'strata', private readonly hasher: HasherFactory = webSha256) {
    this.store = createStore(dbName, 'content');
  }

  async has(digest: Digest): Promise<boolean> {
    return (await get<Meta>(`meta:${digest}`, this.store)) !== undefined;
  }

  private async meta(digest: Digest): Promise<Meta> {
    const m = await get<Meta>(`meta:${digest}`, this.store);
    if (!m) throw new NotFoundError(`blob ${digest} not found`);
    return m;
  }

  private async chunks(m: Meta): Promise<Uint8Array[]> {
    const out: Uint8Array[] = [];
    for (let i = 0; i * IDB_CHUNK < m.size; i++) {
      const c = await get<Uint8Array>(`chunk:${m.id}:${i}`, this.store);
      if (!c) throw new NotFoundError(`blob chunk ${m.id}:${i} missing`);
      out.push(c);
    }
    return out;
  }

  async get(digest: Digest): Promise<Uint8Array> {
    return concatBytes(await this.chunks(await this.meta(digest)));
  }

  stream(digest: Digest): ReadableStream<Uint8Array> {
    let m: Meta | undefined;
    let i = 0;
    return new ReadableStream({
      pull: async (controller) => {
        m ??= await this.meta(digest);
        if (i * IDB_CHUNK >= m.size) {
          controller.close();
          return;
        }
        const c = await get<Uint8Array>(`chunk:${m.id}:${i++}`, this.store);
        if (!c) throw new NotFoundError(`blob chunk missing for ${digest}`);
        controller.enqueue(c);
      },
    });
  }

  async put(data: Uint8Array, expected?: Digest): Promise<Digest> {
    const w = await this.writer();
    await w.write(data);
    return w.commit(expected);
  }

  async writer(options: WriterOptions = {}): Promise<ContentWriter> {
    // `<start time>-<random>`: sweep() tells a write in flight from one a crash left by it.
    const id = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
    // A prehashed blob is not hashed again: an importer hashed it on its way (and may have
    // addressed it by another hash than this store's).
    const h = options.prehashed ? undefined : this.hasher();
    const store = this.store;
    let pending = new Uint8Array(IDB_CHUNK);
    let fill = 0;
    let index = 0;
    let written = 0;
    let done = false;
    let existed = false;
    const flush = async (): Promise<void> => {
      if (fill === 0) return;
      await guardQuota(() => set(`chunk:${id}:${index++}`, pending.slice(0, fill), store));
      fill = 0;
    };
    const discard = async (): Promise<void> => {
      await delMany(Array.from({ length: index }, (_, i) => `chunk:${id}:${i}`), store);
    };
    return {
      get written() {
        return written;
      },
      get existed() {
        return existed;
      },
      write: async (chunk) => {
        if (done) throw new Error('content writer already finished');
        h?.update(chunk);
        written += chunk.length;
        let off = 0;
        while (off < chunk.length) {
          const n = Math.min(IDB_CHUNK - fill, chunk.length - off);
          pending.set(chunk.subarray(off, off + n), fill);
          fill += n;
          off += n;
          if (fill === IDB_CHUNK) {
            await flush();
            pending = new Uint8Array(IDB_CHUNK);
          }
        }
      },
      commit: async (expected) => {
        if (done) throw new Error('content writer already finished');
        done = true;
        try {
          await flush();
          const digest = h ? h.digest() : prehashedDigest(expected);
          if (expected !== undefined && expected !== digest) throw new DigestMismatchError(expected, digest);
          // Looked up and set in one transaction: two writers of one blob (a pull imports
          // layers side by side, and layers share files) would both find none and both set
          // it, the second leaving the first's chunks owned by nothing.
          let found = false;
          await guardQuota(() => update<Meta>(`meta:${digest}`, (old) => {
            found = old !== undefined;
            return old ?? { size: written, id };
          }, store));
          existed = found;
          if (existed) await discard();
          return digest;
        } catch (e) {
          await discard();
          throw e;
        }
      },
      abort: async () => {
        if (done) return;
        done = true;
        await discard();
      },
    };
  }

  async delete(digest: Digest): Promise<void> {
    const m = await get<Meta>(`meta:${digest}`, this.store);
    if (!m) return;
    await del(`meta:${digest}`, this.store);
    await delMany(Array.from({ length: Math.ceil(m.size / IDB_CHUNK) }, (_, i) => `chunk:${m.id}:${i}`), this.store);
    this.loaded.delete(digest);
    this.metas.delete(digest);
  }

  async *list(): AsyncIterable<Digest> {
    for (const k of await keys<string>(this.store)) if (k.startsWith('meta:')) yield k.slice(5) as Digest;
  }

  async size(digest: Digest): Promise<number> {
    return (await this.meta(digest)).size;
  }

  /** Load a blob's chunks for synchronous `reader()` access (the preload bridge). */
  async preload(digest: Digest): Promise<void> {
    if (!this.loaded.has(digest)) this.loaded.set(digest, await this.chunks(await this.meta(digest)));
  }

  /**
   * `preload` every file blob of these layers (a whole image's lower bytes). The returned
   * release lets them go again once no other preloadLayers holds them: an export or commit
   * in a page would otherwise keep the image's bytes in the page for good.
   */
  async preloadLayers(layers: readonly LayerIndex[]): Promise<() => void> {
    const digests = new Set<Digest>();
    for (const l of layers) {
      for (const e of l.entries.values()) {
        // One loaded by a plain `preload` is its caller's to keep: not counted, never let go.
        if (e.content && !(this.loaded.has(e.content.digest) && !this.preloadHolds.has(e.content.digest))) digests.add(e.content.digest);
      }
    }
    for (const d of digests) this.preloadHolds.set(d, (this.preloadHolds.get(d) ?? 0) + 1);
    try {
      for (const d of digests) await this.preload(d);
    } catch (e) {
      this.letGo(digests);
      throw e;
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.letGo(digests);
    };
  }

  private letGo(digests: Iterable<Digest>): void {
    for (const d of digests) {
      const n = (this.preloadHolds.get(d) ?? 1) - 1;
      if (n > 0) {
        this.preloadHolds.set(d, n);
        continue;
      }
      this.preloadHolds.delete(d);
      this.loaded.delete(d);
    }
  }

  /**
   * One IDB_CHUNK-sized chunk of a blob, straight from IndexedDB (what the SharedArrayBuffer
   * and JSPI bridges fetch on a miss). The blob's meta record is cached: blobs never change.
   */
  async readChunk(digest: Digest, index: number): Promise<Uint8Array> {
    let m = this.metas.get(digest);
    if (!m) this.metas.set(digest, (m = await this.meta(digest)));
    const c = await get<Uint8Array>(`chunk:${m.id}:${index}`, this.store);
    if (!c || c.length > IDB_CHUNK) throw new NotFoundError(`blob ${digest}: chunk ${index} is missing`);
    return c;
  }

  async prepareRead(digest: Digest): Promise<void> {
    await this.preload(digest);
  }

  reader(ref: { digest: Digest; size: number }): BlobReader {
    // Checked at read time, not here: restoring an upper makes readers for files that a
    // diff, say, never reads.
    const loaded = this.loaded;
    const size = ref.size;
    return {
      size,
      readAt(buf, offset) {
        const chunks = loaded.get(ref.digest);
        if (!chunks) throw new NotFoundError(`blob ${ref.digest} is not preloaded for synchronous reads (IdbContentStore.preload)`);
        return readChunked((i) => chunks[i], size, buf, offset);
      },
    };
  }

  /**
   * Remove chunks no visible blob owns (left by a crash between chunks and meta), of writes
   * begun more than `graceMs` ago (default an hour): a write in flight — in this page or
   * another tab — has chunks no meta names yet, and commits them later.
   */
  async sweep(graceMs = 60 * 60 * 1000): Promise<number> {
    const all = await keys<string>(this.store);
    const owned = new Set<string>();
    for (const k of all) if (k.startsWith('meta:')) owned.add((await get<Meta>(k, this.store))!.id);
    const before = Date.now() - graceMs;
    // A writer's id begins with its start time in base 36 (see writer()); ids written before
    // the separator began with the same 8 digits.
    const old = (id: string) => parseInt(id.includes('-') ? id.split('-')[0]! : id.slice(0, 8), 36) < before;
    const orphans = all.filter((k) => {
      if (!k.startsWith('chunk:')) return false;
      const id = k.split(':')[1]!;
      return !owned.has(id) && old(id);
    });
    await delMany(orphans, this.store);
    return orphans.length;
  }
}

/**
 * Read `buf.length` bytes at `offset` of a blob of `size` bytes kept as IDB_CHUNK-sized
 * chunks, `chunk(i)` giving the i-th (undefined stops the read short). Shared by the preloaded
 * reader here and the sync bridges' chunk cache.
 */
export function readChunked(chunk: (index: number) => Uint8Array | undefined, size: number, buf: Uint8Array, offset: number): number {
  let done = 0;
  while (done < buf.length && offset + done < size) {
    const pos = offset + done;
    const c = chunk(Math.floor(pos / IDB_CHUNK));
    if (!c) break;
    const inChunk = pos % IDB_CHUNK;
    const n = Math.min(buf.length - done, c.length - inChunk);
    if (n <= 0) break;
    buf.set(c.subarray(inChunk, inChunk + n), done);
    done += n;
  }
  return done;
}
