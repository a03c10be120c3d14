import { ImageStore, loadArchiveStream, pull, type ImageRecord, type Index, type PullEvent, type RegistryOptions } from '@strata/image';
import { OverlayFs, type Change } from '@strata/overlay';
import { concatBytes, IdbContentStore, IdbLayerStore, StorageFullError, toAsyncIterable, WebHashOffload, webBlake3, webSha256, type Digest } from '@strata/store';
import { commitImage } from '../commit-image.js';
import { OutputLimit } from '../output-limit.js';
import { exportTar } from '../export-tar.js';
import { IdbContainers, IdbImageMeta, webLocks, type BrowserContainer } from './idb-state.js';
import { jspiAvailable } from './jspi-bridge.js';
import type { BrowserRunRequest, BrowserWorkerMessage, StdinMessage } from './protocol.js';

export type Bridge = 'jspi' | 'sab' | 'preload';

export interface BrowserRunResult {
  id: string;
  exitCode: number;
  stdout: string;
  stderr: string;
  error?: string;
  /** The sync bridge the container's worker used. */
  bridge: Bridge;
  /** Chunks fetched through the bridge while the container ran (0 for preload). */
  bridgeRequests: number;
}

export interface BrowserStartOptions {
  /**
   * stdin: all of it at once, or a stream the program reads while it runs (the user typing in
   * a terminal). Streaming needs the JSPI or SharedArrayBuffer bridge; under the preload
   * bridge the stream is read to its end before the program starts.
   */
  stdin?: string | Uint8Array | AsyncIterable<Uint8Array> | ReadableStream<Uint8Array>;
  /** Output as it comes (a terminal); the result still holds all of it. */
  onOutput?: (stream: 'stdout' | 'stderr', bytes: Uint8Array) => void;
  /**
   * Bytes of stdout + stderr together after which the container is killed (137), as
   * `--output-limit` does in Node: a flood of output cannot fill the page's memory.
   */
  outputLimit?: number;
}

/** Exit status of a container whose worker was terminated (SIGKILL, as docker reports it). */
const KILLED = 137;

/**
 * Strata in a browser tab: images, layers and containers in IndexedDB; every container start
 * in a Web Worker.
 *
 * Lifecycle: `open` → `loadLayout` (images from a static OCI layout) → `create` → `start`
 * (resolves when the program exits; its upper is saved to IndexedDB then, so a reload keeps
 * the container's files) → `diff` / `commit` / `export` / `remove`. `kill` terminates a
 * running container's worker: its changes since the start are lost (they lived in the
 * worker), and the upper saved by its previous run stays.
 */
export class BrowserRuntime {
  readonly content: IdbContentStore;
  readonly layers: IdbLayerStore;
  readonly images: ImageStore;
  /** Where imports hash their diffID: a worker, or the page when it cannot start one. */
  readonly hashOffload: WebHashOffload;
  readonly containers: IdbContainers;
  private readonly running = new Map<string, { stop: () => void }>();
  /**
   * A worker of each kind started ahead of need: a start takes it, and the next one is started
   * when that container exits (not while it runs, where it would compete for the CPU), so
   * loading the worker's code is off the path from start() to the program's first output.
   */
  private readonly spares = new Map<'container' | 'reader', Worker>();
  /** After close: a run that ends makes no new spare workers. */
  private closed = false;

  private constructor(
    readonly dbName: string,
    private readonly workerUrl: URL,
    private readonly readerUrl: URL,
    hashWorkerUrl: URL,
    private readonly forcedBridge?: Bridge,
  ) {
    this.content = new IdbContentStore(dbName);
    this.layers = new IdbLayerStore(dbName);
    // Files addressed by BLAKE3, the layers' own digests by sha256 (as the Node runtime does).
    // The diffID is hashed on a worker while the page parses and stores (WebHashOffload).
    this.hashOffload = new WebHashOffload(() => new Worker(hashWorkerUrl, { type: 'module' }));
    this.images = new ImageStore(this.content, this.layers, new IdbImageMeta(dbName), { fileHasher: webBlake3, offload: this.hashOffload });
    this.containers = new IdbContainers(dbName);
    // Compile the WebAssembly hashes now, so that the first load already hashes with them.
    void webSha256.ready();
    void webBlake3.ready();
  }

