/**
 * Loading and saving images with real tools on the other side: the example image is an OCI
 * layout made by umoci; what `save` writes must satisfy skopeo and umoci.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MemoryLayerStore, type Digest } from '@strata/store';
import { nodeSha256 } from '@strata/store/node';
import { ImageError, ImageStore, MemoryImageMeta } from '../src/index.js';
import { loadImages, saveImages } from '../src/node/index.js';
import { diskStore, hello, tempDirs } from './fixtures.js';

const tmp = tempDirs('strata-image-');

describe('load and save', () => {
  it('loads the umoci-made example layout with its name, layers and config', async () => {
    const store = diskStore(tmp());
    const loaded = await loadImages(store, hello);
    expect(loaded.map((l) => l.names)).toEqual([['strata-hello:latest']]);
    const img = await store.resolve('strata-hello');
    expect(img.diffIds.length).toBe(2);
    expect(img.config.config?.Entrypoint).toEqual(['/hello.wasm']);
    expect((await store.layers.get(img.diffIds[1]!)).entries.get('hello.wasm')?.type).toBe('file');
  });

  it('saves an OCI archive that skopeo inspects and umoci unpacks, and loads it back', async () => {
    const store = diskStore(tmp());
    await loadImages(store, hello);
    const out = join(tmp(), 'hello.tar');
    await saveImages(store, ['strata-hello:latest'], out);
    const inspect = JSON.parse(execFileSync('skopeo', ['inspect', `oci-archive:${out}`], { encoding: 'utf8' })) as { Layers: string[] };
    expect(inspect.Layers.length).toBe(2);
    const layout = join(tmp(), 'layout');
    execFileSync('skopeo', ['copy', `oci-archive:${out}`, `oci:${layout}:latest`], { stdio: 'pipe' });
    const bundle = join(tmp(), 'bundle');
    execFileSync('umoci', ['raw', 'unpack', '--rootless', '--image', `${layout}:latest`, bundle], { stdio: 'pipe' });
    const again = diskStore(tmp());
    const loaded = await loadImages(again, out);
    expect(loaded[0]!.id).toBe((await store.resolve('strata-hello')).id);
  });

  it('refuses a blob whose digest does not match, leaving the store as it was', async () => {
    const store = diskStore(tmp());
    const bad = join(tmp(), 'bad');
    execFileSync('cp', ['-r', hello, bad]);
    const blob = execFileSync('sh', ['-c', `ls ${bad}/blobs/sha256 | head -1`], { encoding: 'utf8' }).trim();
    writeFileSync(join(bad, 'blobs/sha256', blob), 'tampered');
    const before: Digest[] = [];
    for await (const d of store.content.list()) before.push(d);
    await expect(loadImages(store, bad)).rejects.toBeInstanceOf(ImageError);
    expect(await store.list()).toEqual([]);
  });

  it('rmi drops the tag, then the image, then its layers and blobs', async () => {
    const root = tmp();
    const store = diskStore(root);
    await loadImages(store, hello);
    // The files' blobs are addressed by BLAKE3, the image's own by sha256: both are collected.
    const stored: Digest[] = [];
    for await (const d of store.content.list()) stored.push(d);
    expect(new Set(stored.map((d) => d.slice(0, 6)))).toEqual(new Set(['sha256', 'blake3']));
    await store.tag('strata-hello', 'other:1');
    const first = await store.remove('other:1');
    expect(first).toEqual({ untagged: ['other:1'] });
    expect((await store.layers.list()).length).toBe(2);
    const second = await store.remove('strata-hello');
    expect(second.deleted).toBeDefined();
    expect(await store.layers.list()).toEqual([]);
    const left: Digest[] = [];
    for await (const d of store.content.list()) left.push(d);
    expect(left).toEqual([]);
  });

  it('refuses an index with no wasm platform', async () => {
    const store = new ImageStore(new (await import('@strata/store')).MemoryContentStore(nodeSha256), new MemoryLayerStore(), new MemoryImageMeta());
    const index = await store.content.put(new TextEncoder().encode(JSON.stringify({
      schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: `sha256:${'1'.repeat(64)}`, size: 1, platform: { os: 'linux', architecture: 'amd64' } }],
    })));
    await expect(store.addFromManifest(index)).rejects.toThrow(/no wasip1\/wasm/);
  });
});
