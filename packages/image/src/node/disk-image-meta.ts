import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '@strata/store/node';
import type { ImageMetaStore, ImageState } from '../image-store.js';
import { DiskGuard } from './disk-guard.js';

/**
 * The image list as `<root>/images.json`, replaced atomically on every change; the guard
 * keeps the processes sharing the root apart (`<root>/lock`, `<root>/leases/`).
 */
export class DiskImageMeta implements ImageMetaStore {
  private readonly file: string;
  readonly guard: DiskGuard;

  constructor(root: string) {
    mkdirSync(root, { recursive: true });
    this.file = join(root, 'images.json');
    this.guard = new DiskGuard(root);
  }

  async load(): Promise<ImageState> {
    if (!existsSync(this.file)) return { images: {}, tags: {} };
    return JSON.parse(readFileSync(this.file, 'utf8')) as ImageState;
  }

  async save(state: ImageState): Promise<void> {
    writeFileAtomic(this.file, JSON.stringify(state, null, 1));
  }
}
