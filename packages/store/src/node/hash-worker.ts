import { createHash } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { HASH_CHUNK, type HashOffload, type HashSession } from '../import/hash-offload.js';
import type { Digest, DigestAlgorithm } from '../types.js';
import { blake3AddonPath, nodeFileHasher, nodeSha256, nodeSha256Once, SMALL_FILE } from './hash.js';
import { ringHasher, type FileHash, type RingMessage, type RingReply } from './ring-hasher.js';

/**
 * The hashing worker, as source: it needs only Node's own modules and the BLAKE3 addon (by
 * the path this thread resolved), and as an eval'd script it runs the same from the
 * TypeScript sources, the built package and the CLI bundle, none of which would agree on
 * where a separate worker file lives.
 */
const workerSource = (): string => `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
// A transform that keeps function names (tsx, esbuild's keepNames) wraps inner functions
// in calls to its __name helper, which lives outside the function: an identity does here.
const __name = (f) => f;
const blake3Path = ${JSON.stringify(blake3AddonPath() ?? '')};
let blake3;
const fileHash = (algorithm, size) => {
  if (algorithm === 'blake3' && size >= ${SMALL_FILE}) {
    blake3 ??= require(blake3Path);
    const h = new blake3.Blake3Hasher();
    return { update: (c) => h.update(c), digest: () => 'blake3:' + h.digest('hex') };
  }
  const h = createHash('sha256');
  return { update: (c) => h.update(c), digest: () => 'sha256:' + h.digest('hex') };
};
const hasher = (${String(ringHasher)})(createHash, fileHash);
parentPort.on('message', (m) => {
  const reply = hasher.handle(m);
  if (reply) parentPort.postMessage(reply);
});
`;

/**
 * Bytes of tar stream a session may hold ahead of the worker: more than LOCAL_LIMIT plus a
 * chunk (see onWorkerFailure), and room for the two threads' pace to vary — 4 MiB with
 * 1 MiB chunks left the importing thread waiting for room.
 */
const RING = 8 * 2 ** 20;
/** Tell the worker about new bytes once this many have come (a message costs ~0.1 ms). */
const POST_EVERY = 2 ** 20;
/**
 * Below this many bytes a session never involves the worker: it hashes from its ring on the
 * importing thread at `finish`. A small layer gains nothing from the hand-over, and most
 * imports that need no worker then never start one.
 */
const LOCAL_LIMIT = 2 * 2 ** 20;

/**
 * The Node offload: one worker thread for the process, started at the first layer large
 * enough to need it, and not keeping the process alive while no import uses it. It serves
 * one import at a time — its thread is the slower side of the split already, so a second
 * stream there would only wait — and a concurrent import hashes on its own thread.
 *
 * A worker that cannot start (no threads left, a process that forbids them, a worker that
 * dies before its first answer) costs nothing but its attempt: the import that needed it
 * still holds every byte in its ring and hashes on its own thread. A worker that fails
 * later fails the import using it, with the cause; the next import starts a new worker.
 */
export function nodeHashOffload(): NodeHashOffload {
  return shared;
}

export interface NodeHashOffload extends HashOffload {
  /** The worker's thread id while it runs (diagnostics: which imports reached it). */
  readonly threadId: number | undefined;
}

/** Starts the hashing worker from its source (tests start failing ones). */
export type SpawnHashWorker = (source: string) => Worker;

// Node's own modules only: none of the parent's flags (a TS loader, conditions, flags a
// worker refuses) belong here.
const spawnWorker: SpawnHashWorker = (source) => new Worker(source, { eval: true, execArgv: [] });

