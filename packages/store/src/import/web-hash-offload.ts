import { webSha256, type Hasher } from '../hash.js';
import type { Digest, DigestAlgorithm } from '../types.js';
import type { HashOffload, HashSession } from './hash-offload.js';

/** To a web hashing worker (see `webHashWorker`): a stream's chunks in order, then its end. */
export type WebHashMessage = { id: number; chunk: Uint8Array } | { id: number; finish: true } | { id: number; close: true };

/** From a web hashing worker: bytes hashed (`acked`), the digest, or what went wrong. */
export type WebHashReply = { id: number; acked: number } | { id: number; digest: string } | { id: number; error: string };

/** Bytes a session may have sent that the worker has not hashed yet. */
const IN_FLIGHT = 8 * 2 ** 20;

/**
 * How long a worker may take to answer first (load its script and hash-wasm, hash a chunk)
 * before the page stops waiting for it. Loading from the page's own origin takes well under
 * a second; a fetch that neither loads nor fails would otherwise hold the import for good
 * once IN_FLIGHT bytes wait for the worker.
 */
const FIRST_ANSWER_MS = 10_000;

export interface WebHashOffloadOptions {
  /** Default 10 s (FIRST_ANSWER_MS). */
  firstAnswerMs?: number;
}

/**
 * The browsers' offload: a Web Worker (`webHashWorker`) computes a layer's diffID while the
 * page parses, hashes the files and stores — the diffID's sha256 pass was a third of a
 * browser import. Each chunk goes over as a copy (transferred, so the copy is made once),
 * which needs no cross-origin isolation; the files stay on the page (`fileShare` 0: a worker
 * would need the page to keep their bytes until named).
 *
 * A worker that fails before its first answer — a page that may not start workers, a
 * worker URL that does not load, a worker that cannot hash (it answers with an error) —
 * costs nothing but its attempt: until that answer the
 * session keeps what it sent, and hashes it on the page from the first byte (said once on
 * the console). One that fails later fails the import using it; the next import starts
 * another. One that gives no first answer within `firstAnswerMs` (a script fetch that
 * stalls) is stopped the same way, and the offload starts no more workers: each import
 * would wait as long again. One import at a time: a concurrent one hashes on the page.
 * Layers under LOCAL_LIMIT never reach the worker.
 */
export class WebHashOffload implements HashOffload {
  readonly fileShare = 0;
  private worker: Worker | undefined;
  private active: WebHashSession | undefined;
  private nextId = 1;
  private warned = false;
  /** Set when a worker never answered: no more are started. */
  private stalled = false;
  readonly firstAnswerMs: number;

  /** `spawn`: the worker, e.g. `() => new Worker(new URL('./hash-worker.js', import.meta.url), { type: 'module' })`. */
  constructor(private readonly spawn: () => Worker, options: WebHashOffloadOptions = {}) {
    this.firstAnswerMs = options.firstAnswerMs ?? FIRST_ANSWER_MS;
  }

  open(options: { diffId?: boolean; files?: DigestAlgorithm } = {}): HashSession | undefined {
    // Nothing to do here without a diffID: the files are the page's.
    if (options.diffId === false || this.active || this.stalled) return undefined;
    this.active = new WebHashSession(this, this.nextId++);
    return this.active;
  }

  /** The worker, started at the first session that outgrows LOCAL_LIMIT; throws if it cannot be. */
  attach(): Worker {
    this.worker ??= this.start();
    return this.worker;
  }

  detach(session: WebHashSession): void {
    if (this.active === session) this.active = undefined;
  }

  /** The worker gave no first answer in time: stop it, and start no other. */
  abandon(w: Worker): void {
    this.stalled = true;
    if (this.worker === w) this.worker = undefined;
    w.terminate();
  }

  noteFailure(e: unknown): void {
    if (this.warned) return;
    this.warned = true;
    console.warn(`strata: the hashing worker is unavailable (${describe(e)}): imports hash on the page`);
  }

  private start(): Worker {
    const w = this.spawn();
    const failed = (cause: Error): void => {
      // The next import starts another.
      if (this.worker === w) this.worker = undefined;
      w.terminate();
      this.active?.onWorkerFailure(cause);
    };
    w.addEventListener('message', (e: MessageEvent<WebHashReply>) => {
      // A worker that cannot hash (its hasher would not compile: a page whose CSP forbids
      // WebAssembly) says so for every chunk: as good as a worker that failed.
      if ('error' in e.data) failed(new Error(e.data.error));
      else if (e.data.id === this.active?.id) this.active.onReply(e.data);
    });
    w.addEventListener('error', (e) => {
      e.preventDefault();
      failed(new Error(e.message || 'the worker did not load'));
    });
    return w;
  }
}

/**
 * Below this many bytes a stream never involves the worker: it is hashed on the page at
 * `finish`, from copies kept until then. Starting the worker (loading its code) costs more
 * than hashing a small layer, and a page that only loads a small image never starts it.
 */
const LOCAL_LIMIT = 2 * 2 ** 20;

/**
 * A stream hashed in one of three places: kept on the page while below LOCAL_LIMIT
 * ('kept'), on the worker ('worker'), or on the page as it comes ('here': no worker).
 */
