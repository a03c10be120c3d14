/**
 * The guest C programs (packages/wasi/guests/*.c) run under Strata's WASI on an OverlayFs
 * root (one lower layer with `/tmp`, in-memory upper; the fd limit set to FD_LIMIT), and each
 * must exit 0 printing exactly the `ok` lines listed here, in order.
 *
 * Two more opinions keep the programs themselves honest:
 * - natively on Linux (the oracle: the runtime is judged against the kernel), built with the
 *   system C compiler into a temp dir; WASI-only checks (raw fd_readdir, poll_oneoff
 *   abstime) are listed in `wasiOnly` and not expected there;
 * - under node:wasi (uvwasi) for the programs it runs correctly; where it does not, `nodeWasi`
 *   says why (these are uvwasi's gaps, and the reason the guests exist).
 *
 * A guest without a row in RUNS fails the "every guest has a test" check.
 */
import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WASI as NodeWasi } from 'node:wasi';
import type { SyncFs } from '@strata/syncfs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const guestsDir = fileURLToPath(new URL('../guests/', import.meta.url));

/** One run of one guest. `$SCRATCH` in args becomes the run's scratch directory. */
interface Run {
  guest: string;
  /** Distinguishes runs of one guest (poll_stdin idle/ready). */
  label?: string;
  args: string[];
  /** Bytes on stdin; absent: stdin stays open with nothing to read. */
  stdin?: string;
  /** The `ok` lines, in order. */
  ok: string[];
  /** `ok` lines that only the WASI build prints (raw WASI calls with no native twin). */
  wasiOnly?: string[];
  /** Why node:wasi is not asked to pass this run; absent: it must pass. */
  nodeWasi?: string;
}

/** The descriptor limit given to the runtime for emfile (and passed to it as argv[2]). */
const FD_LIMIT = 64;

const RUNS: Run[] = [
  {
    guest: 'readdir_cookies',
    args: ['$SCRATCH'],
    ok: ['create-5000', 'readdir-small-buffer', 'readdir-truncated-entry', 'readdir-resume-cookie', 'readdir-libc'],
    wasiOnly: ['readdir-small-buffer', 'readdir-truncated-entry', 'readdir-resume-cookie'],
  },
  {
    guest: 'readdir_unlink',
    args: ['$SCRATCH'],
    ok: ['readdir-unlink-while-iterating'],
    nodeWasi: 'uvwasi cookies are indexes into a fresh listing: removing entries skips others (1000 of 2000)',
  },
  {
    guest: 'append_pwrite',
    args: ['$SCRATCH'],
    ok: ['append-write', 'append-pwrite-appends', 'append-pwrite-keeps-offset', 'append-pread-offset', 'append-cleared-pwrite', 'plain-pwrite-overwrites'],
    nodeWasi: 'uvwasi fd_fdstat_get does not report the append flag (F_GETFL lacks O_APPEND)',
  },
  {
    guest: 'timestamps_ns',
    args: ['$SCRATCH'],
    ok: ['utimensat-exact-ns', 'futimens-exact-ns', 'far-future-ns', 'utime-omit', 'utime-now', 'dir-exact-ns', 'symlink-nofollow-ns'],
    nodeWasi: 'uvwasi sets times through uv_fs_utime in whole seconds: the nanoseconds are lost',
  },
  {
    guest: 'symlink_loop',
    args: ['$SCRATCH'],
    ok: ['loop-open', 'loop-stat', 'loop-readlink', 'loop-in-path', 'nofollow-eloop', 'chain-8-resolves', 'chain-200-eloop', 'loop-unlink'],
    nodeWasi: 'uvwasi path_open ignores a missing symlink_follow: O_NOFOLLOW opens through the link',
  },
  {
    guest: 'nametoolong',
    args: ['$SCRATCH'],
    ok: ['name-255-ok', 'name-256-create', 'name-256-lookup', 'name-utf8-bytes'],
  },
  {
    guest: 'emfile',
    args: ['$SCRATCH', String(FD_LIMIT)],
    ok: ['emfile-at-limit', 'emfile-directory', 'close-frees-one', 'close-all'],
    nodeWasi: 'node:wasi has no fd limit of its own; the host RLIMIT_NOFILE also counts Node\'s descriptors',
  },
  {
    guest: 'rename_over',
    args: ['$SCRATCH'],
    ok: ['file-over-file', 'replaced-file-stays-open', 'dir-over-empty-dir', 'dir-over-nonempty-dir', 'file-over-dir', 'dir-over-file', 'dir-into-itself', 'same-inode-noop', 'file-over-symlink'],
  },
  {
    guest: 'hardlink_nlink',
    args: ['$SCRATCH'],
    ok: ['nlink-counts', 'links-share-data', 'unlink-decrements', 'open-after-last-unlink', 'link-errors', 'link-symlink-itself'],
  },
  {
    guest: 'poll_stdin',
    label: 'idle',
    args: ['idle'],
    ok: ['poll-timeout', 'poll-abstime'],
    wasiOnly: ['poll-abstime'],
    nodeWasi: 'uvwasi treats an abstime clock subscription as relative: the poll hangs',
  },
  {
    guest: 'poll_stdin',
    label: 'ready',
    args: ['ready'],
    stdin: 'ping\n',
    ok: ['poll-stdin-ready', 'read-after-poll'],
    nodeWasi: 'uvwasi reports nbytes 0 for a readable stdin',
  },
];

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

