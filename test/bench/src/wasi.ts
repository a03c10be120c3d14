/**
 * `pnpm bench wasi [--runs N] [--files N] [--mib N] [--stats N]`: the fsbench guest
 * (packages/wasi/guests/bench/fsbench.c) under Strata and its peers, medians side by side.
 *
 * Workloads (each timed by the guest itself with CLOCK_MONOTONIC, so compilation and
 * instantiation are not counted; each verifies what it reads back):
 * - stress: 2,000 files in 100 nested directories: create+write, read back, stat, readdir,
 *   rename, unlink, rmdir;
 * - seq: 64 MiB written in 64 KiB chunks, read back, checksummed;
 * - statloop: stat() of a three-component path in a tight loop (syscalls per second).
 *
 * Goals (packages/wasi/README.md, Benchmarks): stress ≤ 1.0× node:wasi on tmpfs and within
 * 1.5× native; seq ≤ 1.0× node:wasi; statloop rate reported against node:wasi.
 * A peer whose single run exceeds BUDGET_NS is not repeated (its cell says how many runs).
 * Data is generated at run time; node:wasi and native work in /dev/shm.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { nativePeer, nodeWasiPeer, type Peer, SHM, shimPeer, strataPeer, wasmerPeer } from './wasi/peers.js';
import { formatMs, formatRate, markdownTable, median } from './table.js';

const { values: opts } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    files: { type: 'string', default: '2000' },
    mib: { type: 'string', default: '64' },
    stats: { type: 'string', default: '200000' },
  },
});
const RUNS = Number(opts.runs);
const BUDGET_NS = 15e9;

const benchDir = fileURLToPath(new URL('../../../packages/wasi/guests/bench/', import.meta.url));

interface Workload {
  label: string;
  args: string[];
  /** statloop reports a rate; the others a time. */
  rate?: boolean;
  /** Checksums must agree across peers (statloop sums inode numbers, which differ). */
  checksum: boolean;
}

const WORKLOADS: Workload[] = [
  { label: `stress (${opts.files} files)`, args: ['stress', 'DIR', String(opts.files)], checksum: true },
  { label: `seq ${opts.mib} MiB`, args: ['seq', 'DIR', String(opts.mib), '65536'], checksum: true },
  { label: `statloop (${opts.stats})`, args: ['statloop', 'DIR', String(opts.stats)], rate: true, checksum: false },
];

interface Cell {
  ns: number[];
  ops: number;
  error?: string;
  checksum?: string;
}

/** `result <mode> <elapsed_ns> <operations> <checksum>` */
function parseResult(stdout: string): { ns: number; ops: number; checksum: string } {
  const m = /^result \S+ (\d+) (\d+) ([0-9a-f]+)$/m.exec(stdout);
  if (!m) throw new Error(`no result line in output: ${JSON.stringify(stdout.slice(0, 200))}`);
  return { ns: Number(m[1]), ops: Number(m[2]), checksum: m[3] };
}

function buildNative(): string {
  const dir = mkdtempSync(join(SHM, 'strata-bench-bin-'));
  const out = join(dir, 'fsbench');
  const cc = process.env.CC ?? 'gcc';
  const r = spawnSync(cc, ['-O2', '-o', out, join(benchDir, 'fsbench.c')], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cc} failed: ${r.error?.message ?? r.stderr}`);
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  return out;
}

/** A peer that could not even be set up still gets a row, with the reason in every cell. */
function failedPeer(name: string, error: unknown): Peer {
  const message = error instanceof Error ? error.message : String(error);
  return { name, run: () => Promise.reject(new Error(message)) };
}

async function setUp(name: string, make: () => Peer | Promise<Peer>): Promise<Peer> {
  try {
    return await make();
  } catch (e) {
    return failedPeer(name, e);
  }
}

async function main(): Promise<void> {
  // Each peer compiles the module itself: V8 tiers a module up (Liftoff → TurboFan) as it
  // runs, and a module shared between peers would hand the first peer's warm-up to the rest.
  const bytes = readFileSync(join(benchDir, 'fsbench.wasm'));
  const module = () => new WebAssembly.Module(bytes);
  const peers: Peer[] = [
    await setUp('Strata (overlay)', () => strataPeer(module())),
    await setUp('node:wasi (tmpfs)', () => nodeWasiPeer(module())),
    await setUp('browser_wasi_shim', () => shimPeer(module())),
    await setUp('@wasmer/wasi', () => wasmerPeer(module())),
    await setUp('native (tmpfs)', () => nativePeer(buildNative())),
  ];
  console.log(`fsbench: ${RUNS} runs per cell, medians; node ${process.version}; ${peers.length} peers\n`);

  const cells = new Map<string, Cell>();
  const key = (w: Workload, p: Peer) => `${w.label}\0${p.name}`;
  for (const w of WORKLOADS) {
    for (const p of peers) cells.set(key(w, p), { ns: [], ops: 0 });
    // Round-robin over peers so drift in machine load spreads evenly.
    for (let run = 0; run < RUNS; run++) {
      for (const p of peers) {
        const cell = cells.get(key(w, p))!;
        if (cell.error || (cell.ns.length > 0 && Math.max(...cell.ns) > BUDGET_NS)) continue;
        try {
          const r = parseResult(await p.run(w.args));
          cell.ns.push(r.ns);
          cell.ops = r.ops;
          if (w.checksum && cell.checksum !== undefined && cell.checksum !== r.checksum) throw new Error('checksum changed between runs');
          cell.checksum = r.checksum;
        } catch (e) {
          cell.error = (e instanceof Error ? e.message : String(e)).split('\n')[0].slice(0, 120);
        }
      }
    }
    if (w.checksum) {
      const sums = new Set(peers.map((p) => cells.get(key(w, p))!.checksum).filter((s) => s !== undefined));
      if (sums.size > 1) {
        for (const p of peers) {
          const cell = cells.get(key(w, p))!;
          if (cell.checksum !== undefined) cell.error ??= `checksum ${cell.checksum} differs from the other peers`;
        }
      }
    }
    process.stderr.write(`  done: ${w.label}\n`);
  }

  const reference = peers.find((p) => p.name.startsWith('node:wasi'))!;
  const rows: string[][] = [['runtime', ...WORKLOADS.map((w) => w.label)]];
  for (const p of peers) {
    rows.push([
      p.name,
      ...WORKLOADS.map((w) => {
        const cell = cells.get(key(w, p))!;
        if (cell.error) return `error: ${cell.error}`;
        const ours = median(cell.ns);
        const ref = cells.get(key(w, reference))!;
        const ratio = ref.error || ref.ns.length === 0 ? '' : ` (${(ours / median(ref.ns)).toFixed(2)}×)`;
        const runs = cell.ns.length < RUNS ? ` [${cell.ns.length} run${cell.ns.length > 1 ? 's' : ''}]` : '';
        const value = w.rate ? `${formatRate(cell.ops / (ours / 1e9))} · ${formatMs(ours)}` : formatMs(ours);
        return value + ratio + runs;
      }),
    ]);
  }
  console.log(markdownTable(rows));
  console.log('\n(×) = median time ÷ node:wasi median time: below 1 is faster than node:wasi.');
}

await main();
