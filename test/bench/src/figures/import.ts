/**
 * The import measurement `pnpm bench import` prints and `pnpm bench overlay` includes: a layer
 * tar of ~`mib` MiB in `files` files (random bytes, 40 directories) imported by Strata into a
 * memory store and into a disk store on tmpfs — with the hashing offload the runtime uses,
 * and the memory store once more hashing everything on the importing thread — and
 * extracted by GNU `tar -x` onto tmpfs. Each importer runs in a process of its own
 * (import-child.ts), one warm-up run first, as does tar. Returns the medians in ns — of the
 * time each took, and of the CPU time it used on all its threads — and the tar's size.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { IMPORTERS, type Importer } from './import-child.js';
import { median } from '../table.js';

export interface ImportFigures {
  memory: number;
  /** The memory store without the offload: every byte hashed on the importing thread. */
  memoryOneThread: number;
  disk: number;
  tar: number;
  tarBytes: number;
  /** CPU time (user + system, every thread of the process), medians in ns. */
  cpu: { memory: number; memoryOneThread: number; disk: number; tar: number };
}

export async function measureImport(runs: number, mib = 100, files = 2000): Promise<ImportFigures> {
  const work = mkdtempSync(join('/dev/shm', 'strata-bench-import-'));
  try {
    const src = join(work, 'src');
    const total = mib * 2 ** 20;
    let seed = 1;
    // Math.imul: in doubles, seed * 1103515245 loses its low bits past 2^53 and the sequence
    // fell into short cycles — 45% of the files came out as copies of others.
    const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
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
    const tarRuns: number[] = [];
    for (let r = 0; r <= runs; r++) {
      const out = join(work, `x${r}`);
      mkdirSync(out);
      const t0 = process.hrtime.bigint();
      execFileSync('tar', ['-xf', tarFile, '-C', out]);
      if (r > 0) tarRuns.push(Number(process.hrtime.bigint() - t0));
      rmSync(out, { recursive: true, force: true });
    }
    // tar's CPU time in runs of their own, through the shell's `times` (its children's user
    // and system time): the shell would add its start to the times above.
    const tarCpu: number[] = [];
    for (let r = 0; r < runs; r++) {
      const out = join(work, `c${r}`);
      mkdirSync(out);
      const report = execFileSync('bash', ['-c', 'tar -xf "$1" -C "$2"; times', 'bash', tarFile, out], { encoding: 'utf8' });
      tarCpu.push(childrenCpu(report));
      rmSync(out, { recursive: true, force: true });
    }
    const results = { tar: { times: tarRuns, cpu: tarCpu } } as Record<Importer | 'tar', { times: number[]; cpu: number[] }>;
    for (const name of Object.keys(IMPORTERS) as Importer[]) {
      const child = fileURLToPath(new URL('./import-child.ts', import.meta.url));
      const stdout = execFileSync(process.execPath, [...process.execArgv, child, name, tarFile, String(runs), work], { encoding: 'utf8' });
      results[name] = JSON.parse(stdout) as { times: number[]; cpu: number[] };
    }
    const m = (k: Importer | 'tar', of: 'times' | 'cpu') => median(results[k][of]);
    return {
      memory: m('memory', 'times'), memoryOneThread: m('memoryOneThread', 'times'), disk: m('disk', 'times'), tar: m('tar', 'times'), tarBytes,
      cpu: { memory: m('memory', 'cpu'), memoryOneThread: m('memoryOneThread', 'cpu'), disk: m('disk', 'cpu'), tar: m('tar', 'cpu') },
    };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** The children's user + system time in bash's `times` report (its second line), in ns. */
function childrenCpu(report: string): number {
  const line = report.trim().split('\n')[1] ?? '';
  const parts = [...line.matchAll(/(\d+)m([\d.]+)s/g)];
  if (parts.length !== 2) throw new Error(`unexpected output of times: ${JSON.stringify(report)}`);
  return parts.reduce((ns, [, min, sec]) => ns + (Number(min) * 60 + Number(sec)) * 1e9, 0);
}
