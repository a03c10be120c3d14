import type { ContentStore } from './content-store.js';
import { NotFoundError } from './errors.js';
import type { Digest, LayerIndex } from './types.js';

/**
 * Read-only layers by diffID: the snapshotter of this project (after containerd's
 * `Snapshotter`). A layer is imported once (`importLayer` fills the content store and yields
 * the index; `put` records it) and shared by every image and container that names its
 * diffID. Layers are immutable once put.
 *
 * Lifecycle:
 * ```ts
 * const layer = await importLayer(content, body);   // blobs first
 * await layers.put(layer);                           // then the index: visible from here on
 * const same = await layers.get(layer.diffId);       // cached; the same object every time
 * await collectGarbage(content, layers, inUse);      // drop layers (and blobs) nobody uses
 * ```
 * The index is written last and atomically, so a crash during an import leaves either no
 * layer (its orphan blobs are collected by the next GC) or a complete one.
 *
 * Containers' writable layers are not here: a container's upper is saved by the runtime
 * (OverlayFs.saveUpper) next to its record, and `commit` turns it into a new layer here.
 */
export interface LayerStore {
  put(layer: LayerIndex): Promise<void>;
  /** The layer; NotFoundError if it was never put. Returns one cached object per diffID. */
  get(diffId: Digest): Promise<LayerIndex>;
  has(diffId: Digest): Promise<boolean>;
  list(): Promise<Digest[]>;
  remove(diffId: Digest): Promise<void>;
}

/** Layers in memory (tests, the browser before IndexedDB). */
export class MemoryLayerStore implements LayerStore {
  private readonly layers = new Map<Digest, LayerIndex>();

  async put(layer: LayerIndex): Promise<void> {
    if (!this.layers.has(layer.diffId)) this.layers.set(layer.diffId, { diffId: layer.diffId, entries: layer.entries });
  }

  async get(diffId: Digest): Promise<LayerIndex> {
    const l = this.layers.get(diffId);
    if (!l) throw new NotFoundError(`layer ${diffId} not found`);
    return l;
  }

  async has(diffId: Digest): Promise<boolean> {
    return this.layers.has(diffId);
  }

  async list(): Promise<Digest[]> {
    return [...this.layers.keys()];
  }

  async remove(diffId: Digest): Promise<void> {
    this.layers.delete(diffId);
  }
}

/**
 * Remove the layers not in `keepLayers`, then every blob that no remaining layer's files use
 * and that is not in `keepBlobs` (manifests, configs and compressed layer blobs that images
 * still reference). Returns what was removed.
 */
export async function collectGarbage(
  content: ContentStore, layers: LayerStore, keepLayers: Iterable<Digest>, keepBlobs: Iterable<Digest> = [],
): Promise<{ layers: Digest[]; blobs: Digest[] }> {
  const keep = new Set(keepLayers);
  const removedLayers: Digest[] = [];
  for (const d of await layers.list()) {
    if (!keep.has(d)) {
      await layers.remove(d);
      removedLayers.push(d);
    }
  }
  const live = new Set<Digest>(keepBlobs);
  for (const d of await layers.list()) {
    for (const e of (await layers.get(d)).entries.values()) if (e.content) live.add(e.content.digest);
  }
  const removedBlobs: Digest[] = [];
  for await (const d of content.list()) {
    if (!live.has(d)) {
      await content.delete(d);
      removedBlobs.push(d);
    }
  }
  return { layers: removedLayers, blobs: removedBlobs };
}
