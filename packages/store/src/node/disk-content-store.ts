import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  closeSync, createReadStream, existsSync, fstatSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync,
  readSync, renameSync, rmSync, statSync, unlinkSync, writeSync,
} from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { prehashedDigest, type ContentBatch, type ContentStore, type ContentWriter, type WriterOptions } from '../content-store.js';
import { DigestMismatchError, NotFoundError, StorageFullError } from '../errors.js';
import { isDigest } from '../hash.js';
import type { BlobReader, Digest, DigestAlgorithm } from '../types.js';
import type { LayerSource } from '../import/import-layer.js';
import { syncDir } from './atomic-file.js';
import { layerFile } from './layer-file.js';
import { nodeSha256 } from './hash.js';
import { processAlive } from './process-id.js';

/**
 * Blobs on disk, as containerd lays them out: `<root>/blobs/<algorithm>/<hex>`, written through
 * `<root>/ingest/<random>` (write, fsync, rename; a batch syncs many at once, see `batch`):
 * a blob is either complete and verified or not there at all, whatever moment a crash
 * comes. What a crash leaves in `ingest/` is removed, before a write, once nothing has written
 * to it for an hour. Reads for the overlay are synchronous (`readSync` on a cached descriptor).
 */
export class DiskContentStore implements ContentStore {
  /** `<root>/blobs`, with a directory per algorithm. */
  private readonly blobs: string;
  private readonly ingest: string;
  /** Open descriptors by digest, least recently used first. */
  private readonly fds = new Map<Digest, number>();
  private swept = false;
  /**
   * Ingest names: `<pid>.<random>-<n>`, unique to this store object, so other processes
   * writing to the same store never collide (`wx` would refuse it anyway), cheaper than
   * random bytes per file — a layer writes thousands — and naming the process that owns
   * them (see removeStaleIngest).
   */
  private readonly ingestPrefix = `${process.pid}.${randomBytes(6).toString('hex')}`;
  private ingestCount = 0;

  constructor(readonly root: string, private readonly maxOpenFiles = 128) {
    this.blobs = join(root, 'blobs');
    this.ingest = join(root, 'ingest');
    for (const algorithm of ALGORITHMS) mkdirSync(join(this.blobs, algorithm), { recursive: true });
    mkdirSync(this.ingest, { recursive: true });
  }

  /**
   * Writes a crash cut short: untouched for an hour (a live download keeps writing) and not
   * of a process still running (a batch's files wait, untouched, until its flush). Swept
   * before this store's first write, so a store that only reads (a container's) never lists
   * `ingest/`.
   */
  private removeStaleIngest(): void {
    if (this.swept) return;
    this.swept = true;
    const before = Date.now() - STALE_INGEST_MS;
    for (const name of readdirSync(this.ingest)) {
      // Named by the process that writes it: a live one's may wait long in a batch (an
      // import over an hour) untouched.
      const pid = Number(name.split('.')[0]);
      if (Number.isInteger(pid) && pid > 0 && processAlive(pid)) continue;
      const p = join(this.ingest, name);
      try {
        if (statSync(p).mtimeMs < before) rmSync(p, { force: true });
      } catch {
        // Finished by its writer meanwhile.
      }
    }
  }

  path(digest: Digest): string {
    if (!isDigest(digest)) throw new NotFoundError(`not a digest: ${digest}`);
    return join(this.blobs, digest.slice(0, 6), digest.slice(7));
  }

  async has(digest: Digest): Promise<boolean> {
    return isDigest(digest) && existsSync(this.path(digest));
  }

  async get(digest: Digest): Promise<Uint8Array> {
    try {
      return new Uint8Array(readFileSync(this.path(digest)));
    } catch (e) {
      throw notFound(e, digest);
    }
  }

  /** The blob for `importLayer`, read from its file (see layerFile). */
  source(digest: Digest): LayerSource {
    if (!existsSync(this.path(digest))) throw new NotFoundError(`blob ${digest} not found`);
    return layerFile(this.path(digest));
  }

