import { homedir } from 'node:os';
import { join } from 'node:path';
import { OverlayFs, type Change } from '@strata/overlay';
import { ImageError, ImageStore, type ImageRecord } from '@strata/image';
import { DiskImageMeta } from '@strata/image/node';
import type { Digest } from '@strata/store';
import { DiskContentStore, DiskLayerStore, nodeGunzip, nodeFileHasher, nodeHashOffload, nodeSha256, ownStart } from '@strata/store/node';
import { ContainerStore, type ContainerConfig, type ContainerState } from './container-store.js';
import { EXIT, RuntimeError } from './exit-codes.js';
import { commitImage } from './commit-image.js';
import { exportTar } from './export-tar.js';
import { writeChunks } from './write-chunks.js';
import { ModuleCache } from './module-cache.js';
import { mergeEnv, type BindMount } from './options.js';
import { runInWorker, type WorkerRun } from './worker/host.js';
import { runInProcess } from './worker/in-process.js';

export interface CreateOptions {
  name?: string;
  /** Replaces the image's Cmd (docker's trailing arguments). */
  args?: string[];
  /** Replaces the image's Entrypoint (and drops its Cmd, as docker does). */
  entrypoint?: string;
  /** `KEY=value` on top of the image's Env (later wins). */
  env?: string[] | Record<string, string>;
  workdir?: string;
  mounts?: BindMount[];
  /** Linear memory cap in bytes. */
  memory?: number;
  timeoutSeconds?: number;
  /**
   * Bytes of stdout + stderr together after which the container is killed (137, "output
   * limit"): a program that floods its output cannot fill the host's memory or disk (the
   * collected result, the container's log). Default: no limit.
   */
  outputLimit?: number;
  interactive?: boolean;
  autoRemove?: boolean;
}

/**
 * Whether a start can run on the caller's thread (`StartIo.inProcess`): only when nothing
 * has to reach the program while it runs — no stdin to feed, no time or output limit to
 * enforce. The CLI asks it too, to boot a worker early when one will be needed.
 */
export function canRunInProcess(o: { stdin: boolean; timeoutSeconds?: number | undefined; outputLimit?: number | undefined }): boolean {
  return !o.stdin && o.timeoutSeconds === undefined && o.outputLimit === undefined;
}

export interface StartIo {
  stdin?: AsyncIterable<Uint8Array>;
  /**
   * The container's output as it comes. A promise it returns holds the container's further
   * output until it settles (in a worker the program waits once 4 MiB are unsettled): a
   * consumer slower than the program sets the pace, and nothing piles up in memory.
   */
  onOutput?: (stream: 'stdout' | 'stderr', bytes: Uint8Array) => void | Promise<void>;
  /**
   * Run the program on this thread instead of a worker (a CLI attached to one container):
   * it starts sooner, but blocks this thread until it exits and `kill` cannot stop it. Taken
   * only when `canRunInProcess` allows; otherwise the worker runs it. `start` says which.
   */
  inProcess?: boolean;
  /**
   * This process exists for this container alone (the CLI's `run` and `start`): another
   * process may stop it with a signal. Otherwise (a service running containers with the
   * library) `kill` from another process is refused rather than stop the whole service.
   */
  ownsProcess?: boolean;
}

export interface RunOptions extends CreateOptions {
  stdin?: AsyncIterable<Uint8Array> | Uint8Array | string;
  /** Stream output as it comes (see StartIo.onOutput); when absent it is collected into the result. */
  onOutput?: (stream: 'stdout' | 'stderr', bytes: Uint8Array) => void | Promise<void>;
}

export interface RunResult {
  id: string;
  exitCode: number;
  stdout: Uint8Array;
  stderr: Uint8Array;
  /** Why Strata could not run the program (exit codes 125-127, 137). */
  error?: string;
}

