import { createStore, del, get, keys, set, type UseStore } from 'idb-keyval';
import { NotFoundError } from '../errors.js';
import { decodeLayer, encodeLayer } from '../layer-codec.js';
import type { LayerStore } from '../layer-store.js';
import type { Digest, LayerIndex } from '../types.js';

/** Layer indexes in IndexedDB (`layer:<diffId>` → the encoded index), cached once read. */
export class IdbLayerStore implements LayerStore {
  private readonly store: UseStore;
  private readonly cache = new Map<Digest, LayerIndex>();

  constructor(dbName = 'strata') {
    this.store = createStore(`${dbName}-layers`, 'layers');
  }

  async put(layer: LayerIndex): Promise<void> {
    if ((await get(`layer:${layer.diffId}`, this.store)) === undefined) await set(`layer:${layer.diffId}`, encodeLayer(layer), this.store);
  }

  async get(diffId: Digest): Promise<LayerIndex> {
    let l = this.cache.get(diffId);
    if (l) return l;
    const text = await get<string>(`layer:${diffId}`, this.store);
    if (text === undefined) throw new NotFoundError(`layer ${diffId} not found`);
    l = decodeLayer(text, diffId);
    this.cache.set(diffId, l);
    return l;
  }

  async has(diffId: Digest): Promise<boolean> {
    return (await get(`layer:${diffId}`, this.store)) !== undefined;
  }

  async list(): Promise<Digest[]> {
    return (await keys<string>(this.store)).filter((k) => k.startsWith('layer:')).map((k) => k.slice(6) as Digest);
  }

  async remove(diffId: Digest): Promise<void> {
    this.cache.delete(diffId);
    await del(`layer:${diffId}`, this.store);
  }
}
