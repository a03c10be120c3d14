import type { SyncFs } from '@strata/syncfs';
import type { Clock, OutputSink, StdinSource, WasiContext } from './context.js';
import { DIR_RIGHTS, ERRNO, FILE_RIGHTS, RIGHTS } from './defs.js';
import { errnoOf } from './errno.js';
import { FdTable } from './fd-table.js';
import { GuestMemory } from './memory.js';
import { fdSyscalls } from './syscalls/fd.js';
import { miscSyscalls, ProcExit } from './syscalls/misc.js';
import { pathSyscalls } from './syscalls/path.js';
import { pollSyscalls } from './syscalls/poll.js';

export interface Preopen {
  fs: SyncFs;
  /** The directory the preopen opens (default: the fs root), e.g. the working directory. */
  node?: number;
  /** Refuse every change (EROFS comes from the fs if it is read-only itself). */
  readOnly?: boolean;
}

export interface WasiOptions {
  /** argv, argv[0] included. */
  args?: string[];
  /** The environment: `KEY=value` strings or a record. Nothing is inherited. */
  env?: string[] | Record<string, string>;
  /** Guest path → file system. `/` is the container root (absolute symlinks resolve there). */
  preopens?: Record<string, SyncFs | Preopen>;
  stdin?: StdinSource;
  stdout?: OutputSink;
  stderr?: OutputSink;
  clock?: Clock;
  random?: (buf: Uint8Array) => void;
  limits?: {
    /** Open descriptors, stdio and preopens included (EMFILE past it). Default 1024. */
    fds?: number;
  };
  /** Called on every syscall with its name (the conformance harness counts them). */
  onSyscall?: (name: string) => void;
  /**
   * For JSPI (`WebAssembly.Suspending`): given an exception a syscall threw, the promise to
   * wait for before running that syscall again, or undefined when the exception is not a
   * request to wait. With it, the syscalls that read file data or stdin (fd_read, fd_pread,
   * and fd_write/fd_pwrite, whose first write into a copied-up chunk reads the lower bytes)
   * and poll_oneoff (waiting on such a stdin, see StdinSource.pending) are suspending imports, and the module must be run with `startAsync`. The others stay
   * plain: a suspending import costs more per call even when it does not suspend. The
   * browser's JSPI bridge uses it to read IndexedDB on a miss.
   */
  suspend?: (e: unknown) => Promise<void> | undefined;
  /**
   * With `suspend`: called each time a suspending syscall returns. What was loaded for its
   * retries may go then (the JSPI bridge keeps those chunks until it does: one read larger
   * than its cache would otherwise evict its own first chunks and retry for ever).
   */
  settled?: () => void;
}

const defaultClock: Clock = {
  realtime: () => BigInt(Date.now()) * 1_000_000n + BigInt(Math.floor((performance.now() % 1) * 1e6)),
  monotonic: () => BigInt(Math.round(performance.now() * 1e6)),
};

/** The syscalls that may need data that is still loading (see WasiOptions.suspend). */
const SUSPENDING = new Set(['fd_read', 'fd_pread', 'fd_write', 'fd_pwrite', 'poll_oneoff']);

const STDIO_RIGHTS = RIGHTS.FD_READ | RIGHTS.FD_WRITE | RIGHTS.FD_FDSTAT_SET_FLAGS | RIGHTS.FD_FILESTAT_GET |
  RIGHTS.POLL_FD_READWRITE | RIGHTS.FD_SEEK | RIGHTS.FD_TELL;

/**
 * WASI preview1 for one instance, in the shape of `node:wasi`:
 *
 * ```ts
 * const wasi = new WASI({ args, env, preopens: { '/': overlay }, stdout: (b) => ... });
 * const instance = new WebAssembly.Instance(module, wasi.getImportObject());
 * const exitCode = wasi.start(instance);   // runs _start; proc_exit unwinds to here
 * ```
 *
 * Everything is synchronous and browser-safe (no Node imports): file systems are SyncFs,
 * stdin is a synchronous source, stdout/stderr are byte sinks. A syscall maps FsError and
 * WasiError to an errno; any other exception is a bug in Strata or the host and traps.
 */
