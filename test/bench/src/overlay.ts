/**
 * `pnpm bench overlay [--runs N]`: OverlayFs figures side by side with the kernel's overlayfs
 * in one run, medians of N runs (default 5).
 *
 * - stat of 10,000 paths (three components each) through 1, 128 and 500 lower layers; goal:
 *   the 500-layer cost ≤ 1.2× the 1-layer cost;
 * - first 1-byte write into a 256 MiB lower file: OverlayFs vs the kernel's copy-up with
 *   lower and upper on tmpfs; goal: ours ≥ 100× faster;
 * - merged readdir of 10,000 entries spread over 8 layers, ours vs the kernel on tmpfs;
 * - import of a ~100 MB layer tar (figures/import.ts, also `pnpm bench import`) vs GNU
 *   `tar -x` onto tmpfs; goal: ≤ 1.5×.
 *
 * The kernel columns need root and `mount -t overlay`; without them the cells say so.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readdirSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { OverlayFs } from '@strata/overlay';
import type { BlobReader, ContentRef, ContentSource, LayerEntry, LayerIndex } from '@strata/store';
import type { SyncFs } from '@strata/syncfs';
import { measureImport } from './figures/import.js';
import { formatTime as formatMs, markdownTable, median } from './table.js';

const { values: opts } = parseArgs({ options: { runs: { type: 'string', default: '5' }, 'stat-depth': { type: 'string' } } });
const RUNS = Number(opts.runs);
const SHM = '/dev/shm';

/** Blobs in memory: contents are generated, not hashed (the digest is only a key here). */
class Blobs implements ContentSource {
  private readonly map = new Map<string, Uint8Array>();
  add(bytes: Uint8Array): ContentRef {
    const digest = `sha256:${this.map.size.toString(16).padStart(64, '0')}` as const;
    this.map.set(digest, bytes);
    return { digest, size: bytes.length };
  }
  reader(ref: ContentRef): BlobReader {
    const bytes = this.map.get(ref.digest)!;
    return {
      size: bytes.length,
      readAt(buf, offset) {
        const n = Math.max(0, Math.min(buf.length, bytes.length - offset));
        buf.set(bytes.subarray(offset, offset + n));
        return n;
      },
    };
  }
}

const T = 1_700_000_000n * 1_000_000_000n;
const dir = (): LayerEntry => ({ type: 'dir', mode: 0o755, uid: 0, gid: 0, mtimeNs: T, size: 0 });
const file = (ref?: ContentRef): LayerEntry => ({ type: 'file', mode: 0o644, uid: 0, gid: 0, mtimeNs: T, size: ref?.size ?? 0, ...(ref ? { content: ref } : {}) });
let layerIds = 0;
const layer = (entries: [string, LayerEntry][]): LayerIndex => ({
  diffId: `sha256:${(++layerIds).toString(16).padStart(64, '0')}`,
  entries: new Map([['', { ...dir(), implicit: true }], ...entries]),
});

function time(fn: () => void): number {
  const t0 = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t0);
}

function lookupPath(fs: SyncFs, parts: string[]): number {
  let node = fs.root;
  for (const p of parts) node = fs.lookup(node, p);
  return node;
}

// ---- stat through N layers ---------------------------------------------------------------

interface StatCase {
  fs: OverlayFs;
  paths: string[][];
}

function statSetup(depth: number): StatCase {
  // 10,000 files in 100 directories, spread over the layers; every layer also rewrites one
  // shared file so each layer really contributes to the merged view.
  const blobs = new Blobs();
  const paths: string[][] = [];
  const perLayer: [string, LayerEntry][][] = Array.from({ length: depth }, () => []);
  for (let d = 0; d < 100; d++) {
    for (let f = 0; f < 100; f++) {
      const i = d * 100 + f;
      perLayer[i % depth]!.push([`usr/d${d}`, dir()], [`usr/d${d}/f${f}`, file()]);
      paths.push(['usr', `d${d}`, `f${f}`]);
    }
  }
  const lowers = perLayer.map((entries, i) => layer([['usr', dir()], ...entries, ['etc/shared', file(blobs.add(new Uint8Array([i & 0xff])))]]));
  // The first mount of a chain flattens it once (shared by every container on the image);
  // the figure is the steady-state lookup+stat cost.
  return { fs: new OverlayFs({ lowers, content: blobs }), paths };
}

