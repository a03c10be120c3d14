/**
 * One importer of `measureImport`, in a process of its own: `import-child.ts <importer>
 * <tar> <runs> <work dir>` imports the tar `runs` times after one warm-up and prints the
 * times in ns as JSON. Run in one process one after another, each importer had inherited the
 * garbage of the one before (100 MB of blobs a run), and which came first changed the figures.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { importLayer, MemoryContentStore, type ContentStore, type ImportOptions } from '@strata/store';
import { DiskContentStore, layerFile, nodeFileHasher, nodeHashOffload, nodeSha256 } from '@strata/store/node';

export const IMPORTERS = {
  // As the runtime imports: node:crypto sha256 for the layer, BLAKE3 for its files, the
  // hashing offload.
  memory: { store: () => new MemoryContentStore(nodeSha256), options: { hasher: nodeSha256, fileHasher: nodeFileHasher, offload: nodeHashOffload() } },
  memoryOneThread: { store: () => new MemoryContentStore(nodeSha256), options: { hasher: nodeSha256, fileHasher: nodeFileHasher } },
  disk: { store: (dir: string) => new DiskContentStore(dir), options: { hasher: nodeSha256, fileHasher: nodeFileHasher, offload: nodeHashOffload() } },
} satisfies Record<string, { store(dir: string): ContentStore; options: ImportOptions }>;

export type Importer = keyof typeof IMPORTERS;

async function main(): Promise<void> {
  const [name, tarFile, runs, work] = process.argv.slice(2) as [Importer, string, string, string];
  const importer = IMPORTERS[name];
  // The file, as `strata load` and the image store import a layer they hold.
  const stream = () => layerFile(tarFile);
  const times: number[] = [];
  const cpu: number[] = [];
  for (let r = 0; r <= Number(runs); r++) {
    const dir = join(work, `${name}-${r}`);
    const store = importer.store(dir);
    const t0 = process.hrtime.bigint();
    const c0 = process.cpuUsage();
    await importLayer(store, stream(), importer.options);
    const ns = Number(process.hrtime.bigint() - t0);
    // The whole process's: the importing thread, the hashing worker, V8's helper threads.
    const c = process.cpuUsage(c0);
    if (r > 0) {
      times.push(ns);
      cpu.push((c.user + c.system) * 1000);
    }
    rmSync(dir, { recursive: true, force: true });
  }
  process.stdout.write(JSON.stringify({ times, cpu }));
}

// Also imported by the parent for the list of importers.
if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
