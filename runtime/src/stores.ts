import type { ContentSource, Digest, LayerIndex } from '@strata/store';
import { DiskContentStore, DiskLayerStore } from '@strata/store/node';

/**
 * The stores of a Strata root, as a worker opens them for itself (stores are not shared
 * across threads; the files are, and reads need no coordination).
 */
export async function openStores(root: string): Promise<{ content: ContentSource; layer: (diffId: string) => Promise<LayerIndex> }> {
  const content = new DiskContentStore(root);
  const layers = new DiskLayerStore(root);
  return { content, layer: (d) => layers.get(d as Digest) };
}