/**
 * One depth, measured alone (this process runs nothing else): its runs after warm-up. The
 * setup's garbage (500 layer indexes are a big heap to build) is collected before timing, so
 * a collection it left pending is not billed to the lookups; each run is 10 passes over the
 * 10,000 paths, reported per pass, so a 2 ms figure is not at the mercy of one timer tick.
 */
const PASSES = 10;
function statRuns(depth: number): number[] {
  const c = statSetup(depth);
  const pass = () => { for (const p of c.paths) c.fs.stat(lookupPath(c.fs, p)); };
  const run = () => time(() => { for (let i = 0; i < PASSES; i++) pass(); }) / PASSES;
  (globalThis as { gc?: () => void }).gc?.();
  for (let w = 0; w < 5; w++) run();
  const out: number[] = [];
  for (let r = 0; r < RUNS; r++) out.push(run());
  return out;
}

/**
 * Medians per depth, each depth in its own process: a process that built the 500-layer
 * case carries its garbage into the others' measurements, which would blame depth for it.
 * Three processes per depth, interleaved, all their runs pooled: one process's JIT luck
 * (how V8 happened to inline the lookup) moves a single-process figure by ±20% here.
 */
function statLayers(depths: number[]): number[] {
  const samples = depths.map(() => [] as number[]);
  for (let rep = 0; rep < 3; rep++) {
    depths.forEach((d, i) => {
      const out = execFileSync(process.execPath, [...process.execArgv, '--expose-gc', process.argv[1]!, '--runs', String(RUNS), '--stat-depth', String(d)], { encoding: 'utf8' });
      samples[i]!.push(...(JSON.parse(out) as number[]));
    });
  }
  return samples.map(median);
}

if (opts['stat-depth'] !== undefined) {
  process.stdout.write(JSON.stringify(statRuns(Number(opts['stat-depth']))));
  process.exit(0);
}

// ---- first write into a big lower file -----------------------------------------------------

const BIG = 256 * 1024 * 1024;

function firstWriteOurs(): number[] {
  const blobs = new Blobs();
  const big = new Uint8Array(BIG).fill(0x61);
  const ref = blobs.add(big);
  const lowers = [layer([['big.bin', file(ref)]])];
  const out: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    const fs = new OverlayFs({ lowers, content: blobs });
    out.push(time(() => {
      const h = fs.open(fs.lookup(fs.root, 'big.bin'), { read: false, write: true });
      h.write(new Uint8Array([0x62]), 1000);
      h.close();
    }));
  }
  return out;
}

interface Mount {
  merged: string;
  cleanup(): void;
}