/** The failure of a hashing worker, as the import that was using it reports it. */
export class HashWorkerError extends Error {
  constructor(cause: unknown) {
    super(`the hashing worker stopped: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'HashWorkerError';
  }
}

export class WorkerHashOffload implements NodeHashOffload {
  private worker: Worker | undefined;
  private active: WorkerSession | undefined;
  private ring: SharedArrayBuffer | undefined;
  private nextId = 1;
  private warned = false;

  constructor(private readonly spawn: SpawnHashWorker = spawnWorker) {}

  get threadId(): number | undefined {
    return this.worker?.threadId;
  }

  open(options: { diffId?: boolean; files?: DigestAlgorithm } = {}): HashSession | undefined {
    const files = options.files ?? 'sha256';
    // BLAKE3 only from the addon nodeFileHasher uses: the same digests either side.
    if (this.active || (files === 'blake3' && nodeFileHasher.algorithm !== 'blake3')) return undefined;
    this.ring ??= new SharedArrayBuffer(RING);
    this.active = new WorkerSession(this, this.nextId++, this.ring, options.diffId ?? true, files);
    return this.active;
  }

  /** Called by the session when it outgrows LOCAL_LIMIT; throws when no worker can start. */
  attach(): Worker {
    if (!this.worker) {
      const w = this.spawn(workerSource());
      w.on('message', (r: RingReply) => {
        if (r.id === this.active?.id) this.active.onReply(r);
      });
      w.on('error', (e) => this.fail(w, e));
      w.on('exit', (code) => this.fail(w, new Error(`exited with code ${code}`)));
      this.worker = w;
    }
    this.worker.ref();
    return this.worker;
  }

  detach(session: WorkerSession): void {
    if (this.active !== session) return;
    this.active = undefined;
    this.worker?.unref();
  }

  /** A worker failed before its first answer: the import hashes here. Said once (one offload a process). */
  noteStartFailure(e: unknown): void {
    if (this.warned) return;
    this.warned = true;
    process.emitWarning(`the hashing worker is unavailable (${e instanceof Error ? e.message : String(e)}): an import hashes on its own thread`, { code: 'STRATA_HASH_WORKER' });
  }

  private fail(w: Worker, e: Error): void {
    if (this.worker !== w) return;
    this.worker = undefined;
    // A worker that errs may still be running: it gets no more work either way.
    void w.terminate();
    this.active?.onWorkerFailure(e);
  }
}

const shared = new WorkerHashOffload();

/**
 * A session hashes its stream in one of three places: from its ring at `finish`, on this
 * thread, while the stream is below LOCAL_LIMIT ('ring'); on the worker ('worker'); or, when
 * the worker could not start, with the worker's own code on this thread, message by message
 * ('here').
 */
type Where = 'ring' | 'worker' | 'here';

class WorkerSession implements HashSession {
  private readonly bytes: Uint8Array;
  private where: Where = 'ring';
  private worker: Worker | undefined;
  /** The worker's code, run here ('here'). */
  private local: ReturnType<typeof ringHasher> | undefined;
  /** Whether the worker has answered: until then the ring holds the whole stream. */
  private answered = false;
  private written = 0;
  /** Where the last write started: files named later start there or after. */
  private chunkStart = 0;
  /** How far the worker has been told. */
  private posted = 0;
  private released = 0;
  private closed = false;
  private failure: Error | undefined;
  private nextFile = 1;
  /** Files named since the last message. */
  private named: [number, number, number][] = [];
  private readonly files = new Map<number, { resolve(d: Digest): void; reject(e: Error): void; start: number; size: number }>();
  private waiting: (() => void) | undefined;
  private finished: { resolve(d: Digest | undefined): void; reject(e: Error): void } | undefined;

  constructor(
    private readonly owner: WorkerHashOffload,
    readonly id: number,
    private readonly ring: SharedArrayBuffer,
    private readonly withDiffId: boolean,
    private readonly fileAlgorithm: DigestAlgorithm,
  ) {
    this.bytes = new Uint8Array(ring);
  }

  async write(chunk: Uint8Array): Promise<void> {
    this.check();
    if (chunk.length > HASH_CHUNK) throw new RangeError(`hash session chunks are at most ${HASH_CHUNK} bytes`);
    if (this.where === 'ring' && this.written + chunk.length > LOCAL_LIMIT) this.attach();
    while (this.written + chunk.length - this.released > this.bytes.length) {
      // The worker may not have been told about the last bytes yet.
      if (this.posted < this.written) this.post(false);
      await new Promise<void>((resolve) => (this.waiting = resolve));
      this.check();
    }
    const start = this.written;
    const off = start % this.bytes.length;
    const first = Math.min(chunk.length, this.bytes.length - off);
    // Buffer's copy is a plain memmove; TypedArray#set into shared memory copies word by word.
    copy.call(chunk, this.bytes, off, 0, first);
    if (first < chunk.length) copy.call(chunk, this.bytes, 0, first);
    this.written += chunk.length;
    this.chunkStart = start;
    if (this.where === 'here') this.post(false);
    else if (this.where === 'worker' && this.written - this.posted >= POST_EVERY) this.post(false);
  }

  file(start: number, size: number): Promise<Digest> {
    this.check();
    const fid = this.nextFile++;
    const p = new Promise<Digest>((resolve, reject) => this.files.set(fid, { resolve, reject, start, size }));
    // Rejected when the session closes early; the importer may have stopped listening.
    p.catch(() => {});
    this.named.push([fid, start, size]);
    return p;
  }

  async drain(): Promise<void> {
    this.check();
    this.checkNamedWritten('drain');
    if (this.where === 'ring') return this.hashNamedLocally();
    if (this.files.size === 0) return;
    this.post(false);
    while (this.files.size > 0) {
      await new Promise<void>((resolve) => (this.waiting = resolve));
      this.check();
    }
  }

  async finish(): Promise<Digest | undefined> {
    this.check();
    this.checkNamedWritten('finish');
    if (this.where === 'ring') return this.finishLocally();
    const p = new Promise<Digest | undefined>((resolve, reject) => (this.finished = { resolve, reject }));
    this.chunkStart = this.written;
    this.post(true);
    return p;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.onFailure(new Error('hash session closed'));
    this.send({ id: this.id, close: true });
    this.owner.detach(this);
  }

  onReply(r: RingReply): void {
    this.answered = true;
    this.released = r.released;
    for (const [fid, digest] of r.files) {
      this.files.get(fid)?.resolve(digest as Digest);
      this.files.delete(fid);
    }
    if (r.finished) this.finished?.resolve(r.diffId === undefined ? undefined : `sha256:${r.diffId}` as Digest);
    this.wake();
  }

  /**
   * The worker failed. Before its first answer it has released nothing, so the ring still
   * holds the whole stream (the ring is larger than LOCAL_LIMIT plus a chunk, and writes
   * wait for an answer before they wrap): hash it here from the start. After, bytes it had
   * not hashed may be gone: the import fails.
   */
  onWorkerFailure(e: Error): void {
    // A session hashing on this thread never used that worker: nothing of it is lost.
    if (this.where !== 'worker' || this.closed) return;
    if (!this.answered) {
      this.owner.noteStartFailure(e);
      this.takeOver();
    } else {
      this.onFailure(new HashWorkerError(e));
    }
  }

  private attach(): void {
    try {
      this.worker = this.owner.attach();
      this.where = 'worker';
    } catch (e) {
      // Nothing was sent anywhere: the whole stream is in the ring.
      this.owner.noteStartFailure(e);
      this.takeOver();
      return;
    }
    this.send({ id: this.id, open: this.ring, diffId: this.withDiffId, files: this.fileAlgorithm });
  }

  /** Go on hashing here, from the first byte, with the worker's code. */
  private takeOver(): void {
    this.where = 'here';
    this.worker = undefined;
    this.local = ringHasher(createHash, localFileHash);
    this.send({ id: this.id, open: this.ring, diffId: this.withDiffId, files: this.fileAlgorithm });
    // Every file named so far, whether or not the worker was told about it.
    this.named = [...this.files].map(([fid, f]) => [fid, f.start, f.size]);
    this.posted = 0;
    // Writes waiting for the worker's answer wake and see room; a finish waiting for its
    // last answer gets it.
    this.post(this.finished !== undefined);
  }

  private onFailure(e: Error): void {
    this.failure ??= e;
    for (const f of this.files.values()) f.reject(e);
    this.files.clear();
    this.finished?.reject(e);
    this.wake();
  }

  private post(finish: boolean): void {
    this.send({ id: this.id, start: this.chunkStart, end: this.written, files: this.named, finish });
    this.named = [];
    this.posted = this.written;
  }

  private send(m: RingMessage): void {
    if (this.where === 'here') {
      const reply = this.local!.handle(m);
      if (reply) this.onReply(reply);
    } else {
      this.worker?.postMessage(m);
    }
  }

  private wake(): void {
    const w = this.waiting;
    this.waiting = undefined;
    w?.();
  }

  private check(): void {
    if (this.failure) throw this.failure;
  }

  /** drain and finish settle named files, so all of their bytes must have come (see HashSession). */
  private checkNamedWritten(what: string): void {
    for (const f of this.files.values()) {
      if (f.start + f.size > this.written) throw new RangeError(`hash session ${what}: a named file's bytes have not all been written`);
    }
  }

  /** Below LOCAL_LIMIT the whole stream is in the ring: files are hashed from there, here. */
  private hashNamedLocally(): void {
    const once = this.fileAlgorithm === 'blake3' ? nodeFileHasher.once! : nodeSha256Once;
    for (const f of this.files.values()) f.resolve(once(this.bytes.subarray(f.start, f.start + f.size)));
    this.files.clear();
    this.named = [];
  }

  private finishLocally(): Digest | undefined {
    this.hashNamedLocally();
    return this.withDiffId ? nodeSha256Once(this.bytes.subarray(0, this.written)) : undefined;
  }
}

const copy = Buffer.prototype.copy as (this: Uint8Array, target: Uint8Array, targetStart: number, sourceStart?: number, sourceEnd?: number) => number;

/** `ringHasher`'s file hashes on this thread: the importer's own hashers (nodeFileHasher sees the size itself). */
const localFileHash = (algorithm: DigestAlgorithm): FileHash => (algorithm === 'blake3' ? nodeFileHasher : nodeSha256)();
