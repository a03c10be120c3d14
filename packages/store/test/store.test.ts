import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { MemoryContentStore, MemoryLayerStore } from '../src/index.js';
import { DiskContentStore, DiskLayerStore, nodeSha256 } from '../src/node/index.js';
import { runStoreConformance } from './suite/conformance.js';

runStoreConformance('memory', async () => ({ content: new MemoryContentStore(nodeSha256), layers: new MemoryLayerStore() }));

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
runStoreConformance('disk', async () => {
  const root = mkdtempSync(join(tmpdir(), 'strata-store-'));
  dirs.push(root);
  return { content: new DiskContentStore(root), layers: new DiskLayerStore(root) };
});
