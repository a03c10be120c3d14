import { Worker } from 'node:worker_threads';
import { HASH_CHUNK, type HashOffload, type HashSession } from '../import/hash-offload.js';
import type { Digest } from '../types.js';
import { nodeSha256Once } from './hash.js';

/**
 * The hashing worker, as source: it needs only node:crypto and worker_threads, and as an
 * eval'd script it runs the same from the TypeScript sources, the built package and the
 * CLI bundle, none of which would agree on where a separate worker file lives.
 *
 * Per session it holds a ring (a SharedArrayBuffer the importing thread copies the tar
 * stream into) and hashes, for each message: the new bytes into the diffID (unless the
 * stream's digest is known already), and the named files' bytes as far as they have
 * arrived. It answers with the digests of the files it finished and `released`, the stream
 * position below which the importer may overwrite the ring: the start of the last chunk the
 * message covers, as no file named later can start before it (the session's ordering rule).
 */
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const sessions = new Map();
const update = (s, h, from, to) => {
  while (from < to) {
    const off = from % s.ring.length;
    const n = Math.min(to - from, s.ring.length - off);
    h.update(s.ring.subarray(off, off + n));
    from += n;
  }
};
parentPort.on('message', (m) => {
  if (m.open) {
    sessions.set(m.id, { ring: new Uint8Array(m.open), end: 0, diff: m.diffId ? createHash('sha256') : null, tasks: [] });
    return;
  }
  const s = sessions.get(m.id);
  if (!s) return;
  if (m.close) {
    sessions.delete(m.id);
    return;
  }
  for (const [fid, start, size] of m.files) s.tasks.push({ fid, pos: start, end: start + size, h: createHash('sha256') });
  if (s.diff) update(s, s.diff, s.end, m.end);
  s.end = m.end;
  const files = [];
  let keep = 0;
  for (const t of s.tasks) {
    const to = Math.min(t.end, s.end);
    if (to > t.pos) {
      update(s, t.h, t.pos, to);
      t.pos = to;
    }
    if (t.pos === t.end) files.push([t.fid, t.h.digest('hex')]);
    else s.tasks[keep++] = t;
  }
  s.tasks.length = keep;
  // Every byte up to m.end is hashed, into the diffID and into each named file it belongs
  // to; only files not named yet may still need bytes from the last chunk on.
  const reply = { id: m.id, released: m.start, files };
  if (m.finish) {
    reply.finished = true;
    if (s.diff) reply.diffId = s.diff.digest('hex');
    sessions.delete(m.id);
  }
  parentPort.postMessage(reply);
});
`;

/** Bytes of tar stream a session may hold ahead of the worker. */
const RING = 4 * 2 ** 20;
/** Tell the worker about new bytes once this many have come (a message costs ~0.1 ms). */
const POST_EVERY = 2 ** 20;
/**
 * Below this many bytes a session never involves the worker: it hashes from its ring on the
 * importing thread at `finish`. A small layer gains nothing from the hand-over, and most
 * imports that need no worker then never start one.
 */
const LOCAL_LIMIT = 2 * 2 ** 20;

interface Reply {
  id: number;
  released: number;
  files: [number, string][];
  /** The answer to the last message: every named file is settled. */
  finished?: true;
  diffId?: string;
}

/**
 * The Node offload: one worker thread for the process, started at the first layer large
 * enough to need it, and not keeping the process alive while no import uses it. It serves
 * one import at a time — its thread is the slower side of the split already, so a second
 * stream there would only wait — and a concurrent import hashes on its own thread. A worker
 * that fails fails the import using it; the next one starts a new worker.
 */
export function nodeHashOffload(): NodeHashOffload {
  return shared;
}

export interface NodeHashOffload extends HashOffload {
  /** The worker's thread id while it runs (diagnostics: which imports reached it). */
  readonly threadId: number | undefined;
}

class WorkerHashOffload implements NodeHashOffload {
  private worker: Worker | undefined;
  private active: WorkerSession | undefined;
  private ring: SharedArrayBuffer | undefined;
  private nextId = 1;

  get threadId(): number | undefined {
    return this.worker?.threadId;
  }

  open(options: { diffId?: boolean } = {}): HashSession | undefined {
    if (this.active) return undefined;
    this.ring ??= new SharedArrayBuffer(RING);
    this.active = new WorkerSession(this, this.nextId++, this.ring, options.diffId ?? true);
    return this.active;
  }

  /** Called by the session when it outgrows LOCAL_LIMIT. */
  attach(): Worker {
    if (!this.worker) {
      // Node's own modules only: none of the parent's flags (a TS loader, conditions, flags a
      // worker refuses) belong here.
      const w = new Worker(WORKER_SOURCE, { eval: true, execArgv: [] });
      w.on('message', (r: Reply) => {
        if (r.id === this.active?.id) this.active.onReply(r);
      });
      w.on('error', (e) => this.fail(w, e));
      w.on('exit', (code) => this.fail(w, new Error(`hash worker exited with code ${code}`)));
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

  private fail(w: Worker, e: Error): void {
    if (this.worker !== w) return;
    this.worker = undefined;
    this.active?.onFailure(e);
  }
}

const shared = new WorkerHashOffload();

class WorkerSession implements HashSession {
  private readonly bytes: Uint8Array;
  private worker: Worker | undefined;
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
  ) {
    this.bytes = new Uint8Array(ring);
  }

  async write(chunk: Uint8Array): Promise<void> {
    this.check();
    if (chunk.length > HASH_CHUNK) throw new RangeError(`hash session chunks are at most ${HASH_CHUNK} bytes`);
    if (!this.worker && this.written + chunk.length > LOCAL_LIMIT) {
      this.worker = this.owner.attach();
      this.worker.postMessage({ id: this.id, open: this.ring, diffId: this.withDiffId });
    }
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
    if (this.worker && this.written - this.posted >= POST_EVERY) this.post(false);
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
    if (!this.worker) return this.hashNamedLocally();
    if (this.files.size === 0) return;
    this.post(false);
    while (this.files.size > 0) {
      await new Promise<void>((resolve) => (this.waiting = resolve));
      this.check();
    }
  }

  finish(): Promise<Digest | undefined> {
    this.check();
    if (!this.worker) return Promise.resolve(this.finishLocally());
    const p = new Promise<Digest | undefined>((resolve, reject) => (this.finished = { resolve, reject }));
    this.chunkStart = this.written;
    this.post(true);
    return p;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.onFailure(new Error('hash session closed'));
    if (this.worker) this.worker.postMessage({ id: this.id, close: true });
    this.owner.detach(this);
  }

  onReply(r: Reply): void {
    this.released = r.released;
    for (const [fid, hex] of r.files) {
      this.files.get(fid)?.resolve(`sha256:${hex}` as Digest);
      this.files.delete(fid);
    }
    if (r.finished) this.finished?.resolve(r.diffId === undefined ? undefined : `sha256:${r.diffId}` as Digest);
    this.wake();
  }

  onFailure(e: Error): void {
    this.failure ??= e;
    for (const f of this.files.values()) f.reject(e);
    this.files.clear();
    this.finished?.reject(e);
    this.wake();
  }

  private post(finish: boolean): void {
    this.worker!.postMessage({ id: this.id, start: this.chunkStart, end: this.written, files: this.named, finish });
    this.named = [];
    this.posted = this.written;
  }

  private wake(): void {
    const w = this.waiting;
    this.waiting = undefined;
    w?.();
  }

  private check(): void {
    if (this.failure) throw this.failure;
  }

  /** Below LOCAL_LIMIT the whole stream is in the ring: files are hashed from there, here. */
  private hashNamedLocally(): void {
    for (const f of this.files.values()) f.resolve(nodeSha256Once(this.bytes.subarray(f.start, f.start + f.size)));
    this.files.clear();
    this.named = [];
  }

  private finishLocally(): Digest | undefined {
    this.hashNamedLocally();
    return this.withDiffId ? nodeSha256Once(this.bytes.subarray(0, this.written)) : undefined;
  }
}

const copy = Buffer.prototype.copy as (this: Uint8Array, target: Uint8Array, targetStart: number, sourceStart?: number, sourceEnd?: number) => number;
