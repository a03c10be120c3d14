import { OverlayFs } from '@strata/overlay';
import { IDB_CHUNK, IdbContentStore, IdbLayerStore, type ContentSource, type Digest } from '@strata/store';
import { WASI, type StdinSource } from '@strata/wasi';
import { StdinReader } from '../stdin-ring.js';
import type { ChunkCache } from './chunk-cache.js';
import { SuspendingContent } from './jspi-bridge.js';
import { MessageStdin, PendingStdin } from './message-stdin.js';
import type { BrowserRunRequest, BrowserWorkerMessage, StdinMessage } from './protocol.js';
import { bridgedContent } from './sab-bridge.js';

const post = (m: BrowserWorkerMessage, transfer: Transferable[] = []) => (self as unknown as Worker).postMessage(m, transfer);

/**
 * A container in a Web Worker. The overlay reads lower files synchronously but IndexedDB
 * answers asynchronously; the page picks the bridge (BrowserRuntime.bridge):
 * - `jspi`: a read that misses suspends the wasm stack while this worker reads the chunk
 *   from IndexedDB (jspi-bridge.ts);
 * - `sab` (cross-origin isolated pages): a miss blocks in Atomics.wait while a reader
 *   worker fetches the chunk into a SharedArrayBuffer (sab-bridge.ts);
 * - `preload` (everywhere): before the program starts, every file blob of the image's layers
 *   is loaded from IndexedDB into this worker, and reads are served from memory.
 */
let messageStdin: MessageStdin | undefined;

self.onmessage = (e: MessageEvent<BrowserRunRequest | StdinMessage>) => {
  const m = e.data;
  if ('kind' in m) {
    // Streamed stdin for the program already running (JSPI bridge).
    if (m.kind === 'stdin') messageStdin?.push(m.bytes);
    else messageStdin?.end();
    return;
  }
  // Created now, not when the run gets to it: stdin messages follow the request at once.
  if (m.stdin?.kind === 'messages') messageStdin = new MessageStdin();
  void run(m);
};

async function run(req: BrowserRunRequest): Promise<void> {
  try {
    const layers = new IdbLayerStore(req.dbName);
    const lowers = await Promise.all(req.diffIds.map((d) => layers.get(d as Digest)));
    const idb = new IdbContentStore(req.dbName);
    let content: ContentSource;
    let cache: ChunkCache | undefined;
    let jspi: SuspendingContent | undefined;
    if (req.bridge.kind === 'sab') {
      const port = req.bridge.port;
      content = cache = bridgedContent(req.bridge.sab, { postMessage: (m) => port.postMessage(m) });
    } else if (req.bridge.kind === 'jspi') {
      content = cache = jspi = new SuspendingContent((digest, index) => idb.readChunk(digest as Digest, index));
    } else {
      await idb.preloadLayers(lowers);
      content = idb;
    }
    // Outside the guest, JSPI misses are waited out here; the other bridges never throw them.
    const settle = <T>(fn: () => T): Promise<T> => (jspi ? jspi.settle(fn) : Promise.resolve(fn()));
    const fs = await settle(() => (req.upper ? OverlayFs.restore({ lowers, content }, req.upper) : new OverlayFs({ lowers, content })));
    const h = await settle(() => {
      let node = fs.root;
      for (const part of (req.argv[0] ?? '').split('/').filter(Boolean)) node = fs.lookup(node, part);
      return fs.open(node, { read: true, write: false });
    });
    const bytes = new Uint8Array(h.stat().size);
    // Chunk by chunk, so a JSPI miss repeats one chunk's read, not the whole module's.
    for (let pos = 0; pos < bytes.length;) {
      const at = pos;
      const n = await settle(() => h.read(bytes.subarray(at, at + IDB_CHUNK), at));
      if (n === 0) break;
      pos += n;
    }
    h.close();
    const wasi = new WASI({
      args: req.argv, env: req.env, preopens: { '/': fs },
      stdin: stdinFor(req),
      stdout: (b) => post({ kind: 'output', stream: 'stdout', bytes: b.slice() }),
      stderr: (b) => post({ kind: 'output', stream: 'stderr', bytes: b.slice() }),
      ...(jspi ? {
        suspend: (err: unknown) => jspi.pending(err) ?? (err instanceof PendingStdin ? err.arrival : undefined),
        settled: () => jspi.unpin(),
      } : {}),
    });
    const instance = await WebAssembly.instantiate(await WebAssembly.compile(bytes), wasi.getImportObject());
    const exitCode = jspi ? await wasi.startAsync(instance) : wasi.start(instance);
    const upper = await settle(() => fs.saveUpper());
    post({ kind: 'done', exitCode, upper, bridgeRequests: cache?.requests ?? 0 }, [upper.buffer]);
  } catch (err) {
    post({ kind: 'done', exitCode: 125, error: String(err) });
  }
}

function stdinFor(req: BrowserRunRequest): StdinSource {
  const s = req.stdin;
  if (s?.kind === 'ring') return new StdinReader(s.ring);
  if (s?.kind === 'messages') return messageStdin!;
  const input = s?.kind === 'bytes' ? s.bytes : new Uint8Array(0);
  let consumed = 0;
  return {
    read(buf) {
      const n = Math.min(buf.length, input.length - consumed);
      buf.set(input.subarray(consumed, consumed + n));
      consumed += n;
      return n;
    },
  };
}
