/**
 * The import measurement `pnpm bench import` prints and `pnpm bench overlay` includes: a layer
 * tar of ~`mib` MiB in `files` files (random bytes, 40 directories) imported by Strata into a
 * memory store and into a disk store on tmpfs, and extracted by GNU `tar -x` onto tmpfs.
 * Returns the medians in ns and the tar's size.
 */
import { execFileSync } from 'node:child_process';
import { createReadStream, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { importLayer, MemoryContentStore } from '@strata/store';
import { DiskContentStore, nodeSha256 } from '@strata/store/node';
import { median } from '../table.js';

export interface ImportFigures {
  memory: number;
  disk: number;
  tar: number;
  tarBytes: number;
}

export async function measureImport(runs: number, mib = 100, files = 2000): Promise<ImportFigures> {
  const work = mkdtempSync(join('/dev/shm', 'strata-bench-import-'));
  try {
    const src = join(work, 'src');
    const total = mib * 2 ** 20;
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
    // The file as a Node stream (an async iterable of chunks): what tar -x reads, without a
    // web-stream adapter's copies in the way.
    const stream = () => createReadStream(tarFile, { highWaterMark: 1 << 20 }) as AsyncIterable<Uint8Array>;
    const results = { memory: [] as number[], disk: [] as number[], tar: [] as number[] };
    for (let r = 0; r < runs; r++) {
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
    return { memory: median(results.memory), disk: median(results.disk), tar: median(results.tar), tarBytes };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
