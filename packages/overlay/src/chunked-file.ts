import type { BlobReader } from '@strata/store';

/**
 * The contents of an upper file: fixed-size chunks owned by the upper, over an optional
 * read-only base (the lower blob the file was copied up from).
 *
 * This is what makes copy-up cheap. The kernel's overlayfs copies a whole lower file into
 * the upper on the first write; here copy-up only records the base, and a write allocates
 * (and, for a partial chunk, fills from the base) just the chunks it touches. The first
 * 1-byte write into a 1 GiB lower file therefore costs one chunk.
 *
 * Appends are amortised O(1): the chunk at the end of file is written in place, growing by
 * doubling up to CHUNK_SIZE, so a small file costs about its size, not a whole chunk.
 * Invariant: bytes of a chunk's range beyond its allocated length read as zeros (a chunk
 * made over the lower blob is allocated to cover all the blob bytes in its range).
 */
export const CHUNK_SIZE = 64 * 1024;

export class ChunkedFile {
  /**
   * Owned chunks by index. A map, not an array: an index past 2^32 − 1 (an offset past
   * 256 TiB) is no array index, and loops over a sparse file's chunks must not walk every
   * index up to the highest written (a write at 128 TiB made saving the upper take a minute).
   */
  private readonly chunks = new Map<number, Uint8Array>();
  /** Bytes of the base still visible: shrinks on truncate so re-extending reads zeros. */
  private baseLimit: number;
  private _size: number;

  constructor(private readonly base?: BlobReader, size = base?.size ?? 0) {
    this.baseLimit = base ? Math.min(base.size, size) : 0;
    this._size = size;
  }

  get size(): number {
    return this._size;
  }

  /** Bytes held by the upper (for accounting and tests): whole chunks. */
  get ownedBytes(): number {
    let n = 0;
    for (const c of this.chunks.values()) n += c.length;
    return n;
  }

  /** How many chunks the upper owns (written or copied up). */
  get ownedChunkCount(): number {
    return this.chunks.size;
  }

  /** True when every byte lives in the upper (no base needed any more). */
  get detached(): boolean {
    if (this.baseLimit === 0) return true;
    const last = Math.ceil(this.baseLimit / CHUNK_SIZE);
    for (let i = 0; i < last; i++) if (!this.chunks.has(i)) return false;
    return true;
  }

  read(buf: Uint8Array, position: number): number {
    if (position >= this._size || buf.length === 0) return 0;
    const end = Math.min(this._size, position + buf.length);
    let pos = position;
    while (pos < end) {
      const index = Math.floor(pos / CHUNK_SIZE);
      const inChunk = pos - index * CHUNK_SIZE;
      const n = Math.min(CHUNK_SIZE - inChunk, end - pos);
      const out = buf.subarray(pos - position, pos - position + n);
      const chunk = this.chunks.get(index);
      if (chunk) {
        const have = Math.max(0, Math.min(n, chunk.length - inChunk));
        if (have > 0) out.set(chunk.subarray(inChunk, inChunk + have));
        if (have < n) out.fill(0, have);
      } else {
        this.readBase(out, pos);
      }
      pos += n;
    }
    return end - position;
  }

  write(data: Uint8Array, position: number): number {
    const end = position + data.length;
    if (position > this._size) this.zeroTail();
    let pos = position;
    while (pos < end) {
      const index = Math.floor(pos / CHUNK_SIZE);
      const inChunk = pos - index * CHUNK_SIZE;
      const n = Math.min(CHUNK_SIZE - inChunk, end - pos);
      this.ownChunk(index, inChunk + n).set(data.subarray(pos - position, pos - position + n), inChunk);
      pos += n;
    }
    if (end > this._size) this._size = end;
    return data.length;
  }

  append(data: Uint8Array): number {
    this.write(data, this._size);
    return this._size;
  }