  /**
   * `workerUrl`/`readerUrl`/`hashWorkerUrl`: where the page serves container-worker,
   * idb-reader-worker and hash-worker (bundlers resolve the defaults for you; a hash worker
   * that does not load leaves the hashing to the page). `bridge` forces a sync bridge
   * (tests, benches).
   */
  static open(options: { dbName?: string; workerUrl?: URL; readerUrl?: URL; hashWorkerUrl?: URL; bridge?: Bridge } = {}): BrowserRuntime {
    return new BrowserRuntime(
      options.dbName ?? 'strata',
      options.workerUrl ?? new URL('./container-worker.js', import.meta.url),
      options.readerUrl ?? new URL('./idb-reader-worker.js', import.meta.url),
      options.hashWorkerUrl ?? new URL('./hash-worker.js', import.meta.url),
      options.bridge,
    );
  }

  /**
   * The sync bridge containers use, picked from what this page has: SharedArrayBuffer +
   * Atomics.wait when cross-origin isolated (no stack switching on a miss), else JSPI
   * (current Chromium), else a preload of the image's files.
   */
  get bridge(): Bridge {
    if (this.forcedBridge) return this.forcedBridge;
    if (typeof crossOriginIsolated !== 'undefined' && crossOriginIsolated) return 'sab';
    return jspiAvailable() ? 'jspi' : 'preload';
  }

  /** Load an OCI image layout served as static files (how an offline demo ships images). */
  loadLayout(baseUrl: string): Promise<ImageRecord[]> {
    // What it stores is garbage to a collection until the records name it.
    return this.images.withLease(() => this.loadLayoutLeased(baseUrl));
  }

