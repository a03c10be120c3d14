import { OverlayFs } from '@strata/overlay';
import type { Digest } from '@strata/store';
import { nodeSha256Once } from '@strata/store/node';
import { MountFs, type SyncFs } from '@strata/syncfs';
import { WASI, type StdinSource } from '@strata/wasi';
import { HostDirFs } from '@strata/wasi/node';
import { EXIT } from '../exit-codes.js';
import { mkdirs, readWholeFile, resolveGuestPath } from '../guest-paths.js';
import { capMemory, MemoryLimitError } from '../memory-limit.js';
import { openStores } from '../stores.js';
import type { RunRequest, RunResult } from './protocol.js';

/** The exit status of a program that trapped while running (128 + SIGABRT, as wasmtime). */
const TRAPPED = 134;

/** What a container start needs from whoever hosts it: a worker thread or the CLI process. */
export interface ContainerIo {
  stdin: StdinSource;
  send(stream: 'stdout' | 'stderr', bytes: Uint8Array): void;
  /** Compiled modules by key (the host's ModuleCache, directly or over a channel). */
  modules: {
    get(key: string): WebAssembly.Module | undefined | Promise<WebAssembly.Module | undefined>;
    put(key: string, module: WebAssembly.Module): void | Promise<void>;
  };
}

export type ContainerRequest = Omit<RunRequest, 'output' | 'outputCredit' | 'stdin' | 'modules'>;

/** stdin of a container started without `-i`: at its end from the start. */
export const NO_STDIN: StdinSource = { read: () => 0, ready: () => true };

/**
 * One container start: open the stores, build the overlay (lowers + saved upper + bind
 * mounts), find and compile the entrypoint (or take it from the module cache), run it under
 * WASI, and return its exit code and the upper to save.
 */
export async function runContainer(req: ContainerRequest, io: ContainerIo): Promise<RunResult> {
  const binds: HostDirFs[] = [];
  try {
    return await run(req, io, binds);
  } finally {
    // The directories a bind mount holds open.
    for (const b of binds) b.close();
  }
}

async function run(req: ContainerRequest, io: ContainerIo, binds: HostDirFs[]): Promise<RunResult> {
  const send = (stream: 'stdout' | 'stderr') => (bytes: Uint8Array) => io.send(stream, bytes);
  const modules = io.modules;
  const fail = (exitCode: number, error: string): RunResult => ({ exitCode, error });

  const { content, layer } = await openStores(req.root);
  const lowers = await Promise.all(req.diffIds.map((d) => layer(d)));
  const overlay = req.upper ? OverlayFs.restore({ lowers, content }, req.upper) : new OverlayFs({ lowers, content });

  // Bind mounts: the mount point is created in the container if missing, as docker does.
  const mounts = req.mounts.map((m) => {
    const fs = new HostDirFs(m.host, { readOnly: m.readOnly });
    binds.push(fs);
    return { at: mkdirs(overlay, m.guest), fs: fs as SyncFs };
  });
  const root = mounts.length ? new MountFs(overlay, mounts) : overlay;

  const entry = req.argv[0];
  if (!entry) return fail(EXIT.RUNTIME_ERROR, 'no entrypoint: the image has no Entrypoint or Cmd, and none was given');
  let bytes: Uint8Array | undefined;
  let read: () => Uint8Array;
  let digest: string;
  if (req.moduleBlob) {
    // A wasm artifact: the module is a blob of the content store, the rootfs is empty.
    bytes = await content.get(req.moduleBlob as Digest);
    read = () => bytes!;
    digest = req.moduleBlob;
  } else {
    const path = findEntrypoint(root, entry, req.env, req.workdir);
    if (path === undefined) return fail(EXIT.NOT_FOUND, `${entry}: no such file in the container`);
    const node = resolveGuestPath(root, path)!;
    if (root.stat(node).type !== 'file') return fail(EXIT.NOT_RUNNABLE, `${entry}: not a regular file`);
    // A module straight from an image layer is named by its content digest, known without
    // reading it: a cached compile then skips reading and hashing the file as well.
    const inOverlay = root instanceof MountFs ? root.inner(node) : { index: 0, id: node };
    const layerDigest = inOverlay.index === 0 ? overlay.contentDigest(inOverlay.id) : undefined;
    read = () => (bytes ??= readWholeFile(root, node));
    digest = layerDigest ?? nodeSha256Once(read());
  }
  const key = `${digest}:${req.memoryBytes ?? 'nolimit'}`;
  let module = await modules.get(key);
  if (!module) {
    const b = read();
    if (b.length < 4 || b[0] !== 0 || b[1] !== 0x61 || b[2] !== 0x73 || b[3] !== 0x6d) {
      return fail(EXIT.NOT_RUNNABLE, `${entry}: not a WebAssembly module`);
    }
    try {
      const code = req.memoryBytes !== undefined ? capMemory(b, req.memoryBytes) : b;
      module = await WebAssembly.compile(code as Uint8Array<ArrayBuffer>);
    } catch (e) {
      if (e instanceof MemoryLimitError) return fail(EXIT.NOT_RUNNABLE, `${entry}: ${e.message}`);
      return fail(EXIT.NOT_RUNNABLE, `${entry}: not a valid module: ${(e as Error).message}`);
    }
    await modules.put(key, module);
  }

  const stdin = io.stdin;
  // WorkingDir is created, as docker creates it, but WASI preview1 has no process working
  // directory to hand over: wasi-libc starts every program in "/", and it matches a "."
  // preopen and "/" alike (the one listed last wins for relative and absolute paths), so a
  // second preopen cannot stand in for it. Relative paths resolve from "/".
  if (req.workdir !== '/' && req.workdir !== '') mkdirs(overlay, req.workdir);
  const preopens: Record<string, SyncFs> = { '/': root };
  const wasi = new WASI({
    args: req.argv,
    env: req.env,
    preopens,
    stdin,
    stdout: send('stdout'),
    stderr: send('stderr'),
  });
  let instance: WebAssembly.Instance;
  try {
    instance = await WebAssembly.instantiate(module, wasi.getImportObject());
  } catch (e) {
    return fail(EXIT.NOT_RUNNABLE, `${entry}: cannot start: ${(e as Error).message}`);
  }
  let exitCode: number;
  try {
    // A process's status holds 8 bits: exit(256) is 0 to a shell, exit(-1) is 255.
    exitCode = wasi.start(instance) & 0xff;
  } catch (e) {
    // V8 reports a guest's call stack overflow as a RangeError, not a RuntimeError: a trap too.
    const overflow = e instanceof RangeError && /call stack/i.test(e.message);
    if (!(e instanceof WebAssembly.RuntimeError) && !overflow) throw e;
    send('stderr')(new TextEncoder().encode(`strata: ${entry} trapped: ${e.message}\n`));
    exitCode = TRAPPED;
  }
  const upper = overlay.saveUpper();
  return { exitCode, upper };
}

/** docker's lookup: a path with a slash is taken as is (relative to the workdir); a bare
 * name is searched in $PATH. */
function findEntrypoint(fs: SyncFs, entry: string, env: string[], workdir: string): string | undefined {
  if (entry.includes('/')) {
    const p = entry.startsWith('/') ? entry : `${workdir}/${entry}`;
    return resolveGuestPath(fs, p) === undefined ? undefined : p;
  }
  const pathVar = env.find((e) => e.startsWith('PATH='))?.slice(5) ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
  for (const dir of pathVar.split(':')) {
    const p = `${dir || '.'}/${entry}`;
    if (resolveGuestPath(fs, p) !== undefined) return p;
  }
  return undefined;
}