  truncate(size: number): void {
    if (size < this._size) {
      this._size = size;
      this.baseLimit = Math.min(this.baseLimit, size);
      const keep = Math.ceil(size / CHUNK_SIZE);
      for (const [i, c] of this.chunks) {
        if (i < keep) continue;
        recycleChunk(c);
        this.chunks.delete(i);
      }
      this.zeroTail();
    } else {
      this.zeroTail();
      this._size = size;
    }
  }

  /** Every chunk, in order, for serialisation: owned ones as bytes, others read through. */
  *extents(): Generator<Uint8Array> {
    for (let pos = 0; pos < this._size; pos += CHUNK_SIZE) {
      const n = Math.min(CHUNK_SIZE, this._size - pos);
      const chunk = this.chunks.get(pos / CHUNK_SIZE);
      if (chunk && chunk.length >= n) yield chunk.subarray(0, n);
      else {
        const out = new Uint8Array(n);
        this.read(out, pos);
        yield out;
      }
    }
  }

  /** Owned chunks as (index, bytes), for persisting only what the upper holds. */
  *ownedChunks(): Generator<[number, Uint8Array]> {
    yield* [...this.chunks].sort(([a], [b]) => a - b);
  }

  /**
   * The file is gone (its last name removed and no descriptor open): its chunks go back to
   * the allocator for the next files' writes. Nothing may read this file afterwards.
   */
  release(): void {
    for (const c of this.chunks.values()) recycleChunk(c);
    this.chunks.clear();
    this._size = 0;
    this.baseLimit = 0;
  }

  /** Restore an owned chunk (used when a persisted upper is loaded). */
  setChunk(index: number, bytes: Uint8Array): void {
    this.chunks.set(index, bytes.slice(0, CHUNK_SIZE));
  }

  get visibleBase(): number {
    return this.baseLimit;
  }

  /** Restore the base limit (used when a persisted upper is loaded). */
  setBaseLimit(limit: number): void {
    this.baseLimit = Math.min(limit, this.base?.size ?? 0);
  }

  /** The bytes past the end of file inside the last chunk must read as zeros once extended. */
  private zeroTail(): void {
    const index = Math.floor(this._size / CHUNK_SIZE);
    const chunk = this.chunks.get(index);
    if (chunk) chunk.fill(0, Math.min(chunk.length, this._size - index * CHUNK_SIZE));
    this.baseLimit = Math.min(this.baseLimit, this._size);
  }

  /** The chunk at `index`, owned, with at least `needed` bytes allocated. */
  private ownChunk(index: number, needed: number): Uint8Array {
    const chunk = this.chunks.get(index);
    if (chunk && chunk.length >= needed) return chunk;
    const start = index * CHUNK_SIZE;
    const fromBase = chunk ? 0 : Math.max(0, Math.min(CHUNK_SIZE, this.baseLimit - start));
    let capacity = Math.max(needed, fromBase, chunk ? chunk.length * 2 : MIN_CHUNK);
    capacity = Math.min(CHUNK_SIZE, 2 ** Math.ceil(Math.log2(capacity)));
    const grown = allocChunk(capacity);
    if (chunk) {
      grown.set(chunk);
      recycleChunk(chunk);
    }
    else if (fromBase > 0) this.readBase(grown.subarray(0, fromBase), start);
    this.chunks.set(index, grown);
    return grown;
  }

  private readBase(out: Uint8Array, position: number): void {
    const fromBase = Math.max(0, Math.min(out.length, this.baseLimit - position));
    let done = 0;
    if (fromBase > 0 && this.base) {
      while (done < fromBase) {
        const n = this.base.readAt(out.subarray(done, fromBase), position + done);
        if (n === 0) break;
        done += n;
      }
    }
    out.fill(0, done);
  }
}