const okLines = (stdout: string) => stdout.split('\n').filter((l) => l.startsWith('ok ')).map((l) => l.slice(3));
const describeResult = (r: Result) => `exit ${r.code}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`;
const title = (run: Run) => (run.label ? `${run.guest} ${run.label}` : run.guest);
const wasmOf = (guest: string) => readFileSync(join(guestsDir, 'wasm', `${guest}.wasm`));

const temps: string[] = [];
function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  temps.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of temps) rmSync(dir, { recursive: true, force: true });
});

describe('guest table', () => {
  it('has a run for every guest source, and every run names a built guest', () => {
    const sources = readdirSync(guestsDir).filter((f) => f.endsWith('.c')).map((f) => f.slice(0, -2)).sort();
    const tested = [...new Set(RUNS.map((r) => r.guest))].sort();
    expect(tested).toEqual(sources);
    const built = readdirSync(join(guestsDir, 'wasm')).filter((f) => f.endsWith('.wasm')).map((f) => f.slice(0, -5)).sort();
    expect(built).toEqual(sources);
  });
});

describe("guests under Strata's WASI on an OverlayFs root", () => {
  for (const run of RUNS) {
    it(title(run), async () => {
      const r = await runStrata(run);
      expect(r.code, describeResult(r)).toBe(0);
      expect(okLines(r.stdout)).toEqual(run.ok);
    });
  }
});

describe('guests natively on Linux (the oracle)', () => {
  let binDir = '';
  beforeAll(async () => {
    binDir = tempDir('strata-guests-native-');
    const r = await exec('sh', [join(guestsDir, 'build.sh'), '--native', binDir, '--out', join(binDir, 'wasm')]);
    if (r.code !== 0) throw new Error(`build.sh --native failed (a C compiler is required):\n${describeResult(r)}`);
  });

  it('build.sh reproduces the committed .wasm files byte for byte', () => {
    const committed = [...readdirSync(join(guestsDir, 'wasm')).map((f) => join('wasm', f)), join('bench', 'fsbench.wasm')];
    for (const f of committed) {
      const rebuilt = readFileSync(join(binDir, 'wasm', f.slice(f.indexOf('/') + 1)));
      expect(rebuilt.equals(readFileSync(join(guestsDir, f))), `${f} is stale: run guests/build.sh`).toBe(true);
    }
  });

  for (const run of RUNS) {
    it(title(run), async () => {
      const scratch = tempDir('strata-guest-');
      const args = run.args.map((a) => (a === '$SCRATCH' ? scratch : a));
      // emfile: RLIMIT_NOFILE is the native fd limit; a shell sets it for the one program.
      const r = run.guest === 'emfile'
        ? await exec('sh', ['-c', `ulimit -n ${FD_LIMIT} && exec "$0" "$@"`, join(binDir, run.guest), ...args], run.stdin)
        : await exec(join(binDir, run.guest), args, run.stdin);
      expect(r.code, describeResult(r)).toBe(0);
      expect(okLines(r.stdout)).toEqual(run.ok.filter((l) => !run.wasiOnly?.includes(l)));
    });
  }
});

describe('guests under node:wasi (cross-check)', () => {
  for (const run of RUNS.filter((r) => r.nodeWasi === undefined)) {
    it(title(run), () => {
      const r = runNodeWasi(run);
      expect(r.code, describeResult(r)).toBe(0);
      expect(okLines(r.stdout)).toEqual(run.ok);
    });
  }
});

/** Run a program; stdin gets `input` then EOF, or stays open and empty when input is absent. */
function exec(cmd: string, args: string[], input?: string): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    if (input !== undefined) child.stdin.end(input);
  });
}

/**
 * What this suite needs from @strata/wasi and @strata/overlay, typed here and imported
 * dynamically so that a missing export fails each Strata test with a clear message rather
 * than failing the whole file at import (the native and node:wasi opinions still run).
 */