class WebHashSession implements HashSession {
  private where: 'kept' | 'worker' | 'here' = 'kept';
  private worker: Worker | undefined;
  /** Copies of what came, until the worker's first answer: hashed here if it fails before. */
  private kept: Uint8Array[] | undefined = [];
  private keptBytes = 0;
  private local: Hasher | undefined;
  private inFlight = 0;
  private failure: Error | undefined;
  private waiting: (() => void) | undefined;
  private finished: { resolve(d: Digest): void; reject(e: Error): void } | undefined;
  /** Runs from the hand-over to the worker's first answer. */
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly owner: WebHashOffload, readonly id: number) {}

  async write(chunk: Uint8Array): Promise<void> {
    this.check();
    if (this.where === 'here') {
      this.local!.update(chunk);
      return;
    }
    const copy = chunk.slice();
    if (this.where === 'kept') {
      this.kept!.push(copy);
      this.keptBytes += copy.length;
      if (this.keptBytes > LOCAL_LIMIT) this.engage();
    } else {
      // The worker gets its own copy (transferred) while this one is kept for a failure.
      this.kept?.push(copy);
      this.post(this.kept ? copy.slice() : copy);
    }
    while (this.where === 'worker' && this.inFlight > IN_FLIGHT) {
      await new Promise<void>((resolve) => (this.waiting = resolve));
      this.check();
    }
  }

  file(): Promise<Digest> {
    return Promise.reject(new Error('the web hashing offload hashes no files'));
  }

  async drain(): Promise<void> {}

  finish(): Promise<Digest | undefined> {
    this.check();
    if (this.where !== 'worker') {
      this.hereFromKept();
      return Promise.resolve(this.local!.digest());
    }
    const p = new Promise<Digest>((resolve, reject) => (this.finished = { resolve, reject }));
    this.send({ id: this.id, finish: true });
    return p;
  }

  close(): void {
    clearTimeout(this.timer);
    if (this.where === 'worker') this.send({ id: this.id, close: true });
    this.fail(new Error('hash session closed'));
    this.owner.detach(this);
  }

  onReply(r: WebHashReply): void {
    if ('acked' in r) {
      clearTimeout(this.timer);
      this.kept = undefined;
      this.inFlight -= r.acked;
    } else if ('digest' in r) {
      this.finished?.resolve(`sha256:${r.digest}`);
    }
    this.wake();
  }

  /** Before the first answer: hash here what came, and go on here. After: the import fails. */
  onWorkerFailure(e: Error): void {
    clearTimeout(this.timer);
    if (this.where !== 'worker') return;
    try {
      if (this.kept) {
        this.owner.noteFailure(e);
        this.hereFromKept();
        this.finished?.resolve(this.local!.digest());
      } else {
        this.fail(new Error(`the hashing worker stopped: ${e.message}`));
      }
    } catch (err) {
      // Called from an event listener: whatever goes wrong here must reach the import.
      this.fail(err instanceof Error ? err : new Error(String(err)));
    }
    this.wake();
  }

  /** Past LOCAL_LIMIT: hand the stream to the worker, from its first byte. */
  private engage(): void {
    try {
      this.worker = this.owner.attach();
    } catch (e) {
      this.owner.noteFailure(e);
      this.hereFromKept();
      return;
    }
    this.where = 'worker';
    const w = this.worker;
    this.timer = setTimeout(() => {
      if (this.where !== 'worker' || !this.kept) return;
      this.owner.abandon(w);
      this.onWorkerFailure(new Error(`no answer within ${this.owner.firstAnswerMs} ms`));
    }, this.owner.firstAnswerMs);
    // The kept copies stay for a failure before the first answer: the worker gets copies.
    for (const c of this.kept!) this.post(c.slice());
  }

  /** Hash on the page from here on, beginning with what was kept. */
  private hereFromKept(): void {
    if (this.where === 'here') return;
    this.where = 'here';
    this.worker = undefined;
    this.local = webSha256();
    for (const c of this.kept ?? []) this.local.update(c);
    this.kept = undefined;
  }

  private post(copy: Uint8Array): void {
    this.inFlight += copy.length;
    this.send({ id: this.id, chunk: copy }, copy.buffer);
  }

  private send(m: WebHashMessage, transfer?: ArrayBufferLike): void {
    this.worker?.postMessage(m, transfer ? [transfer as ArrayBuffer] : []);
  }

  private fail(e: Error): void {
    this.failure ??= e;
    this.finished?.reject(this.failure);
  }

  private check(): void {
    if (this.failure) throw this.failure;
  }

  private wake(): void {
    const w = this.waiting;
    this.waiting = undefined;
    w?.();
  }
}

/**
 * The worker's side: a sha256 per session (`sha256`: an incremental one, e.g. hash-wasm's,
 * imported by the worker's module — a dynamic import there is not what every bundler or
 * test runner handles in a worker), fed in the order the chunks come: each session's work
 * is chained, as the hasher comes asynchronously. Call it from the worker's module:
 * `webHashWorker(self, sha256)`.
 */
export function webHashWorker(
  scope: { onmessage: ((e: MessageEvent<WebHashMessage>) => void) | null; postMessage(m: WebHashReply): void },
  sha256: () => Promise<Hasher>,
): void {
  const sessions = new Map<number, Promise<Hasher>>();
  scope.onmessage = (e) => {
    const m = e.data;
    if ('close' in m) {
      sessions.delete(m.id);
      return;
    }
    const next = (sessions.get(m.id) ?? sha256()).then((h) => {
      if ('chunk' in m) {
        h.update(m.chunk);
        scope.postMessage({ id: m.id, acked: m.chunk.length });
      } else {
        scope.postMessage({ id: m.id, digest: h.digest().slice('sha256:'.length) });
        sessions.delete(m.id);
      }
      return h;
    });
    next.catch((err: unknown) => scope.postMessage({ id: m.id, error: describe(err) }));
    if (!('finish' in m)) sessions.set(m.id, next);
  };
}

function describe(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
