/**
 * The page side of `pnpm bench browser`: every measurement is one call the Node driver makes
 * with page.evaluate, so the driver decides the order (round-robin) and takes the medians.
 */
import { sha256 } from '@noble/hashes/sha2';
import { BrowserRuntime, jspiAvailable, type Bridge } from '@strata/runtime/browser';
import { concatBytes, importLayer, MemoryContentStore, toHex, webBlake3, WebHashOffload, webSha256, type Digest, type HasherFactory } from '@strata/store';
import { TAR_END, tarHeader, tarPadding } from '../../../packages/store/src/tar-writer.js';
import fsbenchUrl from '../../../packages/wasi/guests/bench/fsbench.wasm?url';
import { addImage } from '../../browser/src/test-image.js';

const workerUrl = new URL('../../../runtime/src/browser/container-worker.ts', import.meta.url);
const readerUrl = new URL('../../../runtime/src/browser/idb-reader-worker.ts', import.meta.url);
const hashWorkerUrl = new URL('../../../runtime/src/browser/hash-worker.ts', import.meta.url);
const fsbench = fetch(fsbenchUrl).then(async (r) => new Uint8Array(await r.arrayBuffer()));

const runtimes = new Map<Bridge, Promise<BrowserRuntime>>();

/** One runtime per bridge, with the fsbench image (/fsbench.wasm, /scratch) and hello. */
function runtime(bridge: Bridge): Promise<BrowserRuntime> {
  let rt = runtimes.get(bridge);
  if (!rt) {
    rt = (async () => {
      const r = BrowserRuntime.open({ dbName: `bench-${bridge}-${Date.now()}`, workerUrl, readerUrl, hashWorkerUrl, bridge });
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
  const rt = BrowserRuntime.open({ dbName: `bench-cold-${Date.now()}-${Math.random()}`, workerUrl, readerUrl, hashWorkerUrl });
  const t0 = performance.now();
  await rt.loadLayout('/hello/image');
  return performance.now() - t0;
}

/**
 * A layer of `files` files, `mib` MiB in all (bytes that differ per file), as a tar in the
 * 64 KiB chunks a fetch body or DecompressionStream delivers.
 */
function makeLayer(mib: number, files: number): Uint8Array[] {
  const parts: Uint8Array[] = [];
  const size = Math.floor((mib * 2 ** 20) / files);
  for (let i = 0; i < files; i++) {
    const data = new Uint8Array(size);
    for (let k = 0; k < size; k += 512) data[k] = (i * 31 + k) & 0xff;
    parts.push(tarHeader({ name: `d${i % 20}/f${i}`, type: 'file', mode: 0o644, uid: 0, gid: 0, mtimeNs: 0n, size }), data, tarPadding(size));
  }
  parts.push(TAR_END);
  const tar = concatBytes(parts);
  const chunks: Uint8Array[] = [];
  for (let off = 0; off < tar.length; off += 65536) chunks.push(tar.subarray(off, off + 65536));
  return chunks;
}
let layer: Uint8Array[] | undefined;

/** The portable hasher this page had before: @noble/hashes, streamed per file. */
const nobleSha256: HasherFactory = () => {
  const h = sha256.create();
  return { update: (c) => void h.update(c), digest: () => `sha256:${toHex(h.digest())}` as Digest };
};

/** The hashing worker, started (and its code loaded) by an untimed import, as a runtime keeps one. */
let offload: WebHashOffload | undefined;

/**
 * Import of a 32 MiB layer (512 files) into memory in the page: every byte hashed twice
 * (diffID, content addresses): as BrowserRuntime imports, the diffID by `webSha256` on a
 * worker (WebHashOffload) and the files by `webBlake3` ('offload'); both on the page
 * ('blake3'); both by `webSha256` ('wasm'); or both by the JavaScript that came before ('js').
 */
async function importInPage(hashing: 'offload' | 'blake3' | 'wasm' | 'js'): Promise<number> {
  if (hashing !== 'js' && (await webSha256.ready()) !== 'wasm') throw new Error('this page cannot compile the WebAssembly sha256');
  if ((hashing === 'blake3' || hashing === 'offload') && (await webBlake3.ready()) !== 'wasm') throw new Error('this page cannot compile the WebAssembly BLAKE3');
  layer ??= makeLayer(32, 512);
  const hasher = hashing === 'js' ? nobleSha256 : webSha256;
  const fileHasher = hashing === 'blake3' || hashing === 'offload' ? webBlake3 : hasher;
  const parts = layer;
  async function* chunks() {
    yield* parts;
  }
  if (!offload) {
    offload = new WebHashOffload(() => new Worker(hashWorkerUrl, { type: 'module' }));
    await importLayer(new MemoryContentStore(hasher), chunks(), { hasher, fileHasher, offload });
  }
  const t0 = performance.now();
  await importLayer(new MemoryContentStore(hasher), chunks(), { hasher, fileHasher, ...(hashing === 'offload' ? { offload } : {}) });
  return performance.now() - t0;
}

const api = {
  strata, shim, warmStart, coldLoad, importInPage,
  env: () => ({ userAgent: navigator.userAgent, crossOriginIsolated, jspi: jspiAvailable() }),
};
(window as unknown as { strataBench: typeof api }).strataBench = api;
