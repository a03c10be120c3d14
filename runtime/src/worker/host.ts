import { MessageChannel } from 'node:worker_threads';
import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { EXIT } from '../exit-codes.js';
import type { ModuleCache } from '../module-cache.js';
import { createStdinRing, StdinWriter } from '../stdin-ring.js';
import { startWorker } from '../worker-url.js';
import type { ContainerWorkerApi, OutputMessage, RunRequest, RunResult } from './protocol.js';

export interface WorkerRunOptions {
  request: Omit<RunRequest, 'output' | 'stdin'>;
  /** The program's stdin; absent: empty. */
  stdin?: AsyncIterable<Uint8Array>;
  onOutput(stream: 'stdout' | 'stderr', bytes: Uint8Array): void;
  modules: ModuleCache;
  timeoutMs?: number;
}

export interface WorkerRun {
  /** Settles once the program ended (or was killed) and all its output was delivered. */
  done: Promise<RunResult & { killed?: 'kill' | 'timeout' }>;
  /** Stop the program now: the worker is terminated, nothing of this run is persisted. */
  kill(): void;
}

const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';

/**
 * Run one container start in its own worker thread. A crash, a trap or a kill ends that
 * worker only; the process (and every other container) goes on.
 */
export function runInWorker(options: WorkerRunOptions): WorkerRun {
  const worker = startWorker(new URL(`./container-worker${ext}`, import.meta.url), {
    // JS heap of the worker (the overlay upper, WASI tables); linear memory is capped
    // separately by --memory.
    resourceLimits: { maxOldGenerationSizeMb: 1024 },
  });
  const { port1, port2 } = new MessageChannel();
  let settle!: (r: RunResult & { killed?: 'kill' | 'timeout' }) => void;
  const done = new Promise<RunResult & { killed?: 'kill' | 'timeout' }>((res) => (settle = res));
  let finished = false;
  const finish = (r: RunResult & { killed?: 'kill' | 'timeout' }) => {
    if (finished) return;
    finished = true;
    clearTimeout(timer);
    port1.close();
    void worker.terminate();
    settle(r);
  };

  let result: RunResult | undefined;
  let ended = false;
  const maybeFinish = () => {
    if (result && ended) finish(result);
  };
  port1.on('message', (m: OutputMessage) => {
    if ('end' in m) {
      ended = true;
      maybeFinish();
    } else {
      options.onOutput(m.stream, m.bytes);
    }
  });

  let sab: SharedArrayBuffer | undefined;
  if (options.stdin) {
    sab = createStdinRing();
    const writer = new StdinWriter(sab);
    void (async () => {
      try {
        for await (const chunk of options.stdin!) {
          if (finished) break;
          await writer.write(chunk);
        }
      } finally {
        writer.close();
      }
    })();
  }

  const timer = options.timeoutMs !== undefined
    ? setTimeout(() => finish({ exitCode: EXIT.KILLED, killed: 'timeout', error: 'killed: the time limit ran out' }), options.timeoutMs)
    : undefined;

  worker.on('error', (e) => finish({ exitCode: EXIT.RUNTIME_ERROR, error: `the container's worker failed: ${e.message}` }));
  worker.on('exit', () => finish({ exitCode: EXIT.RUNTIME_ERROR, error: "the container's worker exited unexpectedly" }));

  const remote = Comlink.wrap<ContainerWorkerApi>(nodeEndpoint(worker));
  const request: RunRequest = { ...options.request, output: port2, ...(sab ? { stdin: sab } : {}) };
  remote
    .run(Comlink.transfer(request, [port2 as unknown as Transferable]), Comlink.proxy(options.modules) as unknown as ModuleCache)
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