/**
 * Chunks are carved out of slabs instead of each getting an ArrayBuffer of its own: a new
 * ArrayBuffer is a malloc, external-memory accounting and a finaliser for the garbage
 * collector, which dominated a workload of many small files. Full chunks come from 1 MiB
 * slabs (a 64 MiB file is 64 buffers for the engine to track instead of 1,024); small ones
 * (a growing file's first chunk, up to 16 KiB) from 256 KiB slabs. A slab lives while any of
 * its chunks does, free ones included (below).
 */
const SLAB = 16 * CHUNK_SIZE;
let slab: Uint8Array | undefined;
let slabUsed = SLAB;

const SMALL_MAX = 16 * 1024;
const SMALL_SLAB = 256 * 1024;
let small: Uint8Array | undefined;
let smallUsed = SMALL_SLAB;

/**
 * Chunks of files that are gone (last name unlinked with no descriptor open, cut off by
 * truncate, or outgrown by their file) are reused for the next chunks of the same size
 * instead of being left to the garbage collector. New memory costs a page fault and the
 * kernel's zeroing per 4 KiB page on its first write, which was most of the time of writing
 * a big file; the kernel's own page cache does the same recycling (a deleted tmpfs file's
 * pages serve the next file's writes). A reused chunk is zeroed (a hole in it must read as
 * zeros). Bounded, and dropped when it has not been drawn from for a few seconds, so a
 * process that once deleted a big file does not keep its memory.
 */
const MIN_CHUNK = 256;
/** Free chunks by size class: 256 B, 512 B, ... CHUNK_SIZE (capacities are powers of two). */
const freeLists: Uint8Array[][] = [];
for (let size = MIN_CHUNK; size <= CHUNK_SIZE; size *= 2) freeLists.push([]);
const FREE_MAX_BYTES = 128 * 2 ** 20;
const FREE_IDLE_MS = 5000;
let freeBytes = 0;
let freeDrawn = false;
let freeTimer: unknown;

function sizeClass(size: number): number {
  return Math.clz32(MIN_CHUNK) - Math.clz32(size);
}

function recycleChunk(chunk: Uint8Array | undefined): void {
  if (!chunk) return;
  const n = chunk.length;
  if (n < MIN_CHUNK || n > CHUNK_SIZE || (n & (n - 1)) !== 0 || freeBytes + n > FREE_MAX_BYTES) return;
  freeLists[sizeClass(n)]!.push(chunk);
  freeBytes += n;
  if (freeTimer === undefined) scheduleFreeDrain();
}

function scheduleFreeDrain(): void {
  freeDrawn = false;
  const timer = setTimeout(() => {
    freeTimer = undefined;
    if (freeDrawn) return scheduleFreeDrain();
    for (const list of freeLists) list.length = 0;
    freeBytes = 0;
  }, FREE_IDLE_MS) as { unref?: () => void };
  // In Node the timer must not keep the process alive for memory nobody will ask for.
  timer.unref?.();
  freeTimer = timer;
}

/** A zeroed chunk of `capacity` bytes, a power of two from MIN_CHUNK to CHUNK_SIZE. */
function allocChunk(capacity: number): Uint8Array {
  const reused = freeLists[sizeClass(capacity)]!.pop();
  if (reused) {
    freeBytes -= capacity;
    freeDrawn = true;
    return reused.fill(0);
  }
  if (capacity === CHUNK_SIZE) {
    if (slabUsed === SLAB) {
      slab = new Uint8Array(SLAB);
      slabUsed = 0;
    }
    // A view made directly: cheaper than subarray(), which goes through the species lookup.
    const chunk = new Uint8Array(slab!.buffer, slabUsed, CHUNK_SIZE);
    slabUsed += CHUNK_SIZE;
    return chunk;
  }
  if (capacity > SMALL_MAX) return new Uint8Array(capacity);
  if (smallUsed + capacity > SMALL_SLAB) {
    small = new Uint8Array(SMALL_SLAB);
    smallUsed = 0;
  }
  const chunk = new Uint8Array(small!.buffer, smallUsed, capacity);
  smallUsed += capacity;
  return chunk;
}