  stream(digest: Digest): ReadableStream<Uint8Array> {
    if (!existsSync(this.path(digest))) throw new NotFoundError(`blob ${digest} not found`);
    return Readable.toWeb(createReadStream(this.path(digest), { highWaterMark: 1 << 20 })) as ReadableStream<Uint8Array>;
  }

  async put(data: Uint8Array, expected?: Digest): Promise<Digest> {
    const w = await this.writer();
    await w.write(data);
    return w.commit(expected);
  }

  async writer(options: WriterOptions = {}): Promise<ContentWriter> {
    return this.openWriter(options);
  }

  /**
   * A layer's files without a sync each: they wait in `ingest/`, written and closed, and
   * `flush` makes them all durable at once, moves them into place and syncs the blob
   * directory once. On ext4 a 2,000-file layer had spent a third of its import in per-file
   * fsyncs (containers/storage makes the same trade with syncfs(2) after applying a layer).
   */
  batch(): ContentBatch {
    const pending = new Map<Digest, string>();
    let active = true;
    const removeAll = () => {
      for (const tmp of pending.values()) rmSync(tmp, { force: true });
      pending.clear();
    };
    return {
      writer: async (options: WriterOptions = {}) => {
        if (!active) throw new Error('content batch already finished');
        return this.openWriter(options, pending);
      },
      holds: (digest) => pending.has(digest),
      flush: async () => {
        if (!active) throw new Error('content batch already finished');
        active = false;
        try {
          await syncFiles(this.ingest, [...pending.values()]);
        } catch (e) {
          removeAll();
          throw e;
        }
        const algorithms = new Set([...pending.keys()].map((d) => d.slice(0, 6)));
        // A blob another writer stored meanwhile is replaced by the same bytes, verified by
        // the same digest; descriptors open on it keep reading the old, identical file.
        for (const [digest, tmp] of pending) renameSync(tmp, this.path(digest));
        pending.clear();
        for (const algorithm of algorithms) syncDir(join(this.blobs, algorithm));
      },
      discard: async () => {
        active = false;
        removeAll();
      },
    };
  }

