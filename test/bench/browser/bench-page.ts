/**
 * The page side of `pnpm bench browser`: every measurement is one call the Node driver makes
 * with page.evaluate, so the driver decides the order (round-robin) and takes the medians.
 */
import { BrowserRuntime, jspiAvailable, type Bridge } from '@strata/runtime/browser';
import fsbenchUrl from '../../../packages/wasi/guests/bench/fsbench.wasm?url';
import { addImage } from '../../browser/src/test-image.js';

const workerUrl = new URL('../../../runtime/src/browser/container-worker.ts', import.meta.url);
const readerUrl = new URL('../../../runtime/src/browser/idb-reader-worker.ts', import.meta.url);
const fsbench = fetch(fsbenchUrl).then(async (r) => new Uint8Array(await r.arrayBuffer()));

const runtimes = new Map<Bridge, Promise<BrowserRuntime>>();

/** One runtime per bridge, with the fsbench image (/fsbench.wasm, /scratch) and hello. */
function runtime(bridge: Bridge): Promise<BrowserRuntime> {
  let rt = runtimes.get(bridge);
  if (!rt) {
    rt = (async () => {
      const r = BrowserRuntime.open({ dbName: `bench-${bridge}-${Date.now()}`, workerUrl, readerUrl, bridge });
      await addImage(r, 'fsbench:1', ['/fsbench.wasm'], [
        { name: 'scratch/', mode: 0o777 },
        { name: 'fsbench.wasm', mode: 0o755, data: await fsbench },
      ]);
      await r.loadLayout('/hello/image');
      return r;
    })();
    runtimes.set(bridge, rt);
  }
  return rt;
}

export interface RunResult {
  stdout: string;
  /** start() called → promise settled, ms: worker, compile, run, upper saved to IndexedDB. */
  wallMs: number;
}

async function strata(bridge: Bridge, args: string[]): Promise<RunResult> {
  const rt = await runtime(bridge);
  const c = await rt.create('fsbench:1', { args });
  const t0 = performance.now();
  const r = await rt.start(c.id);
  const wallMs = performance.now() - t0;
  await rt.remove(c.id);
  if (r.exitCode !== 0) throw new Error(`strata (${bridge}): exit ${r.exitCode}: ${r.error ?? r.stderr}`);
  return { stdout: r.stdout, wallMs };
}

async function shim(args: string[]): Promise<RunResult> {
  const wasm = await fsbench;
  const t0 = performance.now();
  const worker = new Worker(new URL('./shim-worker.ts', import.meta.url), { type: 'module' });
  const r = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    worker.onmessage = (e) => resolve(e.data);
    worker.onerror = (e) => resolve({ code: 125, stdout: '', stderr: e.message });
    worker.postMessage({ wasm: wasm.slice(), args });
  });
  const wallMs = performance.now() - t0;
  worker.terminate();
  if (r.code !== 0) throw new Error(`browser_wasi_shim: exit ${r.code}: ${r.stderr}`);
  return { stdout: r.stdout, wallMs };
}

/** Warm start: image in IndexedDB, worker code cached; start() → the first byte of output. */
async function warmStart(bridge: Bridge): Promise<number> {
  const rt = await runtime(bridge);
  const c = await rt.create('strata-hello', { args: ['bench'] });
  const t0 = performance.now();
  let first = 0;
  await rt.start(c.id, { onOutput: () => (first ||= performance.now()) });
  await rt.remove(c.id);
  return first - t0;
}

/** Cold load: the demo image from its static OCI layout into an empty IndexedDB database. */
async function coldLoad(): Promise<number> {
  const rt = BrowserRuntime.open({ dbName: `bench-cold-${Date.now()}-${Math.random()}`, workerUrl, readerUrl });
  const t0 = performance.now();
  await rt.loadLayout('/hello/image');
  return performance.now() - t0;
}

const api = {
  strata, shim, warmStart, coldLoad,
  env: () => ({ userAgent: navigator.userAgent, crossOriginIsolated, jspi: jspiAvailable() }),
};
(window as unknown as { strataBench: typeof api }).strataBench = api;
