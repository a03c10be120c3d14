import { EXIT } from '../exit-codes.js';
import type { WorkerRun, WorkerRunOptions } from './host.js';
import { NO_STDIN, runContainer } from './run-container.js';

/**
 * A container start on the calling thread, for `strata run` attached to one container
 * without stdin or a time limit: no worker thread to boot, which is most of what a short run
 * costs. The program runs synchronously, so nothing here can interrupt it: `kill` does
 * nothing, and the CLI leaves SIGINT/SIGTERM to their default action (the process ends, and
 * the container reads as exited, 137, once its pid is gone). Traps and Strata's own errors
 * are caught as in a worker.
 */
export function runInProcess(options: WorkerRunOptions): WorkerRun {
  const done = runContainer(options.request, {
    stdin: NO_STDIN,
    send: options.onOutput,
    modules: options.modules,
  }).catch((e: Error) => ({ exitCode: EXIT.RUNTIME_ERROR, error: e.message }));
  return { done, kill: () => {} };
}
