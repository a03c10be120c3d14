/** What the image package's Node tests share: the example image, temporary roots, disk stores. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll } from 'vitest';
import { DiskContentStore, DiskLayerStore, nodeFileHasher, nodeSha256 } from '@strata/store/node';
import { ImageStore } from '../src/index.js';
import { DiskImageMeta } from '../src/node/index.js';

/** The built-in example image: an OCI layout made by umoci. */
export const hello = fileURLToPath(new URL('../../../examples/hello/image', import.meta.url));

/** A maker of temporary directories, all removed after the calling file's tests. */
export function tempDirs(prefix: string): () => string {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
  return () => {
    const d = mkdtempSync(join(tmpdir(), prefix));
    dirs.push(d);
    return d;
  };
}

/** An image store on disk at `root`, as the runtime makes one. */
export function diskStore(root: string): ImageStore {
  return new ImageStore(new DiskContentStore(root), new DiskLayerStore(root), new DiskImageMeta(root), { hasher: nodeSha256, fileHasher: nodeFileHasher });
}
