import { OverlayFs } from '@strata/overlay';
import { IdbContentStore, IdbLayerStore, type ContentSource, type Digest } from '@strata/store';
import { BridgedContent } from './sab-bridge.js';
import { WASI } from '@strata/wasi';
import type { BrowserRunRequest, BrowserWorkerMessage } from './protocol.js';

const post = (m: BrowserWorkerMessage, transfer: Transferable[] = []) => (self as unknown as Worker).postMessage(m, transfer);

/**
 * A container in a Web Worker. The overlay reads lower files synchronously but IndexedDB
 * answers asynchronously; the page picks the bridge:
 * - `sab` (cross-origin isolated pages): reads go to a reader worker through a
 *   SharedArrayBuffer, chunk by chunk, only for what the program reads (sab-bridge.ts);
 * - `preload` (everywhere): before the program starts, every file blob of the image's layers
 *   is loaded from IndexedDB into this worker, and reads are served from memory.
 */
self.onmessage = async (e: MessageEvent<BrowserRunRequest>) => {
  const req = e.data;
  try {
    const layers = new IdbLayerStore(req.dbName);
    const lowers = await Promise.all(req.diffIds.map((d) => layers.get(d as Digest)));
    let content: ContentSource;
    let bridged: BridgedContent | undefined;
    if (req.bridge?.kind === 'sab') {
      const port = req.bridge.port;
      content = bridged = new BridgedContent(req.bridge.sab, { postMessage: (m) => port.postMessage(m) });
    } else {
      const idb = new IdbContentStore(req.dbName);
      for (const l of lowers) for (const entry of l.entries.values()) if (entry.content) await idb.preload(entry.content.digest);
      content = idb;
    }
    const fs = req.upper ? OverlayFs.restore({ lowers, content }, req.upper) : new OverlayFs({ lowers, content });
    const argv0 = req.argv[0] ?? '';
    let node = fs.root;
    for (const part of argv0.split('/').filter(Boolean)) node = fs.lookup(node, part);
    const h = fs.open(node, { read: true, write: false });
    const bytes = new Uint8Array(h.stat().size);
    h.read(bytes, 0);
    h.close();
    const input = req.stdin ?? new Uint8Array(0);
    let consumed = 0;
    const wasi = new WASI({
      args: req.argv, env: req.env, preopens: { '/': fs },
      stdin: {
        read(buf) {
          const n = Math.min(buf.length, input.length - consumed);
          buf.set(input.subarray(consumed, consumed + n));
          consumed += n;
          return n;
        },
      },
      stdout: (b) => post({ kind: 'output', stream: 'stdout', bytes: b.slice() }),
      stderr: (b) => post({ kind: 'output', stream: 'stderr', bytes: b.slice() }),
    });
    const instance = await WebAssembly.instantiate(await WebAssembly.compile(bytes), wasi.getImportObject());
    const exitCode = wasi.start(instance);
    const upper = fs.saveUpper();
    post({ kind: 'done', exitCode, upper, bridgeRequests: bridged?.requests ?? 0 }, [upper.buffer]);
  } catch (err) {
    post({ kind: 'done', exitCode: 125, error: String(err) });
  }
};
