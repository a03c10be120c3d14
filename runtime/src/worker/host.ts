import { MessageChannel, type Worker } from 'node:worker_threads';
import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { EXIT } from '../exit-codes.js';
import { OutputLimit } from '../output-limit.js';
import type { ModuleCache } from '../module-cache.js';
import { createStdinRing, StdinWriter } from '../stdin-ring.js';
import { startWorker } from '../worker-url.js';
import type { ContainerWorkerApi, OutputMessage, RunRequest, RunResult } from './protocol.js';

export interface WorkerRunOptions {
  request: Omit<RunRequest, 'output' | 'outputCredit' | 'stdin' | 'modules'>;
  /** The program's stdin; absent: empty. */
  stdin?: AsyncIterable<Uint8Array>;
  /** Output of the container; a promise holds the container's further output until it settles. */
  onOutput(stream: 'stdout' | 'stderr', bytes: Uint8Array): void | Promise<void>;
  modules: ModuleCache;
  timeoutMs?: number;
  /** Kill the program once stdout + stderr pass this many bytes (what passed is delivered). */
  outputLimit?: number;
}

export interface WorkerRun {
  /** Settles once the program ended (or was killed) and all its output was delivered. */
  done: Promise<RunResult & { killed?: 'kill' | 'timeout' | 'output' }>;
  /** Stop the program now: the worker is terminated, nothing of this run is persisted. */
  kill(): void;
}

const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';

interface PooledWorker {
  worker: Worker;
  remote: Comlink.Remote<ContainerWorkerApi>;
}

/**
 * Warm workers kept between container runs. Starting a worker thread (an isolate plus the
 * overlay, WASI and store code) costs tens of milliseconds; a container that exited normally
 * leaves its worker here for the next one. A worker that was killed, timed out or failed is
 * never reused. Idle workers do not keep the process alive.
 */
class WorkerPool {
  private readonly idle: PooledWorker[] = [];

  constructor(private readonly max: number) {}

  acquire(): PooledWorker {
    const w = this.idle.pop();
    if (w) {
      w.worker.ref();
      return w;
    }
    const worker = startWorker(new URL(`./container-worker${ext}`, import.meta.url), {
      // JS heap of the worker (the overlay upper, WASI tables); linear memory is capped
      // separately by --memory.
      resourceLimits: { maxOldGenerationSizeMb: 1024 },
    });
    return { worker, remote: Comlink.wrap<ContainerWorkerApi>(nodeEndpoint(worker)) };
  }

  /** Start a worker now and keep it idle, so its boot overlaps whatever comes before a run. */
  prewarm(): void {
    if (this.idle.length > 0) return;
    const w = this.acquire();
    w.worker.unref();
    this.idle.push(w);
  }

  release(w: PooledWorker, healthy: boolean): void {
    if (healthy && this.idle.length < this.max) {
      w.worker.unref();
      this.idle.push(w);
    } else {
      void w.worker.terminate();
    }
  }
}

const pool = new WorkerPool(4);

/**
 * Boot a container worker ahead of the next run (a worker takes tens of milliseconds to
 * start; `strata run` calls this first thing, so the boot overlaps opening the stores,
 * resolving the image and writing the container's records).
 */
export function prewarmWorker(): void {
  pool.prewarm();
}

/**
 * Run one container start in a worker thread (a warm one from the pool when there is one).
 * A crash, a trap or a kill ends that worker only; the process and every other container
 * go on.
 */
export function runInWorker(options: WorkerRunOptions): WorkerRun {
  const pooled = pool.acquire();
  const worker = pooled.worker;
  const { port1, port2 } = new MessageChannel();
  // The module cache, served to the worker on a channel of this run's own.
  const cacheChannel = new MessageChannel();
  Comlink.expose(options.modules, nodeEndpoint(cacheChannel.port1));
  type Outcome = RunResult & { killed?: 'kill' | 'timeout' | 'output' };
  let settle!: (r: Outcome) => void;
  const done = new Promise<Outcome>((res) => (settle = res));
  let finished = false;
  const finish = (r: Outcome, healthy = false) => {
    if (finished) return;
    finished = true;
    clearTimeout(timer);
    // A write waiting for room in the ring would wait for a reader that is gone.
    stdinWriter?.abandon();
    port1.close();
    cacheChannel.port1.close();
    worker.off('error', onError);
    worker.off('exit', onExit);
    pool.release(pooled, healthy);
    settle(r);
  };

  let result: RunResult | undefined;
  let ended = false;
  const maybeFinish = () => {
    if (result && ended) finish(result, true);
  };
  const output = new OutputLimit(options.outputLimit);
  const creditBuffer = new SharedArrayBuffer(4);
  const credit = new Int32Array(creditBuffer);
  /** Taken: the worker may post that many more bytes. */
  const took = (n: number) => {
    Atomics.sub(credit, 0, n);
    Atomics.notify(credit, 0);
  };
  port1.on('message', (m: OutputMessage) => {
    if ('end' in m) {
      ended = true;
      maybeFinish();
    } else if (!finished) {
      // Up to the limit is delivered; then the program is stopped, as --timeout stops it.
      const { pass, exceeded } = output.take(m.bytes);
      const taking = pass.length > 0 ? options.onOutput(m.stream, pass) : undefined;
      if (taking) void taking.then(() => took(m.bytes.length), () => took(m.bytes.length));
      else took(m.bytes.length);
      if (exceeded) finish({ exitCode: EXIT.KILLED, killed: 'output', error: output.message });
    }
  });

  let sab: SharedArrayBuffer | undefined;
  let stdinWriter: StdinWriter | undefined;
  if (options.stdin) {
    sab = createStdinRing();
    const writer = (stdinWriter = new StdinWriter(sab));
    void (async () => {
      try {
        for await (const chunk of options.stdin!) {
          if (finished) break;
          await writer.write(chunk);
        }
      } catch {
        // The input failed or was closed under us (the run ended and the CLI let go of its
        // stdin): the program sees end of input, nothing else is to be done.
      } finally {
        writer.close();
      }
    })();
  }

  const timer = options.timeoutMs !== undefined
    ? setTimeout(() => finish({ exitCode: EXIT.KILLED, killed: 'timeout', error: 'killed: the time limit ran out' }), options.timeoutMs)
    : undefined;

  const onError = (e: Error) => finish({ exitCode: EXIT.RUNTIME_ERROR, error: `the container's worker failed: ${e.message}` });
  const onExit = () => finish({ exitCode: EXIT.RUNTIME_ERROR, error: "the container's worker exited unexpectedly" });
  worker.on('error', onError);
  worker.on('exit', onExit);

  const remote = pooled.remote;
  const request: RunRequest = { ...options.request, output: port2, outputCredit: creditBuffer, modules: cacheChannel.port2, ...(sab ? { stdin: sab } : {}) };
  remote
    .run(Comlink.transfer(request, [port2 as unknown as Transferable, cacheChannel.port2 as unknown as Transferable]))
    .then((r) => {
      result = r;
      maybeFinish();
    })
    .catch((e: Error) => finish({ exitCode: EXIT.RUNTIME_ERROR, error: e.message }));

  return {
    done,
    kill: () => finish({ exitCode: EXIT.KILLED, killed: 'kill', error: 'killed' }),
  };
}
