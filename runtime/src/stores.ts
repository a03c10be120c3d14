import type { Digest, LayerIndex } from '@strata/store';
import { DiskContentStore, DiskLayerStore } from '@strata/store/node';

/**
 * The stores of a Strata root, as a worker opens them for itself (stores are not shared
 * across threads; the files are, and reads need no coordination).
 */
export async function openStores(root: string): Promise<Stores> {
  let s = opened.get(root);
  if (!s) {
    // Kept for the worker's next container (workers are pooled): the layer store caches
    // each LayerIndex, so the flattened lowers of an image are built once per worker.
    const content = new DiskContentStore(root);
    const layers = new DiskLayerStore(root);
    s = { content, layer: (d) => layers.get(d as Digest) };
    opened.set(root, s);
  }
  return s;
}

interface Stores {
  content: DiskContentStore;
  layer: (diffId: string) => Promise<LayerIndex>;
}

const opened = new Map<string, Stores>();
