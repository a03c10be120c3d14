/**
 * stdin for a container: a single-producer single-consumer byte ring in a SharedArrayBuffer.
 * The host (main thread) writes what it reads from the user's stdin; the WASI layer in the
 * worker reads synchronously, blocking in `Atomics.wait` when the ring is empty, because
 * WASI's fd_read is synchronous and the worker has no event loop turn to wait for a message.
 *
 * Layout (Int32 header, then data):
 *   [0] write index (total bytes ever written, wrapping int32) — host stores, worker loads
 *   [1] read index  (total bytes ever read, wrapping int32)    — worker stores, host loads
 *   [2] closed: 1 once the host saw end of input            — host stores
 *   [3] unused (alignment)
 *   bytes 16.. : `capacity` data bytes (a power of two); position = index & (capacity - 1),
 *   fill = (write - read) | 0, both exact across int32 wrap-around
 * Both sides `Atomics.notify` on the header after storing so the other can wake.
 */
const HEADER = 16;
const W = 0;
const R = 1;
const CLOSED = 2;

export function createStdinRing(capacity = 64 * 1024): SharedArrayBuffer {
  if (capacity <= 0 || (capacity & (capacity - 1)) !== 0) throw new RangeError('stdin ring capacity must be a power of two');
  return new SharedArrayBuffer(HEADER + capacity);
}

/** The host's end: write bytes (waiting asynchronously when full), then close. */
export class StdinWriter {
  private readonly header: Int32Array;
  private readonly data: Uint8Array;

  constructor(sab: SharedArrayBuffer) {
    this.header = new Int32Array(sab, 0, 4);
    this.data = new Uint8Array(sab, HEADER);
  }

  private abandoned = false;

  /** Write all of `bytes`; resolves once they are in the ring (or the reader is gone). */
  async write(bytes: Uint8Array): Promise<void> {
    let off = 0;
    while (off < bytes.length && !this.abandoned) {
      const w = Atomics.load(this.header, W);
      const r = Atomics.load(this.header, R);
      const free = this.data.length - ((w - r) | 0);
      if (free === 0) {
        // Full: wait for the reader to move (waitAsync keeps the main thread responsive).
        const res = waitAsync(this.header, R, r, 1000);
        if (res.async) await res.value;
        continue;
      }
      const at = w & (this.data.length - 1);
      const n = Math.min(free, bytes.length - off, this.data.length - at);
      this.data.set(bytes.subarray(off, off + n), at);
      Atomics.store(this.header, W, (w + n) | 0);
      Atomics.notify(this.header, W);
      off += n;
    }
  }

  close(): void {
    Atomics.store(this.header, CLOSED, 1);
    Atomics.notify(this.header, W);
  }

  /** The reader is gone (the program exited): a write waiting for room returns now. */
  abandon(): void {
    this.abandoned = true;
  }
}

/** How long a reader waits for bytes before it looks at the closed flag again. */
const CLOSE_RECHECK_MS = 50;

/** The worker's end: synchronous, as WASI needs. */
export class StdinReader {
  private readonly header: Int32Array;
  private readonly data: Uint8Array;

  constructor(sab: SharedArrayBuffer) {
    this.header = new Int32Array(sab, 0, 4);
    this.data = new Uint8Array(sab, HEADER);
  }

  /** Bytes available now, or true at end of input: what poll_oneoff asks. */
  ready(): boolean {
    return Atomics.load(this.header, W) !== Atomics.load(this.header, R) || Atomics.load(this.header, CLOSED) === 1;
  }

  /** Block until a read would not (data, or the end of input) or `timeoutMs` passes; true if it would not. */
  wait(timeoutMs: number): boolean {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const w = Atomics.load(this.header, W);
      if (this.ready()) return true;
      const left = deadline - performance.now();
      if (left <= 0) return false;
      Atomics.wait(this.header, W, w, Math.min(left, CLOSE_RECHECK_MS));
    }
  }

  /** Read up to `buf.length` bytes, blocking until some arrive; 0 at end of input. */
  read(buf: Uint8Array): number {
    for (;;) {
      const w = Atomics.load(this.header, W);
      const r = Atomics.load(this.header, R);
      if (w !== r) {
        const avail = (w - r) | 0;
        const at = r & (this.data.length - 1);
        const n = Math.min(avail, buf.length, this.data.length - at);
        buf.set(this.data.subarray(at, at + n));
        Atomics.store(this.header, R, (r + n) | 0);
        Atomics.notify(this.header, R);
        return n;
      }
      if (Atomics.load(this.header, CLOSED) === 1) return 0;
      // A close between the check above and this wait changes nothing the wait watches (W
      // stays): bounded, so the reader sees it at the next look.
      Atomics.wait(this.header, W, w, CLOSE_RECHECK_MS);
    }
  }
}

/** Atomics.waitAsync (Node 16+, every current browser; not yet in TypeScript's ES2023 lib). */
type WaitAsync = (a: Int32Array, i: number, v: number, t: number) => { async: boolean; value: Promise<string> | string };
const waitAsync = (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync;