interface StrataWasiOptions {
  args: string[];
  env: Record<string, string>;
  preopens: Record<string, SyncFs>;
  stdin: { read(buf: Uint8Array): number; ready(): boolean };
  stdout: (bytes: Uint8Array) => void;
  stderr: (bytes: Uint8Array) => void;
  limits: { fds: number };
}
interface StrataWasi {
  getImportObject(): WebAssembly.Imports;
  start(instance: WebAssembly.Instance): number;
}
type WasiCtor = new (options: StrataWasiOptions) => StrataWasi;
/** The parts of @strata/store's LayerIndex / LayerEntry / ContentSource used here. */
interface LayerEntry { type: 'dir'; mode: number; uid: number; gid: number; mtimeNs: bigint; size: number }
interface LayerIndex { diffId: `sha256:${string}`; entries: ReadonlyMap<string, LayerEntry> }
interface ContentSource { reader(ref: unknown): never }
type OverlayCtor = new (options: { lowers: LayerIndex[]; content: ContentSource }) => SyncFs;

const dir = (mode: number): LayerEntry => ({ type: 'dir', mode, uid: 0, gid: 0, mtimeNs: 1_700_000_000_000_000_000n, size: 0 });
/** The image a guest runs on: `/` and `/tmp`, the scratch directory (as in a base image). */
const rootLayer: LayerIndex = { diffId: `sha256:${'0'.repeat(64)}`, entries: new Map([['', dir(0o755)], ['tmp', dir(0o1777)]]) };
const noContent: ContentSource = {
  reader() {
    throw new Error('the guest fixture layer has no file contents');
  },
};

/** Import a workspace package by name; the specifier is a variable so the type-check does
 * not need packages/wasi to depend on @strata/overlay (a test-only devDependency). */
async function importPackage(name: string): Promise<Record<string, unknown>> {
  try {
    return (await import(/* @vite-ignore */ name)) as Record<string, unknown>;
  } catch (e) {
    throw new Error(`cannot import ${name}: packages/wasi needs it as a devDependency ("${name}": "workspace:*")`, { cause: e });
  }
}

async function runStrata(run: Run): Promise<Result> {
  const { WASI } = (await importPackage('@strata/wasi')) as { WASI?: WasiCtor };
  const { OverlayFs } = (await importPackage('@strata/overlay')) as { OverlayFs?: OverlayCtor };
  if (!WASI) throw new Error('@strata/wasi does not export WASI yet');
  if (!OverlayFs) throw new Error('@strata/overlay does not export OverlayFs yet');
  const input = new TextEncoder().encode(run.stdin ?? '');
  let consumed = 0;
  const out: Uint8Array[] = [];
  const err: Uint8Array[] = [];
  const wasi = new WASI({
    args: [run.guest, ...run.args.map((a) => (a === '$SCRATCH' ? '/tmp' : a))],
    env: {},
    preopens: { '/': new OverlayFs({ lowers: [rootLayer], content: noContent }) },
    // No run.stdin: stdin stays open and empty (never ready, never EOF), like an idle pipe.
    stdin: {
      read(buf) {
        const n = Math.min(buf.length, input.length - consumed);
        buf.set(input.subarray(consumed, consumed + n));
        consumed += n;
        return n;
      },
      ready: () => run.stdin !== undefined,
    },
    stdout: (b) => out.push(b.slice()),
    stderr: (b) => err.push(b.slice()),
    limits: { fds: FD_LIMIT },
  });
  const instance = new WebAssembly.Instance(new WebAssembly.Module(wasmOf(run.guest)), wasi.getImportObject());
  const code = wasi.start(instance);
  const text = (parts: Uint8Array[]) => Buffer.concat(parts).toString('utf8');
  return { code, stdout: text(out), stderr: text(err) };
}

function runNodeWasi(run: Run): Result {
  const scratch = tempDir('strata-guest-nodewasi-');
  const io = tempDir('strata-guest-io-');
  writeFileSync(join(io, 'stdin'), run.stdin ?? '');
  const fds = [openSync(join(io, 'stdin'), 'r'), openSync(join(io, 'stdout'), 'w'), openSync(join(io, 'stderr'), 'w')];
  try {
    const wasi = new NodeWasi({
      version: 'preview1',
      args: [run.guest, ...run.args.map((a) => (a === '$SCRATCH' ? '/scratch' : a))],
      env: {},
      preopens: { '/scratch': scratch },
      stdin: fds[0],
      stdout: fds[1],
      stderr: fds[2],
      returnOnExit: true,
    });
    const instance = new WebAssembly.Instance(new WebAssembly.Module(wasmOf(run.guest)), wasi.getImportObject() as WebAssembly.Imports);
    const code = wasi.start(instance);
    return { code, stdout: readFileSync(join(io, 'stdout'), 'utf8'), stderr: readFileSync(join(io, 'stderr'), 'utf8') };
  } finally {
    for (const fd of fds) closeSync(fd);
  }
}