  private async loadLayoutLeased(baseUrl: string): Promise<ImageRecord[]> {
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

  /**
   * Load an OCI archive or a `docker save` tar the user picked (an `<input type=file>`'s
   * File, or any Blob), streamed into IndexedDB with every blob verified.
   */
  async loadArchive(file: Blob & { name?: string }): Promise<ImageRecord[]> {
    const loaded = await loadArchiveStream(this.images, file.stream(), file.name ?? 'the archive');
    return Promise.all(loaded.map((l) => this.images.resolve(l.id)));
  }

  /**
   * Pull from a registry over fetch: the registry must send CORS headers (a page may only
   * read another origin's answers when it allows them). Digests are verified as in Node.
   */
  async pullImage(ref: string, options: RegistryOptions & { onEvent?: (e: PullEvent) => void } = {}): Promise<ImageRecord> {
    return pull(this.images, ref, options);
  }

  async create(imageRef: string, options: { name?: string; args?: string[]; env?: string[] } = {}): Promise<BrowserContainer> {
    const img = await this.images.resolve(imageRef);
    const cfg = img.config.config ?? {};
    const id = Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');
    const c: BrowserContainer = {
      id, name: options.name ?? id.slice(0, 12), image: { ref: imageRef, id: img.id, diffIds: img.diffIds },
      argv: [...(cfg.Entrypoint ?? []), ...(options.args?.length ? options.args : (cfg.Cmd ?? []))],
      env: [...(cfg.Env ?? []), ...(options.env ?? [])], status: 'created', created: new Date().toISOString(),
    };
    await this.containers.put(c);
    return c;
  }

  /** A container by id, id prefix or name. */
  async get(ref: string): Promise<BrowserContainer> {
    const elsewhere = await this.runningElsewhere();
    const direct = await this.containers.get(ref);
    if (direct) return this.live(direct, elsewhere);
    const all = await this.containers.list();
    const hits = all.filter((c) => c.name === ref || c.id.startsWith(ref));
    if (hits.length !== 1) throw new Error(hits.length ? `ambiguous container reference: ${ref}` : `no such container: ${ref}`);
    return this.live(hits[0]!, elsewhere);
  }

  /** Every container, newest first (`ps -a`). */
  async list(): Promise<BrowserContainer[]> {
    const elsewhere = await this.runningElsewhere();
    const all = await this.containers.list();
    return all.map((c) => this.live(c, elsewhere)).sort((a, b) => b.created.localeCompare(a.created));
  }

  /**
   * A record that says running, with no worker here and none in another tab (which holds
   * the container's Web Lock while it runs), was cut off by a reload.
   */
  private live(c: BrowserContainer, elsewhere: Set<string>): BrowserContainer {
    if (c.status === 'running' && !this.running.has(c.id) && !elsewhere.has(c.id)) return { ...c, status: 'exited', exitCode: KILLED };
    return c;
  }

  /** The Web Lock a container's run holds, in whichever tab runs it. */
  private runLock(id: string): string {
    return `strata:${this.dbName}:container:${id}`;
  }

  /** Containers whose run another tab (or this one) holds the lock of. */
  private async runningElsewhere(): Promise<Set<string>> {
    const locks = webLocks();
    if (!locks) return new Set();
    const prefix = `strata:${this.dbName}:container:`;
    const { held = [] } = await locks.query();
    return new Set(held.flatMap((l) => (l.name?.startsWith(prefix) ? [l.name.slice(prefix.length)] : [])));
  }

  /** Take the container's run lock for as long as `until` runs; false when another tab holds it. */
  private holdRunLock(id: string, until: Promise<unknown>): Promise<boolean> {
    const locks = webLocks();
    if (!locks) return Promise.resolve(true);
    return new Promise<boolean>((taken) => {
      void locks.request(this.runLock(id), { ifAvailable: true }, (lock) => {
        taken(lock !== null);
        return lock ? until.catch(() => {}) : undefined;
      });
    });
  }

  /** Start a container in a Web Worker; its upper is saved in IndexedDB when it exits. */
  async start(ref: string, options: BrowserStartOptions = {}): Promise<BrowserRunResult> {
    const c = await this.get(ref);
    const id = c.id;
    if (this.running.has(id)) throw new Error(`container ${c.name} is already running`);
    // Taken at once, before anything awaits: a second start of it meanwhile is refused, and
    // a kill meanwhile ends the run as soon as it begins.
    let stopped: Extract<BrowserWorkerMessage, { kind: 'done' }> | undefined;
    let stopNow: ((m: Extract<BrowserWorkerMessage, { kind: 'done' }>) => void) | undefined;
    this.running.set(id, {
      stop: () => {
        stopped = { kind: 'done', exitCode: KILLED, error: 'killed' };
        stopNow?.(stopped);
      },
    });
    const bridge = this.bridge;
    let endRun!: () => void;
    const runEnded = new Promise<void>((resolve) => (endRun = resolve));
    if (!(await this.holdRunLock(id, runEnded))) {
      this.running.delete(id);
      throw new Error(`container ${c.name} is already running (in another tab)`);
    }
    let worker: Worker | undefined;
    let reader: Worker | undefined;
    let upper: Uint8Array | undefined;
    let bridgeField: BrowserRunRequest['bridge'] = { kind: bridge === 'jspi' ? 'jspi' : 'preload' };
    let plan: Awaited<ReturnType<typeof stdinPlan>>;
    try {
      upper = await this.containers.upper(id);
      worker = this.takeWorker('container');
      if (bridge === 'sab') {
        const { createBridgeBuffer } = await import('./sab-bridge.js');
        const sab = createBridgeBuffer();
        reader = this.takeWorker('reader');
        reader.postMessage({ init: { sab, dbName: this.dbName } });
        const channel = new MessageChannel();
        channel.port2.onmessage = (e) => reader!.postMessage(e.data);
        bridgeField = { kind: 'sab', sab, port: channel.port1 };
      }
      plan = await stdinPlan(options.stdin, bridge);
      await this.containers.put({ ...c, status: 'running' });
    } catch (e) {
      // Nothing started: let go of what was taken for it.
      this.running.delete(id);
      endRun();
      worker?.terminate();
      reader?.terminate();
      throw e;
    }
    const { field: stdinField, pump: pumpStdin, stop: stopStdin } = plan;
    const w = worker;
    const sent = bridgeField;
    const out = { stdout: [] as Uint8Array[], stderr: [] as Uint8Array[] };
    const done = await new Promise<Extract<BrowserWorkerMessage, { kind: 'done' }>>((resolve) => {
      stopNow = resolve;
      if (stopped) return resolve(stopped);
      const output = new OutputLimit(options.outputLimit);
      w.onmessage = (e: MessageEvent<BrowserWorkerMessage>) => {
        const m = e.data;
        if (m.kind !== 'output') return resolve(m);
        const { pass, exceeded } = output.take(m.bytes);
        if (pass.length > 0) {
          out[m.stream].push(pass);
          options.onOutput?.(m.stream, pass);
        }
        if (exceeded) resolve({ kind: 'done', exitCode: KILLED, error: output.message });
      };
      const failed = (message: string | undefined) => resolve({ kind: 'done', exitCode: 125, error: message || 'the container worker did not load' });
      w.onerror = (e) => failed(e.message);
      // A spare that failed before it was taken (its script did not load) said so then.
      const early = loadFailures.get(w);
      if (early !== undefined) return failed(early);
      const req: BrowserRunRequest = {
        dbName: this.dbName, diffIds: c.image.diffIds, argv: c.argv, env: c.env, bridge: sent,
        ...(upper ? { upper } : {}), ...(stdinField ? { stdin: stdinField } : {}),
      };
      w.postMessage(req, sent.kind === 'sab' ? [sent.port] : []);
      pumpStdin?.(w);
    });
    this.running.delete(id);
    stopStdin?.();
    w.terminate();
    reader?.terminate();
    this.replenish('container');
    if (reader) this.replenish('reader');
    let saveError: string | undefined;
    try {
      try {
        if (done.upper) await this.containers.saveUpper(id, done.upper);
      } catch (e) {
        // Out of quota: the run's changes cannot be kept; the upper saved before stays, and
        // the caller is told, rather than left believing they were saved.
        if (!(e instanceof StorageFullError)) throw e;
        saveError = `the container's changes were not saved: ${e.message} (ENOSPC)`;
      }
      // Not brought back if it was removed meanwhile (another tab's remove of a stale record).
      if (await this.containers.get(id)) await this.containers.put({ ...c, status: 'exited', exitCode: done.exitCode });
    } finally {
      // The run's lock is let go once its record says how it ended.
      endRun();
    }
    if (saveError) done.error = done.error ? `${done.error}; ${saveError}` : saveError;
    const text = (parts: Uint8Array[]) => new TextDecoder().decode(concatBytes(parts));
    return {
      id, exitCode: done.exitCode, stdout: text(out.stdout), stderr: text(out.stderr), bridge,
      bridgeRequests: done.bridgeRequests ?? 0, ...(done.error ? { error: done.error } : {}),
    };
  }

  private takeWorker(kind: 'container' | 'reader'): Worker {
    let w = this.spares.get(kind);
    this.spares.delete(kind);
    // A spare whose script failed to load is no worker: another is tried.
    if (w && loadFailures.has(w)) {
      w.terminate();
      w = undefined;
    }
    return w ?? this.makeWorker(kind);
  }

  private makeWorker(kind: 'container' | 'reader'): Worker {
    const w = new Worker(kind === 'container' ? this.workerUrl : this.readerUrl, { type: 'module' });
    // Heard from the start: a spare fails (its script does not load) before anyone listens.
    w.addEventListener('error', (e) => {
      if (!loadFailures.has(w)) loadFailures.set(w, e.message || 'the container worker did not load');
    });
    return w;
  }

  private replenish(kind: 'container' | 'reader'): void {
    if (!this.closed && !this.spares.has(kind)) this.spares.set(kind, this.makeWorker(kind));
  }

  /** Stop the spare workers, and make no more (running containers are left alone). */
  close(): void {
    this.closed = true;
    for (const w of this.spares.values()) w.terminate();
    this.spares.clear();
  }

  async run(imageRef: string, options: { args?: string[]; env?: string[]; name?: string } & BrowserStartOptions = {}): Promise<BrowserRunResult> {
    const c = await this.create(imageRef, options);
    return this.start(c.id, options);
  }

  /** Terminate a running container's worker (its start() resolves with 137). */
  async kill(ref: string): Promise<void> {
    const c = await this.get(ref);
    const r = this.running.get(c.id);
    if (!r) {
      if ((await this.runningElsewhere()).has(c.id)) throw new Error(`container ${c.name} runs in another tab: stop it there`);
      throw new Error(`container ${c.name} is not running`);
    }
    r.stop();
  }

  /** Remove a stopped container and its upper. */
  async remove(ref: string): Promise<void> {
    const c = await this.get(ref);
    if (this.running.has(c.id) || (await this.runningElsewhere()).has(c.id)) throw new Error(`container ${c.name} is running: kill it first`);
    await this.containers.remove(c.id);
  }

  /**
   * The container's merged view, on this thread. `withContent` loads the image's file blobs
   * first (export and commit read lower bytes synchronously); a diff needs none.
   */
  async overlay(ref: string, options: { withContent?: boolean } = {}): Promise<OverlayFs> {
    return (await this.overlayHeld(ref, options)).fs;
  }

  /** The merged view, and a release of the bytes `withContent` loaded for it. */
  private async overlayHeld(ref: string, options: { withContent?: boolean }): Promise<{ fs: OverlayFs; release(): void }> {
    const c = await this.get(ref);
    const lowers = await Promise.all(c.image.diffIds.map((d) => this.layers.get(d as Digest)));
    const release = options.withContent ? await this.content.preloadLayers(lowers) : () => {};
    const upper = await this.containers.upper(c.id);
    const fs = upper ? OverlayFs.restore({ lowers, content: this.content }, upper) : new OverlayFs({ lowers, content: this.content });
    return { fs, release };
  }

  /** What the container changed, as `docker diff` lists it. */
  async diff(ref: string): Promise<Change[]> {
    return (await this.overlay(ref)).diff();
  }

  /** A new image: the container's image plus a layer with its changes. */
  async commit(ref: string, newRef: string): Promise<ImageRecord> {
    const c = await this.get(ref);
    const base = await this.images.resolve(c.image.id);
    const { fs, release } = await this.overlayHeld(ref, { withContent: true });
    try {
      return await commitImage(this.images, base, fs, { ref: newRef, createdBy: `strata commit ${c.name}` });
    } finally {
      release();
    }
  }

  /** The merged view as a tar (docker export), as a Blob the page can offer for download. */
  async export(ref: string): Promise<Blob> {
    const { fs, release } = await this.overlayHeld(ref, { withContent: true });
    try {
      const parts: Uint8Array<ArrayBuffer>[] = [];
      for await (const chunk of exportTar(fs)) parts.push(new Uint8Array(chunk));
      return new Blob(parts, { type: 'application/x-tar' });
    } finally {
      release();
    }
  }

  /** What a `strata info` panel shows. */
  async info() {
    const containers = await this.list();
    return {
      Driver: 'overlay',
      BackingStore: 'indexeddb',
      Bridge: this.bridge,
      BridgesAvailable: {
        jspi: jspiAvailable(),
        sharedArrayBuffer: typeof crossOriginIsolated !== 'undefined' && crossOriginIsolated,
        preload: true,
      },
      Images: (await this.images.list()).length,
      Layers: (await this.layers.list()).length,
      Containers: containers.length,
      ContainersRunning: containers.filter((c) => c.status === 'running').length,
    };
  }
}

/**
 * How stdin reaches the worker: bytes up front; or, for a stream, a SharedArrayBuffer ring
 * the page fills (SAB bridge) or messages to the worker (JSPI bridge), pumped once the worker
 * has its request; under the preload bridge a stream is read whole first.
 */
async function stdinPlan(stdin: BrowserStartOptions['stdin'], bridge: Bridge): Promise<{ field?: BrowserRunRequest['stdin']; pump?: (w: Worker) => void; stop?: () => void }> {
  if (stdin === undefined) return {};
  if (typeof stdin === 'string') return { field: { kind: 'bytes', bytes: new TextEncoder().encode(stdin) } };
  if (stdin instanceof Uint8Array) return { field: { kind: 'bytes', bytes: stdin } };
  const { chunks, release } = releasable(stdin);
  if (bridge === 'preload') {
    const parts: Uint8Array[] = [];
    for await (const c of chunks) parts.push(c);
    release();
    return { field: { kind: 'bytes', bytes: concatBytes(parts) } };
  }
  if (bridge === 'sab') {
    const { createStdinRing, StdinWriter } = await import('../stdin-ring.js');
    const ring = createStdinRing();
    const writer = new StdinWriter(ring);
    let stopped = false;
    return {
      field: { kind: 'ring', ring },
      pump: () => void (async () => {
        try {
          for await (const c of chunks) {
            if (stopped) break;
            await writer.write(c);
          }
        } finally {
          writer.close();
          release();
        }
      })(),
      stop: () => {
        stopped = true;
        writer.abandon();
        release();
      },
    };
  }
  let stopped = false;
  return {
    field: { kind: 'messages' },
    pump: (w) => void (async () => {
      try {
        for await (const c of chunks) {
          if (stopped) break;
          w.postMessage({ kind: 'stdin', bytes: c } satisfies StdinMessage);
        }
      } finally {
        if (!stopped) w.postMessage({ kind: 'stdin-end' } satisfies StdinMessage);
        release();
      }
    })(),
    stop: () => {
      stopped = true;
      release();
    },
  };
}

/**
 * A stdin stream read through a reader of its own, let go when the container is done with
 * it: the page's stream (a terminal's input) stays usable, and a chunk typed after the
 * container exited is not taken. A stream's own async iterator would cancel it instead.
 */
function releasable(stdin: AsyncIterable<Uint8Array> | ReadableStream<Uint8Array>): { chunks: AsyncIterable<Uint8Array>; release(): void } {
  if (!(stdin instanceof ReadableStream)) return { chunks: toAsyncIterable(stdin), release: () => {} };
  const reader = stdin.getReader();
  let released = false;
  return {
    chunks: {
      async *[Symbol.asyncIterator]() {
        try {
          for (;;) {
            const r = await reader.read();
            if (r.done) return;
            yield r.value;
          }
        } catch (e) {
          // Let go of while a read waited: that read rejects, and nothing was consumed.
          if (!released) throw e;
        }
      },
    },
    release: () => {
      if (released) return;
      released = true;
      reader.releaseLock();
    },
  };
}

/** Workers whose script failed to load, with what the error said. */
const loadFailures = new WeakMap<Worker, string>();
