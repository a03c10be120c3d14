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
 * Each peer runs in a process of its own, started after a pause of SETTLE_MS, with one warm-up
 * run per workload before the timed ones (the same for every peer): a peer timed in a heap the others filled, or in its JIT's first
 * minutes, measures the bench rather than itself. A peer whose warm-up exceeds BUDGET_NS is
 * not repeated (its cell says how many runs).
 * Data is generated at run time; node:wasi and native work in /dev/shm.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { nativePeer, nodeWasiPeer, type Peer, SHM, shimPeer, strataPeer, wasmerPeer } from './wasi/peers.js';
import { parseResult } from './wasi/result.js';
import { formatMs, formatRate, markdownTable, median } from './table.js';

const { values: opts } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    files: { type: 'string', default: '2000' },
    mib: { type: 'string', default: '64' },
    stats: { type: 'string', default: '200000' },
    peer: { type: 'string' },
  },
});
const RUNS = Number(opts.runs);
const BUDGET_NS = 15e9;
const SETTLE_MS = 1500;

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

const PEERS: [string, (module: () => WebAssembly.Module) => Peer | Promise<Peer>][] = [
  ['Strata (overlay)', (m) => strataPeer(m())],
  ['node:wasi (tmpfs)', (m) => nodeWasiPeer(m())],
  ['browser_wasi_shim', (m) => shimPeer(m())],
  ['@wasmer/wasi', (m) => wasmerPeer(m())],
  ['native (tmpfs)', () => nativePeer(buildNative())],
];

/**
 * One peer, alone in this process (the parent starts one process per peer, so no peer runs
 * in a heap another one filled): per workload one warm-up run, not counted (the JIT's
 * warm-up, the same for every peer), then RUNS timed runs. Prints its cells as JSON.
 */
async function runPeer(index: number): Promise<void> {
  const bytes = readFileSync(join(benchDir, 'fsbench.wasm'));
  const [name, make] = PEERS[index]!;
  const peer = await setUp(name, () => make(() => new WebAssembly.Module(bytes)));
  const cells: Record<string, Cell> = {};
  for (const w of WORKLOADS) {
    const cell: Cell = { ns: [], ops: 0 };
    cells[w.label] = cell;
    try {
      const warm = parseResult(await peer.run(w.args));
      // A peer this slow gets its one run counted rather than more runs.
      const total = warm.ns > BUDGET_NS ? 1 : RUNS;
      if (total === 1) Object.assign(cell, { ns: [warm.ns], ops: warm.ops, checksum: warm.checksum });
      for (let run = cell.ns.length; run < total; run++) {
        const r = parseResult(await peer.run(w.args));
        cell.ns.push(r.ns);
        cell.ops = r.ops;
        if (w.checksum && cell.checksum !== undefined && cell.checksum !== r.checksum) throw new Error('checksum changed between runs');
        cell.checksum = r.checksum;
      }
    } catch (e) {
      cell.error = (e instanceof Error ? e.message : String(e)).split('\n')[0]!.slice(0, 120);
    }
  }
  process.stdout.write(JSON.stringify({ name, cells }));
}

async function main(): Promise<void> {
  console.log(`fsbench: ${RUNS} runs per cell after one warm-up run, medians; each peer in its own process; node ${process.version}\n`);
  const peers: { name: string }[] = [];
  const cells = new Map<string, Cell>();
  const key = (w: Workload, p: { name: string }) => `${w.label}\0${p.name}`;
  for (let i = 0; i < PEERS.length; i++) {
    // Every peer starts on a quiet machine: right after this process's own start-up (the TS
    // loader and the JIT still busy in the background) the first peer ran ~10% slower than
    // when it ran later, and the first peer is Strata.
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    const args = [...process.execArgv, process.argv[1]!, '--runs', String(RUNS), '--files', opts.files!, '--mib', opts.mib!, '--stats', opts.stats!, '--peer', String(i)];
    const r = spawnSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 1 << 24 });
    let out: { name: string; cells: Record<string, Cell> };
    try {
      out = JSON.parse(r.stdout) as typeof out;
    } catch {
      const why = (r.stderr || `exit ${r.status}`).trim().split('\n').pop()!.slice(0, 120);
      out = { name: PEERS[i]![0], cells: Object.fromEntries(WORKLOADS.map((w) => [w.label, { ns: [], ops: 0, error: why }])) };
    }
    peers.push({ name: out.name });
    for (const w of WORKLOADS) cells.set(key(w, out), out.cells[w.label]!);
    process.stderr.write(`  done: ${out.name}\n`);
  }
  for (const w of WORKLOADS) {
    if (!w.checksum) continue;
    const sums = new Set(peers.map((p) => cells.get(key(w, p))!.checksum).filter((s) => s !== undefined));
    if (sums.size > 1) {
      for (const p of peers) {
        const cell = cells.get(key(w, p))!;
        if (cell.checksum !== undefined) cell.error ??= `checksum ${cell.checksum} differs from the other peers`;
      }
    }
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

  // The goals, each as the ratio it is judged by.
  const strata = peers.find((p) => p.name.startsWith('Strata'))!;
  const native = peers.find((p) => p.name.startsWith('native'))!;
  const ratio = (w: Workload, of: { name: string }): string => {
    const a = cells.get(key(w, strata))!;
    const b = cells.get(key(w, of))!;
    return a.error || b.error || !a.ns.length || !b.ns.length ? 'n/a' : `${(median(a.ns) / median(b.ns)).toFixed(2)}×`;
  };
  const [stress, seq] = WORKLOADS;
  console.log(`goals: stress ${ratio(stress!, reference)} node:wasi (≤ 1.0×) and ${ratio(stress!, native)} native (≤ 1.5×); ` +
    `seq ${ratio(seq!, reference)} node:wasi (≤ 1.0×)`);
}

if (opts.peer !== undefined) await runPeer(Number(opts.peer));
else await main();
