import type { MessagePort } from 'node:worker_threads';
import type { BindMount } from '../options.js';

/**
 * The control plane between the runtime and a container's worker (comlink over
 * worker_threads). One worker runs one container start, then exits:
 *
 *   host                                   worker
 *   ─────                                  ──────
 *   startWorker(container-worker.ts)
 *   api.run(request, proxy(modules)) ──►   open stores, build the overlay (lowers + saved
 *                                           upper), mounts, find and compile the entrypoint
 *                                           (asking `modules` for a compiled copy first),
 *                                           run it under WASI; stdout/stderr chunks flow
 *   ◄── output port: {stream, bytes}        to the host as they are written
 *   ◄── RunResult {exitCode, upper}         the upper comes back as bytes to persist
 *   worker.terminate() on kill/timeout     (nothing is persisted: the old upper stands)
 */
export interface RunRequest {
  /** The Strata root: the worker opens the content and layer stores there itself. */
  root: string;
  /** The image's layers, bottom first. */
  diffIds: string[];
  /** The container's saved upper, if it ran before. */
  upper?: Uint8Array;
  argv: string[];
  env: string[];
  /** A wasm artifact's module (a content-store digest), run instead of a file of the rootfs. */
  moduleBlob?: string;
  workdir: string;
  mounts: BindMount[];
  memoryBytes?: number;
  /** stdin ring (see stdin-ring.ts); absent: stdin is empty. */
  stdin?: SharedArrayBuffer;
  /** The output port (transferred): receives OutputMessage messages. */
  output: MessagePort;
  /**
   * Output flow control: one Int32 counting the bytes posted on `output` that the host has
   * not taken yet. The worker adds what it posts and waits while OUTPUT_WINDOW bytes are out;
   * the host subtracts what it has taken (written to the log and to its own output) and
   * notifies. Without it a guest that writes faster than the host takes it filled the host's
   * memory (a few GB in seconds).
   */
  outputCredit: SharedArrayBuffer;
  /**
   * A port (transferred) on which the host exposes its ModuleCacheApi with comlink; the
   * host closes its end when the run is over (a pooled worker outlives the run).
   */
  modules: MessagePort;
}

/** Messages on the output port: chunks as the program writes them, then `end` once. */
export type OutputMessage = { stream: 'stdout' | 'stderr'; bytes: Uint8Array } | { end: true };

export interface RunResult {
  exitCode: number;
  /** The upper after the run, to persist; absent when the run never started. */
  upper?: Uint8Array;
  /** Why Strata could not run the program (exit codes 125–127). */
  error?: string;
}

/** Compiled modules shared across the workers of one process (the host keeps them). */
export interface ModuleCacheApi {
  get(key: string): WebAssembly.Module | undefined;
  put(key: string, module: WebAssembly.Module): void;
}

export interface ContainerWorkerApi {
  run(request: RunRequest): Promise<RunResult>;
}

/** Output bytes a worker may have posted that the host has not taken yet (see outputCredit). */
export const OUTPUT_WINDOW = 4 * 2 ** 20;
