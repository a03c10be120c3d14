import { existsSync, mkdirSync, readdirSync, readFileSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { NotFoundError } from '../errors.js';
import { isDigest } from '../hash.js';
import { decodeLayer, encodeLayer } from '../layer-codec.js';
import type { LayerStore } from '../layer-store.js';
import type { Digest, LayerIndex } from '../types.js';
import { writeFileAtomic } from './atomic-file.js';

/** Layer indexes as `<root>/layers/<hex>.json`, each written atomically (see LayerStore). */
export class DiskLayerStore implements LayerStore {
  private readonly dir: string;
  private readonly cache = new Map<Digest, LayerIndex>();

  constructor(readonly root: string) {
    this.dir = join(root, 'layers');
    mkdirSync(this.dir, { recursive: true });
  }

  private file(diffId: Digest): string {
    if (!isDigest(diffId)) throw new NotFoundError(`not a sha256 digest: ${diffId}`);
    return join(this.dir, `${diffId.slice(7)}.json`);
  }

  async put(layer: LayerIndex): Promise<void> {
    const f = this.file(layer.diffId);
    if (!existsSync(f)) writeFileAtomic(f, encodeLayer(layer));
  }

  async get(diffId: Digest): Promise<LayerIndex> {
    let l = this.cache.get(diffId);
    if (l) return l;
    let text: string;
    try {
      text = readFileSync(this.file(diffId), 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new NotFoundError(`layer ${diffId} not found`, { cause: e });
      throw e;
    }
    l = decodeLayer(text, diffId);
    this.cache.set(diffId, l);
    return l;
  }

  async has(diffId: Digest): Promise<boolean> {
    return isDigest(diffId) && existsSync(this.file(diffId));
  }

  async list(): Promise<Digest[]> {
    return readdirSync(this.dir)
      .filter((f) => f.endsWith('.json'))
      .map((f) => `sha256:${f.slice(0, -5)}`)
      .filter(isDigest);
  }

  async remove(diffId: Digest): Promise<void> {
    this.cache.delete(diffId);
    try {
      unlinkSync(this.file(diffId));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
  }
}