  /** A writer that syncs and publishes at commit, or, in a batch, leaves both to its flush. */
  private openWriter(options: WriterOptions, batch?: Map<Digest, string>): ContentWriter {
    this.removeStaleIngest();
    const tmp = join(this.ingest, `${this.ingestPrefix}-${(this.ingestCount++).toString(36)}`);
    const fd = openSync(tmp, 'wx', 0o644);
    const h = options.prehashed ? undefined : nodeSha256();
    let written = 0;
    let done = false;
    let existed = false;
    const finish = () => {
      done = true;
      closeSync(fd);
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
        let off = 0;
        try {
          while (off < chunk.length) off += writeSync(fd, chunk, off, chunk.length - off);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === 'ENOSPC') throw new StorageFullError('no space left for the blob', { cause: e });
          throw e;
        }
        written += chunk.length;
      },
      commit: async (expected) => {
        if (done) throw new Error('content writer already finished');
        const given = h ? undefined : prehashedDigest(expected);
        try {
          try {
            // In a batch the flush syncs every blob at once.
            if (!batch) fsyncSync(fd);
          } finally {
            finish();
          }
          const digest = given ?? h!.digest();
          if (expected !== undefined && expected !== digest) throw new DigestMismatchError(expected, digest);
          const target = this.path(digest);
          // In a batch, a blob the store holds already is renamed over at the flush: a lookup
          // per blob here cost more than that (~4 us each, thousands per layer).
          existed = batch ? batch.has(digest) : existsSync(target);
          if (existed) unlinkSync(tmp);
          else if (batch) batch.set(digest, tmp);
          else {
            renameSync(tmp, target);
            // Durable at commit, as a store without a batch promises: the rename too.
            syncDir(join(this.blobs, digest.slice(0, 6)));
          }
          return digest;
        } catch (e) {
          // A failed commit leaves nothing in ingest/ (abort after it has nothing to do).
          rmSync(tmp, { force: true });
          throw e;
        }
      },
      abort: async () => {
        if (done) return;
        finish();
        try {
          unlinkSync(tmp);
        } catch {
          // already gone
        }
      },
    };
  }

  async delete(digest: Digest): Promise<void> {
    const fd = this.fds.get(digest);
    if (fd !== undefined) {
      closeSync(fd);
      this.fds.delete(digest);
    }
    try {
      unlinkSync(this.path(digest));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
  }

  async *list(): AsyncIterable<Digest> {
    for (const algorithm of ALGORITHMS) {
      for (const name of readdirSync(join(this.blobs, algorithm))) {
        const d = `${algorithm}:${name}` as const;
        if (isDigest(d)) yield d;
      }
    }
  }

  async size(digest: Digest): Promise<number> {
    try {
      return statSync(this.path(digest)).size;
    } catch (e) {
      throw notFound(e, digest);
    }
  }

  reader(ref: { digest: Digest; size: number }): BlobReader {
    const fd = this.fd(ref.digest);
    const size = fstatSync(fd).size;
    return {
      size,
      readAt: (buf, offset) => {
        if (offset >= size) return 0;
        return readSync(this.fd(ref.digest), buf, 0, Math.min(buf.length, size - offset), offset);
      },
    };
  }

  /** Close cached descriptors (tests, shutdown). */
  close(): void {
    for (const fd of this.fds.values()) closeSync(fd);
    this.fds.clear();
  }

  private fd(digest: Digest): number {
    let fd = this.fds.get(digest);
    if (fd !== undefined) {
      this.fds.delete(digest);
      this.fds.set(digest, fd);
      return fd;
    }
    try {
      fd = openSync(this.path(digest), 'r');
    } catch (e) {
      throw notFound(e, digest);
    }
    this.fds.set(digest, fd);
    while (this.fds.size > this.maxOpenFiles) {
      const [oldest, ofd] = this.fds.entries().next().value as [Digest, number];
      closeSync(ofd);
      this.fds.delete(oldest);
    }
    return fd;
  }
}

/**
 * Make `paths` (files in `dir`) durable. A few files: an fsync each, several at a time so
 * the file system can commit them together. Many: one syncfs(2) of the file system holding
 * them (coreutils `sync -f`; Node has no binding), which on ext4 took a 2,000-file layer
 * from 2.09 s to 1.17 s — but a process costs a fork of this one, ~7 ms while a pull holds a
 * few hundred MB, more than ten fsyncs, and an image pull flushes a batch per layer.
 */
async function syncFiles(dir: string, paths: string[]): Promise<void> {
  if (paths.length === 0) return;
  if (paths.length > FSYNC_EACH_MAX) {
    try {
      await execFileAsync('sync', ['-f', dir]);
      return;
    } catch {
      // No coreutils sync, or one without -f.
    }
  }
  let next = 0;
  const one = async (): Promise<void> => {
    while (next < paths.length) {
      const fh = await open(paths[next++]!, 'r');
      try {
        await fh.sync();
      } finally {
        await fh.close();
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(8, paths.length) }, one));
}

/** Up to this many files a batch is synced file by file (see syncFiles). */
const FSYNC_EACH_MAX = 64;
const execFileAsync = promisify(execFile);
const STALE_INGEST_MS = 60 * 60 * 1000;
/** Both names are six letters: a digest's directory is its first six characters. */
const ALGORITHMS = ['sha256', 'blake3'] as const satisfies readonly DigestAlgorithm[];

function notFound(e: unknown, digest: Digest): Error {
  if ((e as NodeJS.ErrnoException).code === 'ENOENT') return new NotFoundError(`blob ${digest} not found`, { cause: e });
  return e as Error;
}
