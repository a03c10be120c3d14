import type { StdinSource } from '@strata/wasi';

/** Thrown by MessageStdin.read when no input has arrived yet: the JSPI bridge waits on it. */
export class PendingStdin extends Error {
  override readonly name = 'PendingStdin';
  constructor(readonly arrival: Promise<void>) {
    super('waiting for stdin');
  }
}

/**
 * stdin for a container under the JSPI bridge: the page posts chunks to the worker as the
 * user types (`{kind: 'stdin'}` messages, then `stdin-end`). A read with nothing buffered
 * throws PendingStdin; the running WASI import suspends on it and reads again once a chunk
 * or the end arrives (a suspended wasm stack leaves the worker's event loop free to receive
 * them). Like the chunk misses of jspi-bridge.ts, nothing is consumed before the throw.
 */
export class MessageStdin implements StdinSource {
  private readonly chunks: Uint8Array[] = [];
  private closed = false;
  private wake: (() => void) | undefined;

  push(bytes: Uint8Array): void {
    if (bytes.length > 0) this.chunks.push(bytes);
    this.notify();
  }

  end(): void {
    this.closed = true;
    this.notify();
  }

  ready(): boolean {
    return this.chunks.length > 0 || this.closed;
  }

  read(buf: Uint8Array): number {
    if (this.chunks.length === 0) {
      if (this.closed) return 0;
      throw new PendingStdin(new Promise<void>((resolve) => (this.wake = resolve)));
    }
    const first = this.chunks[0]!;
    const n = Math.min(buf.length, first.length);
    buf.set(first.subarray(0, n));
    if (n === first.length) this.chunks.shift();
    else this.chunks[0] = first.subarray(n);
    return n;
  }

  /** For poll_oneoff (see StdinSource.pending): waits for input, or for `timeoutMs`. */
  pending(timeoutMs: number): Error {
    const arrival = new Promise<void>((resolve) => (this.wake = resolve));
    const limit = Number.isFinite(timeoutMs) ? new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, timeoutMs))) : arrival;
    return new PendingStdin(Promise.race([arrival, limit]));
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}