/**
 * Strata's runtime on one root directory: images, layers, containers. The library API and
 * the `strata` CLI are both this class.
 *
 * ```ts
 * const rt = await Runtime.open({ root });
 * await rt.load('examples/hello/image');
 * const r = await rt.run('strata-hello', { args: ['you'], remove: true });
 * r.exitCode; new TextDecoder().decode(r.stdout);
 * ```
 *
 * Every container start runs in its own worker thread; a trap, a kill or a crash ends that
 * worker only. Compiled modules are cached in this process (see ModuleCache).
 */
export class Runtime {
  readonly images: ImageStore;
  readonly containers: ContainerStore;
  readonly content: DiskContentStore;
  readonly layers: DiskLayerStore;
  readonly modules = new ModuleCache();
  private readonly running = new Map<string, WorkerRun>();

  private constructor(readonly root: string) {
    this.content = new DiskContentStore(root);
    this.layers = new DiskLayerStore(root);
    this.images = new ImageStore(this.content, this.layers, new DiskImageMeta(root), { hasher: nodeSha256, fileHasher: nodeFileHasher, gunzip: nodeGunzip, offload: nodeHashOffload() });
    this.containers = new ContainerStore(root);
  }

  /** The default root: $STRATA_ROOT, else ~/.local/share/strata. */
  static defaultRoot(): string {
    return process.env.STRATA_ROOT ?? join(homedir(), '.local', 'share', 'strata');
  }

  static async open(options: { root?: string } = {}): Promise<Runtime> {
    return new Runtime(options.root ?? Runtime.defaultRoot());
  }

  async load(path: string) {
    const { loadImages } = await import('@strata/image/node');
    return loadImages(this.images, path);
  }

  async create(imageRef: string, o: CreateOptions = {}): Promise<ContainerConfig> {
    let image: ImageRecord;
    try {
      image = await this.images.resolve(imageRef);
    } catch (e) {
      if (e instanceof ImageError) throw new RuntimeError(`Unable to find image '${imageRef}' locally`, EXIT.RUNTIME_ERROR, { cause: e });
      throw e;
    }
    const cfg = image.config.config ?? {};
    // A wasm artifact (one module, no rootfs) runs its module; argv[0] names it.
    const artifactEntry = image.wasmModule ? ['/module.wasm'] : [];
    // `--entrypoint ''` clears the image's: the arguments are the command, as in docker.
    const entrypoint = o.entrypoint === '' ? [] : o.entrypoint !== undefined ? [o.entrypoint] : (cfg.Entrypoint ?? artifactEntry);
    const cmd = o.args && o.args.length > 0 ? o.args : o.entrypoint !== undefined ? [] : (cfg.Cmd ?? []);
    const argv = [...entrypoint, ...cmd];
    if (argv.length === 0) throw new RuntimeError('no command specified: the image has no Entrypoint or Cmd');
    const extra = Array.isArray(o.env) ? o.env : Object.entries(o.env ?? {}).map(([k, v]) => `${k}=${v}`);
    return this.containers.create({
      ...(o.name !== undefined ? { name: o.name } : {}),
      image: { ref: imageRef, id: image.id, diffIds: image.diffIds, ...(image.wasmModule ? { wasmModule: image.wasmModule } : {}) },
      argv,
      env: mergeEnv(cfg.Env ?? [], extra),
      workdir: o.workdir ?? (cfg.WorkingDir || '/'),
      mounts: o.mounts ?? [],
      ...(o.memory !== undefined ? { memoryBytes: o.memory } : {}),
      ...(o.timeoutSeconds !== undefined ? { timeoutSeconds: o.timeoutSeconds } : {}),
      ...(o.outputLimit !== undefined ? { outputLimitBytes: o.outputLimit } : {}),
      interactive: o.interactive ?? false,
      autoRemove: o.autoRemove ?? false,
    });
  }

