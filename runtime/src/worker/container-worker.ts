import { parentPort } from 'node:worker_threads';
import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { StdinReader } from '../stdin-ring.js';
import type { ContainerWorkerApi, ModuleCacheApi, RunRequest, RunResult } from './protocol.js';
import { NO_STDIN, runContainer } from './run-container.js';

/** A container worker thread: runs container starts the host sends (see protocol.ts). */
const api: ContainerWorkerApi = {
  async run(req: RunRequest): Promise<RunResult> {
    const modules = Comlink.wrap<ModuleCacheApi>(nodeEndpoint(req.modules));
    const out = req.output;
    try {
      const { output: _o, modules: _m, stdin: _s, ...request } = req;
      const r = await runContainer(request, {
        stdin: req.stdin ? new StdinReader(req.stdin) : NO_STDIN,
        send: (stream, bytes) => {
          const copy = bytes.slice();
          out.postMessage({ stream, bytes: copy }, [copy.buffer]);
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