export class WASI {
  readonly wasiImport: Record<string, (...args: never[]) => unknown>;
  private readonly counters: { name: string; calls: number }[] = [];

  /** Syscalls made so far, by name (those made at least once). */
  get syscalls(): Map<string, number> {
    return new Map(this.counters.filter((c) => c.calls > 0).map((c) => [c.name, c.calls]));
  }
  private readonly ctx: WasiContext;
  private readonly suspend: WasiOptions['suspend'];
  private readonly settled: WasiOptions['settled'];
  private started = false;

  constructor(options: WasiOptions = {}) {
    const env = Array.isArray(options.env)
      ? options.env
      : Object.entries(options.env ?? {}).map(([k, v]) => `${k}=${v}`);
    const fds = new FdTable(options.limits?.fds ?? 1024);
    this.ctx = {
      mem: new GuestMemory(),
      fds,
      args: options.args ?? [],
      env,
      stdin: options.stdin ?? { read: () => 0 },
      stdout: options.stdout ?? (() => {}),
      stderr: options.stderr ?? (() => {}),
      clock: options.clock ?? defaultClock,
      random: options.random ?? ((b) => crypto.getRandomValues(b)),
    };
    for (const stream of [0, 1, 2] as const) {
      fds.add({ kind: 'stdio', stream, rightsBase: STDIO_RIGHTS, rightsInheriting: 0, fdflags: 0 });
    }
    for (const [path, p] of Object.entries(options.preopens ?? {})) {
      const fs = 'fs' in p && !('lookup' in p) ? p.fs : (p as SyncFs);
      const readOnly = 'fs' in p && !('lookup' in p) ? (p.readOnly ?? false) : false;
      const isRoot = path === '/';
      if (isRoot) this.ctx.rootFs = fs;
      const node = 'fs' in p && !('lookup' in p) && p.node !== undefined ? p.node : fs.root;
      // A preopen inside the container root (the working directory) resolves absolute
      // symlinks there too.
      const inRoot = isRoot || (this.ctx.rootFs === fs);
      const write = RIGHTS.PATH_CREATE_DIRECTORY | RIGHTS.PATH_CREATE_FILE | RIGHTS.PATH_LINK_TARGET |
        RIGHTS.PATH_RENAME_TARGET | RIGHTS.PATH_SYMLINK | RIGHTS.PATH_REMOVE_DIRECTORY | RIGHTS.PATH_UNLINK_FILE |
        RIGHTS.PATH_FILESTAT_SET_SIZE | RIGHTS.PATH_RENAME_SOURCE | RIGHTS.FD_WRITE | RIGHTS.FD_ALLOCATE |
        RIGHTS.FD_FILESTAT_SET_SIZE | RIGHTS.PATH_FILESTAT_SET_TIMES | RIGHTS.FD_FILESTAT_SET_TIMES |
        // A hard link out of a read-only preopen into a writable one would make its files writable.
        RIGHTS.PATH_LINK_SOURCE;
      fds.add({
        kind: 'dir', fs, node, preopenRoot: fs.root, preopenPath: path, inContainerRoot: inRoot,
        rightsBase: readOnly ? DIR_RIGHTS & ~write : DIR_RIGHTS,
        rightsInheriting: readOnly ? (DIR_RIGHTS | FILE_RIGHTS) & ~write : DIR_RIGHTS | FILE_RIGHTS,
        fdflags: 0,
      });
    }
    const calls = { ...miscSyscalls(this.ctx), ...fdSyscalls(this.ctx), ...pathSyscalls(this.ctx), ...pollSyscalls(this.ctx) };
    const onSyscall = options.onSyscall;
    const imports: Record<string, (...args: never[]) => unknown> = {};
    for (const [name, fn] of Object.entries(calls) as [string, (...a: unknown[]) => unknown][]) {
      const counter = { name, calls: 0 };
      this.counters.push(counter);
      // Nine named parameters (path_open's count, the most any preview1 call takes) rather
      // than a rest parameter: no array per syscall for the garbage collector.
      imports[name] = (a?: unknown, b?: unknown, c?: unknown, d?: unknown, e?: unknown, f?: unknown, g?: unknown, h?: unknown, i?: unknown) => {
        counter.calls++;
        onSyscall?.(name);
        try {
          fn(a, b, c, d, e, f, g, h, i);
          return ERRNO.SUCCESS;
        } catch (err) {
          const errno = errnoOf(err);
          if (errno === undefined) throw err;
          return errno;
        }
      };
    }
    this.wasiImport = imports;
    this.suspend = options.suspend;
    this.settled = options.settled;
  }