  /**
   * Start a created or stopped container; it sees what it wrote before (its saved upper).
   * Resolves once it has exited and its new state is saved.
   */
  start(ref: string, io: StartIo = {}): { id: string; done: Promise<{ exitCode: number; error?: string }>; kill(): void; inProcess: boolean } {
    const config = this.containers.resolve(ref);
    const startedAt = new Date().toISOString();
    const pidStart = ownStart();
    // On this thread only when asked, and only when nothing needs to interrupt the program.
    const here = io.inProcess === true &&
      canRunInProcess({ stdin: io.stdin !== undefined, timeoutSeconds: config.timeoutSeconds, outputLimit: config.outputLimitBytes });
    // The check and the record together, one process at a time.
    this.containers.whileStarting(config.id, () => {
      if (this.containers.state(config.id).status === 'running') throw new RuntimeError(`container ${config.name} is already running`);
      this.containers.setState(config.id, {
        status: 'running', startedAt, pid: process.pid, ...(pidStart ? { pidStart } : {}), ...(io.ownsProcess ? {} : { shared: true }),
        ...(here ? { inProcess: true } : {}),
      });
    });
    const upper = this.containers.loadUpper(config.id);
    const run = (here ? runInProcess : runInWorker)({
      request: {
        root: this.root, diffIds: config.image.diffIds, ...(upper ? { upper } : {}), argv: config.argv, env: config.env,
        ...(config.image.wasmModule ? { moduleBlob: config.image.wasmModule } : {}),
        workdir: config.workdir, mounts: config.mounts,
        ...(config.memoryBytes !== undefined ? { memoryBytes: config.memoryBytes } : {}),
      },
      ...(io.stdin ? { stdin: io.stdin } : {}),
      onOutput: (stream, bytes) => {
        this.containers.appendLog(config.id, stream, bytes);
        return io.onOutput?.(stream, bytes);
      },
      modules: this.modules,
      ...(config.timeoutSeconds !== undefined ? { timeoutMs: config.timeoutSeconds * 1000 } : {}),
      ...(config.outputLimitBytes !== undefined ? { outputLimit: config.outputLimitBytes } : {}),
    });
    this.running.set(config.id, run);
    const done = run.done.then((r) => {
      this.running.delete(config.id);
      // The upper is saved before the state says exited: a crash between the two leaves a
      // container that reads as exited (its pid is gone) with the new upper, or the old one.
      if (r.upper) this.containers.saveUpper(config.id, r.upper);
      const next: ContainerState = { status: 'exited', exitCode: r.exitCode, startedAt, finishedAt: new Date().toISOString() };
      if (r.error) next.error = r.error;
      this.containers.setState(config.id, next);
      if (config.autoRemove) this.containers.remove(config.id);
      return { exitCode: r.exitCode, ...(r.error ? { error: r.error } : {}) };
    });
    return { id: config.id, done, kill: () => run.kill(), inProcess: here };
  }

  /** create + start + wait; output collected (or streamed through `onOutput`). */
  async run(imageRef: string, o: RunOptions = {}): Promise<RunResult> {
    const config = await this.create(imageRef, o);
    const out: Uint8Array[] = [];
    const err: Uint8Array[] = [];
    const stdin = o.stdin === undefined ? undefined : typeof o.stdin === 'string' || o.stdin instanceof Uint8Array ? once(o.stdin) : o.stdin;
    const started = this.start(config.id, {
      ...(stdin ? { stdin } : {}),
      onOutput: o.onOutput ?? ((s, b) => void (s === 'stdout' ? out : err).push(b)),
    });
    const r = await started.done;
    return { id: config.id, exitCode: r.exitCode, stdout: new Uint8Array(Buffer.concat(out)), stderr: new Uint8Array(Buffer.concat(err)), ...(r.error ? { error: r.error } : {}) };
  }

