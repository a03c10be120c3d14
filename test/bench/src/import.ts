/**
 * `pnpm bench import [--runs N] [--mib M] [--files F]`: importing a layer tar of ~100 MB in
 * ~2,000 files, side by side with GNU `tar -x` of the same tar onto tmpfs; medians of N runs.
 *
 * - Strata, memory store: importLayer into a MemoryContentStore (node:crypto sha256), with
 *   the hashing offload (nodeHashOffload: the diffID and half the files hashed on a worker
 *   thread), as the runtime imports;
 * - the same hashing every byte on the importing thread;
 * - Strata, disk store on tmpfs: importLayer into a DiskContentStore under /dev/shm (blobs
 *   written through ingest/, synced together and renamed into place), with the offload;
 * - GNU tar -x onto tmpfs (no hashing, no index): the reference. Goal: Strata ≤ 1.5×.
 *
 * The last column is the CPU time each used on all its threads: what two cores can bring an
 * import down to at best (half of it), whatever the split.
 */
import { parseArgs } from 'node:util';
import { measureImport } from './figures/import.js';
import { formatTime, markdownTable } from './table.js';

const { values: opts } = parseArgs({
  options: { runs: { type: 'string', default: '5' }, mib: { type: 'string', default: '100' }, files: { type: 'string', default: '2000' } },
});
const RUNS = Number(opts.runs);
const f = await measureImport(RUNS, Number(opts.mib), Number(opts.files));
console.log(`import of a ${(f.tarBytes / 2 ** 20).toFixed(0)} MiB layer tar (${opts.files} files), medians of ${RUNS} runs\n`);
const cpu = (ns: number) => `${formatTime(ns)} (${(ns / f.cpu.tar).toFixed(1)}×)`;
console.log(markdownTable([
  ['importer', 'time', 'vs tar -x', 'goal', 'CPU, all threads (vs tar -x)'],
  ['Strata importLayer → memory store', formatTime(f.memory), `${(f.memory / f.tar).toFixed(2)}×`, '≤ 1.5×', cpu(f.cpu.memory)],
  ['the same, hashing on one thread', formatTime(f.memoryOneThread), `${(f.memoryOneThread / f.tar).toFixed(2)}×`, '', cpu(f.cpu.memoryOneThread)],
  ['Strata importLayer → disk store (tmpfs)', formatTime(f.disk), `${(f.disk / f.tar).toFixed(2)}×`, '≤ 1.5×', cpu(f.cpu.disk)],
  ['GNU tar -x → tmpfs', formatTime(f.tar), '1.00×', '', cpu(f.cpu.tar)],
]));
