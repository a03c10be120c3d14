import type { SyncFs } from '@strata/syncfs';
import type { FdTable } from './fd-table.js';
import type { GuestMemory } from './memory.js';

/** A synchronous byte source for stdin, with readiness for poll_oneoff. */
export interface StdinSource {
  /** Read up to `buf.length` bytes; may block; 0 at end of input. */
  read(buf: Uint8Array): number;
  /** True when a read would not block (data or end of input). Absent: always ready. */
  ready?(): boolean;
  /**
   * Block until ready or `timeoutMs` passes; true if ready. Absent: poll_oneoff sleeps the
   * whole timeout and checks `ready` after (a SharedArrayBuffer-backed source can wake early).
   */
  wait?(timeoutMs: number): boolean;
  /**
   * For a source whose input comes on this thread's event loop (the JSPI bridge's): an error
   * for poll_oneoff to throw instead of blocking, which the WASI `suspend` option maps to a
   * promise that settles when input arrives or `timeoutMs` has passed; poll_oneoff then runs
   * again, its relative timeouts counted from its first run.
   */
  pending?(timeoutMs: number): Error;
}

/** stdout/stderr: each write's bytes, synchronously (copy them if you keep them). */
export type OutputSink = (bytes: Uint8Array) => void;

export interface Clock {
  /** Nanoseconds since the epoch. */
  realtime(): bigint;
  /** Nanoseconds from an arbitrary start, never going back. */
  monotonic(): bigint;
}

/** What every syscall sees. */
export interface WasiContext {
  mem: GuestMemory;
  fds: FdTable;
  args: string[];
  env: string[];
  stdin: StdinSource;
  stdout: OutputSink;
  stderr: OutputSink;
  clock: Clock;
  random: (buf: Uint8Array) => void;
  /** The container root (the `/` preopen), if there is one. */
  rootFs?: SyncFs;
  /** When a poll_oneoff that suspended first ran (monotonic ns): its run again counts from it. */
  pollStartedAt?: bigint;
}
