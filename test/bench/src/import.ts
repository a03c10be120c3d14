/**
 * `pnpm bench import [--runs N] [--mib M] [--files F]`: importing a layer tar of ~100 MB in
 * ~2,000 files, side by side with GNU `tar -x` of the same tar onto tmpfs; medians of N runs.
 *
 * - Strata, memory store: importLayer into a MemoryContentStore (node:crypto sha256);
 * - Strata, disk store on tmpfs: importLayer into a DiskContentStore under /dev/shm (every
 *   blob written through ingest/, fsynced and renamed into place);
 * - GNU tar -x onto tmpfs (no hashing, no index): the reference. Goal: Strata ≤ 1.5×.
 */
import { execFileSync } from 'node:child_process';
import { createReadStream, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import { importLayer, MemoryContentStore } from '@strata/store';
import { DiskContentStore, nodeSha256 } from '@strata/store/node';
import { formatTime, markdownTable, median } from './table.js';

const { values: opts } = parseArgs({
  options: { runs: { type: 'string', default: '5' }, mib: { type: 'string', default: '100' }, files: { type: 'string', default: '2000' } },
});
const RUNS = Number(opts.runs);
const SHM = '/dev/shm';
const work = mkdtempSync(join(SHM, 'strata-bench-import-'));

try {
  // The layer: F files in 40 directories, sizes spread so the total is ~M MiB, random bytes.
  const src = join(work, 'src');
  const files = Number(opts.files);
  const total = Number(opts.mib) * 2 ** 20;
  let seed = 1;
  const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
  for (let i = 0; i < files; i++) {
    const dir = join(src, `d${i % 40}`);
    mkdirSync(dir, { recursive: true });
    const size = Math.floor((total / files) * 2 * rand());
    const bytes = new Uint8Array(size);
    for (let k = 0; k < size; k += 4096) bytes[k] = (rand() * 256) | 0;
    writeFileSync(join(dir, `f${i}`), bytes);
  }
  const tarFile = join(work, 'layer.tar');
  execFileSync('tar', ['-cf', tarFile, '-C', src, '.']);
  const tarBytes = Number(execFileSync('stat', ['-c', '%s', tarFile], { encoding: 'utf8' }));

  const time = async (fn: () => Promise<void> | void): Promise<number> => {
    const t0 = process.hrtime.bigint();
    await fn();
    return Number(process.hrtime.bigint() - t0);
  };
  const stream = () => Readable.toWeb(createReadStream(tarFile, { highWaterMark: 1 << 20 })) as unknown as AsyncIterable<Uint8Array>;

  const results = { memory: [] as number[], disk: [] as number[], tar: [] as number[] };
  for (let r = 0; r < RUNS; r++) {
    results.memory.push(await time(async () => {
      await importLayer(new MemoryContentStore(nodeSha256), stream(), { hasher: nodeSha256 });
    }));
    const diskRoot = join(work, `disk${r}`);
    results.disk.push(await time(async () => {
      await importLayer(new DiskContentStore(diskRoot), stream(), { hasher: nodeSha256 });
    }));
    rmSync(diskRoot, { recursive: true, force: true });
    const out = join(work, `x${r}`);
    mkdirSync(out);
    results.tar.push(await time(() => void execFileSync('tar', ['-xf', tarFile, '-C', out])));
    rmSync(out, { recursive: true, force: true });
  }
  const tar = median(results.tar);
  console.log(`import of a ${(tarBytes / 2 ** 20).toFixed(0)} MiB layer tar (${files} files), medians of ${RUNS} runs\n`);
  console.log(markdownTable([
    ['importer', 'time', 'vs tar -x', 'goal'],
    ['Strata importLayer → memory store', formatTime(median(results.memory)), `${(median(results.memory) / tar).toFixed(2)}×`, '≤ 1.5×'],
    ['Strata importLayer → disk store (tmpfs)', formatTime(median(results.disk)), `${(median(results.disk) / tar).toFixed(2)}×`, '≤ 1.5×'],
    ['GNU tar -x → tmpfs', formatTime(tar), '1.00×', ''],
  ]));
} finally {
  rmSync(work, { recursive: true, force: true });
}