function mountKernel(lowerDirs: string[], base: string): Mount {
  const upper = join(base, 'upper');
  const work = join(base, 'work');
  const merged = join(base, 'merged');
  for (const d of [upper, work, merged]) mkdirSync(d, { recursive: true });
  // lowerdir lists the top layer first.
  const lowerdir = [...lowerDirs].reverse().join(':');
  execFileSync('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${lowerdir},upperdir=${upper},workdir=${work}`, merged]);
  return { merged, cleanup: () => execFileSync('umount', [merged]) };
}

function kernelAvailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root';
  const base = mkdtempSync(join(SHM, 'strata-bench-probe-'));
  try {
    mkdirSync(join(base, 'l'));
    const m = mountKernel([join(base, 'l')], base);
    m.cleanup();
    return undefined;
  } catch (e) {
    return `mount -t overlay failed: ${(e as Error).message.split('\n')[0]}`;
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
}

function firstWriteKernel(): number[] {
  const out: number[] = [];
  const base = mkdtempSync(join(SHM, 'strata-bench-cow-'));
  try {
    const lower = join(base, 'lower');
    mkdirSync(lower);
    writeFileSync(join(lower, 'big.bin'), new Uint8Array(BIG).fill(0x61));
    for (let r = 0; r < RUNS; r++) {
      const runDir = join(base, `run${r}`);
      const m = mountKernel([lower], runDir);
      try {
        out.push(time(() => {
          const fd = openSync(join(m.merged, 'big.bin'), 'r+');
          writeSync(fd, new Uint8Array([0x62]), 0, 1, 1000);
          closeSync(fd);
        }));
      } finally {
        m.cleanup();
        rmSync(runDir, { recursive: true, force: true });
      }
    }
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
  return out;
}

// ---- merged readdir --------------------------------------------------------------------------

function readdirOurs(): number[] {
  const blobs = new Blobs();
  const lowers: LayerIndex[] = [];
  for (let l = 0; l < 8; l++) {
    const entries: [string, LayerEntry][] = [['big', dir()]];
    for (let i = l; i < 10_000; i += 8) entries.push([`big/e${i}`, file()]);
    lowers.push(layer(entries));
  }
  const fs = new OverlayFs({ lowers, content: blobs });
  const big = fs.lookup(fs.root, 'big');
  if (fs.readdir(big).length !== 10_000) throw new Error('readdir bench: wrong count');
  const out: number[] = [];
  for (let r = 0; r < RUNS; r++) out.push(time(() => fs.readdir(big)));
  return out;
}

function readdirKernel(): number[] {
  const base = mkdtempSync(join(SHM, 'strata-bench-readdir-'));
  const out: number[] = [];
  try {
    const lowers: string[] = [];
    for (let l = 0; l < 8; l++) {
      const d = join(base, `l${l}`, 'big');
      mkdirSync(d, { recursive: true });
      for (let i = l; i < 10_000; i += 8) writeFileSync(join(d, `e${i}`), '');
      lowers.push(join(base, `l${l}`));
    }
    const m = mountKernel(lowers, join(base, 'mnt'));
    try {
      const big = join(m.merged, 'big');
      if (readdirSync(big).length !== 10_000) throw new Error('kernel readdir: wrong count');
      for (let r = 0; r < RUNS; r++) out.push(time(() => readdirSync(big, { withFileTypes: true })));
    } finally {
      m.cleanup();
    }
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
  return out;
}

// ---- report ----------------------------------------------------------------------------------

const kernel = kernelAvailable();
const [s1, s128, s500] = statLayers([1, 128, 500]) as [number, number, number];
const wOurs = median(firstWriteOurs());
const wKernel = kernel ? undefined : median(firstWriteKernel());
const rOurs = median(readdirOurs());
const rKernel = kernel ? undefined : median(readdirKernel());
const na = `n/a (${kernel})`;
const imp = await measureImport(RUNS);

console.log(`overlay benchmark, medians of ${RUNS} runs\n`);
console.log(markdownTable([
  ['workload', 'Strata', 'kernel overlayfs (tmpfs)', 'ratio', 'goal'],
  ['stat 10,000 paths, 1 layer', formatMs(s1), '', '1.00×', ''],
  ['stat 10,000 paths, 128 layers', formatMs(s128), '', `${(s128 / s1).toFixed(2)}× of 1 layer`, ''],
  ['stat 10,000 paths, 500 layers', formatMs(s500), '', `${(s500 / s1).toFixed(2)}× of 1 layer`, '≤ 1.2×'],
  ['first 1-byte write, 256 MiB lower file', formatMs(wOurs), wKernel === undefined ? na : formatMs(wKernel),
    wKernel === undefined ? '' : `${(wKernel / wOurs).toFixed(0)}× faster`, '≥ 100× faster'],
  ['readdir 10,000 entries over 8 layers', formatMs(rOurs), rKernel === undefined ? na : formatMs(rKernel),
    rKernel === undefined ? '' : `${(rOurs / rKernel).toFixed(2)}× the kernel`, ''],
  [`import of a ${(imp.tarBytes / 2 ** 20).toFixed(0)} MiB layer tar → memory store`, formatMs(imp.memory), `GNU tar -x (tmpfs): ${formatMs(imp.tar)}`, `${(imp.memory / imp.tar).toFixed(2)}× tar -x`, '≤ 1.5×'],
  ['the same → disk store (tmpfs)', formatMs(imp.disk), '', `${(imp.disk / imp.tar).toFixed(2)}× tar -x`, '≤ 1.5×'],
]));
