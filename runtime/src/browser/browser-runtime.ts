import { ImageStore, type ImageRecord, type Index } from '@strata/image';
import { IdbContentStore, IdbLayerStore, type Digest } from '@strata/store';
import { IdbContainers, IdbImageMeta, type BrowserContainer } from './idb-state.js';
import type { BrowserRunRequest, BrowserWorkerMessage } from './protocol.js';

export interface BrowserRunResult {
  id: string;
  exitCode: number;
  stdout: string;
  stderr: string;
  error?: string;
  /** The sync bridge the container's worker used. */
  bridge: 'sab' | 'preload';
  /** Chunk reads that went through the SharedArrayBuffer bridge. */
  bridgeRequests: number;
}

/**
 * Strata in a browser tab: images, layers and containers in IndexedDB; every container start
 * in a Web Worker. Which sync bridge a worker uses is reported by `info()`; this version
 * ships the preload bridge (see container-worker.ts) and reports what the page could use.
 */
export class BrowserRuntime {
  readonly content: IdbContentStore;
  readonly layers: IdbLayerStore;
  readonly images: ImageStore;
  readonly containers: IdbContainers;

  private constructor(readonly dbName: string, private readonly workerUrl: URL, private readonly readerUrl: URL) {
    this.content = new IdbContentStore(dbName);
    this.layers = new IdbLayerStore(dbName);
    this.images = new ImageStore(this.content, this.layers, new IdbImageMeta(dbName));
    this.containers = new IdbContainers(dbName);
  }

  /** `workerUrl`: where the page serves container-worker (bundlers resolve it for you). */
  static open(options: { dbName?: string; workerUrl?: URL; readerUrl?: URL } = {}): BrowserRuntime {
    return new BrowserRuntime(
      options.dbName ?? 'strata',
      options.workerUrl ?? new URL('./container-worker.js', import.meta.url),
      options.readerUrl ?? new URL('./idb-reader-worker.js', import.meta.url),
    );
  }

  /**
   * The sync bridge this page can use: SharedArrayBuffer + Atomics.wait when cross-origin
   * isolated, else the preload bridge. (JSPI, on in current Chromium, is detected and
   * reported but not used yet: WASI's syscalls would have to become suspending imports.)
   */
  get bridge(): 'sab' | 'preload' {
    return typeof crossOriginIsolated !== 'undefined' && crossOriginIsolated ? 'sab' : 'preload';
  }

  /** Load an OCI image layout served as static files (how an offline demo ships images). */
  async loadLayout(baseUrl: string): Promise<ImageRecord[]> {
    const base = baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`;
    const index = (await (await fetch(`${base}index.json`)).json()) as Index;
    const out: ImageRecord[] = [];
    const fetchBlob = async (digest: string) => {
      if (await this.content.has(digest as Digest)) return;
      const res = await fetch(`${base}blobs/sha256/${digest.slice(7)}`);
      if (!res.ok) throw new Error(`blob ${digest}: ${res.status}`);
      await this.content.put(new Uint8Array(await res.arrayBuffer()), digest as Digest);
    };
    for (const d of index.manifests) {
      await fetchBlob(d.digest);
      const manifest = JSON.parse(new TextDecoder().decode(await this.content.get(d.digest as Digest))) as { config: { digest: string }; layers: { digest: string }[] };
      await fetchBlob(manifest.config.digest);
      for (const l of manifest.layers) await fetchBlob(l.digest);
      const name = d.annotations?.['io.containerd.image.name'];
      out.push(await this.images.addFromManifest(d.digest as Digest, name ? [name] : []));
    }
    return out;
  }

  async create(imageRef: string, options: { name?: string; args?: string[]; env?: string[] } = {}): Promise<BrowserContainer> {
    const img = await this.images.resolve(imageRef);
    const cfg = img.config.config ?? {};
    const id = Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');
    const c: BrowserContainer = {
      id, name: options.name ?? id.slice(0, 12), image: { ref: imageRef, id: img.id, diffIds: img.diffIds },
      argv: [...(cfg.Entrypoint ?? []), ...(options.args?.length ? options.args : (cfg.Cmd ?? []))],
      env: [...(cfg.Env ?? []), ...(options.env ?? [])], status: 'created',
    };
    await this.containers.put(c);
    return c;
  }

  /** Start a container in a Web Worker; its upper is saved in IndexedDB when it exits. */
  async start(id: string, options: { stdin?: string } = {}): Promise<BrowserRunResult> {
    const c = await this.containers.get(id);
    if (!c) throw new Error(`no such container: ${id}`);
    const upper = await this.containers.upper(id);
    await this.containers.put({ ...c, status: 'running' });
    const worker = new Worker(this.workerUrl, { type: 'module' });
    const bridge = this.bridge;
    let reader: Worker | undefined;
    let bridgeField: BrowserRunRequest['bridge'];
    if (bridge === 'sab') {
      const { createBridgeBuffer } = await import('./sab-bridge.js');
      const sab = createBridgeBuffer();
      reader = new Worker(this.readerUrl, { type: 'module' });
      reader.postMessage({ init: { sab, dbName: this.dbName } });
      const channel = new MessageChannel();
      channel.port2.onmessage = (e) => reader!.postMessage(e.data);
      bridgeField = { kind: 'sab', sab, port: channel.port1 };
    }
    let stdout = '';
    let stderr = '';
    const done = await new Promise<Extract<BrowserWorkerMessage, { kind: 'done' }>>((resolve) => {
      worker.onmessage = (e: MessageEvent<BrowserWorkerMessage>) => {
        const m = e.data;
        if (m.kind === 'output') (m.stream === 'stdout' ? (stdout += new TextDecoder().decode(m.bytes)) : (stderr += new TextDecoder().decode(m.bytes)));
        else resolve(m);
      };
      worker.onerror = (e) => resolve({ kind: 'done', exitCode: 125, error: e.message });
      const req: BrowserRunRequest = {
        dbName: this.dbName, diffIds: c.image.diffIds, argv: c.argv, env: c.env,
        ...(upper ? { upper } : {}), ...(options.stdin !== undefined ? { stdin: new TextEncoder().encode(options.stdin) } : {}),
        ...(bridgeField ? { bridge: bridgeField } : {}),
      };
      worker.postMessage(req, bridgeField ? [bridgeField.port] : []);
    });
    worker.terminate();
    reader?.terminate();
    if (done.upper) await this.containers.saveUpper(id, done.upper);
    await this.containers.put({ ...c, status: 'exited', exitCode: done.exitCode });
    return { id, exitCode: done.exitCode, stdout, stderr, bridge, bridgeRequests: done.bridgeRequests ?? 0, ...(done.error ? { error: done.error } : {}) };
  }

  async run(imageRef: string, options: { args?: string[]; env?: string[]; stdin?: string } = {}): Promise<BrowserRunResult> {
    const c = await this.create(imageRef, options);
    return this.start(c.id, options.stdin !== undefined ? { stdin: options.stdin } : {});
  }

  /** What a `strata info` panel shows. */
  async info() {
    const jspi = typeof (WebAssembly as unknown as { Suspending?: unknown }).Suspending === 'function';
    const sab = typeof crossOriginIsolated !== 'undefined' && crossOriginIsolated;
    return {
      Driver: 'overlay',
      BackingStore: 'indexeddb',
      Bridge: this.bridge,
      BridgesAvailable: { jspi, sharedArrayBuffer: sab, preload: true },
      Images: (await this.images.list()).length,
      Layers: (await this.layers.list()).length,
    };
  }
}
