import { parentPort } from 'node:worker_threads';
import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { StdinReader } from '../stdin-ring.js';
import { OUTPUT_WINDOW, type ContainerWorkerApi, type ModuleCacheApi, type RunRequest, type RunResult } from './protocol.js';
import { NO_STDIN, runContainer } from './run-container.js';

/** A container worker thread: runs container starts the host sends (see protocol.ts). */
const api: ContainerWorkerApi = {
  async run(req: RunRequest): Promise<RunResult> {
    const modules = Comlink.wrap<ModuleCacheApi>(nodeEndpoint(req.modules));
    const out = req.output;
    const credit = new Int32Array(req.outputCredit);
    try {
      const { output: _o, modules: _m, stdin: _s, outputCredit: _c, ...request } = req;
      const r = await runContainer(request, {
        stdin: req.stdin ? new StdinReader(req.stdin) : NO_STDIN,
        send: (stream, bytes) => {
          const copy = bytes.slice();
          // Copied over, not transferred: a transferred buffer's memory is not counted where
          // it lands, so nothing hurried its collection there — a program writing 3 GB took
          // the host to 2 GB of dead buffers; copied, it stays near 120 MB.
          out.postMessage({ stream, bytes: copy });
          // The guest waits here (its thread is this one) while the host is a window behind.
          // A host that stops taking (the run was killed) terminates this worker.
          for (let outstanding = Atomics.add(credit, 0, copy.length) + copy.length; outstanding > OUTPUT_WINDOW;) {
            Atomics.wait(credit, 0, outstanding, 1000);
            outstanding = Atomics.load(credit, 0);
          }
        },
        modules,
      });
      return r.upper ? Comlink.transfer(r, [r.upper.buffer]) : r;
    } finally {
      modules[Comlink.releaseProxy]();
      req.modules.close();
      // Every chunk was posted before this marker; the host waits for it before finishing.
      out.postMessage({ end: true });
    }
  },
};

Comlink.expose(api, nodeEndpoint(parentPort!));