  getImportObject(): WebAssembly.Imports {
    const suspend = this.suspend;
    const settled = this.settled;
    if (!suspend) return { wasi_snapshot_preview1: this.wasiImport as unknown as WebAssembly.ModuleImports };
    const { Suspending } = WebAssembly as unknown as { Suspending?: new (fn: (...a: unknown[]) => unknown) => unknown };
    if (!Suspending) throw new TypeError('WASI: the suspend option needs JSPI (WebAssembly.Suspending)');
    const imports: Record<string, unknown> = {};
    for (const [name, fn] of Object.entries(this.wasiImport) as [string, (...a: unknown[]) => unknown][]) {
      if (!SUSPENDING.has(name)) {
        imports[name] = fn;
        continue;
      }
      // Returns synchronously unless the syscall asked to wait; then the stack suspends and
      // the syscall runs again once the wait is over.
      const call = (...args: unknown[]): unknown => {
        try {
          const r = fn(...args);
          settled?.();
          return r;
        } catch (e) {
          const wait = suspend(e);
          if (!wait) throw e;
          return wait.then(() => call(...args));
        }
      };
      imports[name] = new Suspending(call);
    }
    return { wasi_snapshot_preview1: imports as WebAssembly.ModuleImports };
  }

  /** Run a command module's `_start`; returns its exit code (0 if it returns normally). */
  start(instance: WebAssembly.Instance): number {
    const _start = this.enter(instance);
    try {
      _start();
      return 0;
    } catch (e) {
      return exitCodeOf(e);
    } finally {
      this.closeAll();
    }
  }

  /** `start` for a module instantiated with the `suspend` option: `_start` runs under JSPI. */
  async startAsync(instance: WebAssembly.Instance): Promise<number> {
    const { promising } = WebAssembly as unknown as { promising?: (fn: () => void) => () => Promise<void> };
    if (!promising) throw new TypeError('WASI.startAsync needs JSPI (WebAssembly.promising)');
    const _start = this.enter(instance);
    try {
      await promising(_start)();
      return 0;
    } catch (e) {
      return exitCodeOf(e);
    } finally {
      this.closeAll();
    }
  }

  /** The checks and binding both starts share; the module's `_start`. */
  private enter(instance: WebAssembly.Instance): () => void {
    if (this.started) throw new Error('WASI.start: this WASI instance was already started');
    this.started = true;
    const { _start } = instance.exports as { _start?: () => void };
    if (typeof _start !== 'function') throw new TypeError('WASI.start: the module exports no _start function');
    this.bind(instance);
    return _start;
  }

  /** Initialise a reactor module (`_initialize`, if it exports one). */
  initialize(instance: WebAssembly.Instance): void {
    if (this.started) throw new Error('WASI.initialize: this WASI instance was already started');
    this.started = true;
    this.bind(instance);
    const { _initialize } = instance.exports as { _initialize?: () => void };
    _initialize?.();
  }

  private bind(instance: WebAssembly.Instance): void {
    const memory = instance.exports.memory;
    if (!(memory instanceof WebAssembly.Memory)) throw new TypeError('WASI: the module exports no memory');
    this.ctx.mem.bind(memory);
  }

  private closeAll(): void {
    for (const [fd, e] of this.ctx.fds.entries()) if (e.kind === 'file') this.ctx.fds.close(fd);
  }
}

/** proc_exit unwinds to the start as a ProcExit: its code; anything else goes on up. */
function exitCodeOf(e: unknown): number {
  if (e instanceof ProcExit) return e.code;
  throw e;
}

export { ProcExit };