  /** Wait for a container to exit (started here or by another process). */
  async wait(ref: string): Promise<number> {
    let config: ContainerConfig;
    try {
      config = this.containers.resolve(ref);
    } catch (e) {
      // A --rm container that has ended and removed itself, named by its id.
      const code = this.containers.exitedAndRemoved(ref);
      if (code !== undefined) return code;
      throw e;
    }
    for (;;) {
      let s: ContainerState;
      try {
        s = this.containers.state(config.id);
      } catch (e) {
        // Removed as it exited (--rm): its status was kept for this.
        const code = this.containers.exitedAndRemoved(config.id);
        if (code !== undefined) return code;
        throw new RuntimeError(`container ${config.name} was removed`, EXIT.RUNTIME_ERROR, { cause: e });
      }
      if (s.status !== 'running') return s.exitCode ?? 0;
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Stop a running container (here, or in the process that runs it). */
  async kill(ref: string): Promise<void> {
    const config = this.containers.resolve(ref);
    const here = this.running.get(config.id);
    if (here) {
      here.kill();
      return;
    }
    const s = this.containers.state(config.id);
    if (s.status !== 'running' || s.pid === undefined) throw new RuntimeError(`container ${config.name} is not running`);
    if (s.shared) throw new RuntimeError(`container ${config.name} runs in process ${s.pid} with other work: stop it there (Runtime.kill in that process)`);
    // A program on its process's own thread leaves no handler a turn: SIGKILL, whose status
    // (137) is what `kill` promises; a worker's process handles SIGTERM and exits 137 itself.
    process.kill(s.pid, s.inProcess ? 'SIGKILL' : 'SIGTERM');
  }

  /** Containers running in this process (the CLI kills them on SIGTERM). */
  killAll(): void {
    for (const r of this.running.values()) r.kill();
  }

  async remove(ref: string, force = false): Promise<void> {
    const config = this.containers.resolve(ref);
    if (this.containers.state(config.id).status === 'running') {
      if (!force) throw new RuntimeError(`cannot remove running container ${config.name}: stop it first`);
      await this.kill(ref);
      await this.wait(ref);
      // A --rm container removed itself as it ended: nothing is left to remove.
      if (this.containers.exitedAndRemoved(config.id) !== undefined && !this.containers.exists(config.id)) return;
    }
    this.containers.remove(config.id);
  }

  /** The container's merged view (image layers + what it wrote), read-only use. */
  async overlay(ref: string): Promise<OverlayFs> {
    const config = this.containers.resolve(ref);
    const lowers = await Promise.all(config.image.diffIds.map((d) => this.layers.get(d as Digest)));
    const upper = this.containers.loadUpper(config.id);
    return upper ? OverlayFs.restore({ lowers, content: this.content }, upper) : new OverlayFs({ lowers, content: this.content });
  }

  async diff(ref: string): Promise<Change[]> {
    return (await this.overlay(ref)).diff();
  }

  /** A new image: the container's image plus one layer with what it changed. */
  async commit(ref: string, newRef: string): Promise<ImageRecord> {
    const config = this.containers.resolve(ref);
    const base = await this.images.resolve(config.image.id);
    return commitImage(this.images, base, await this.overlay(ref), { ref: newRef, createdBy: `strata commit ${config.name}` });
  }

  async export(ref: string, file: string): Promise<void> {
    const fs = await this.overlay(ref);
    await writeChunks(file, exportTar(fs));
  }

  /** Remove an image; layers used by containers stay. */
  async removeImage(ref: string) {
    const containers = this.containers.list();
    return this.images.remove(ref, containers.map((c) => c.config.image.id), containers.flatMap((c) => c.config.image.diffIds as Digest[]));
  }

  async info() {
    const containers = this.containers.list();
    let blobs = 0;
    for await (const _ of this.content.list()) blobs++;
    return {
      Driver: 'overlay',
      DriverStatus: [['Backing Filesystem', 'strata content store (files)'], ['Layers', String((await this.layers.list()).length)]],
      BackingStore: 'disk',
      StrataRoot: this.root,
      Images: (await this.images.list()).length,
      Containers: containers.length,
      ContainersRunning: containers.filter((c) => c.state.status === 'running').length,
      ContainersStopped: containers.filter((c) => c.state.status !== 'running').length,
      Layers: (await this.layers.list()).length,
      Blobs: blobs,
      // Pulls, loads and commits in progress; while one is, `rmi` collects nothing.
      Leases: await this.images.leases(),
      ServerVersion: '0.1.0',
    };
  }
}

async function* once(data: Uint8Array | string): AsyncGenerator<Uint8Array> {
  yield typeof data === 'string' ? new TextEncoder().encode(data) : data;
}
