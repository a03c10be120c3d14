/**
 * Loading and saving images with real tools on the other side: the example image is an OCI
 * layout made by umoci; what `save` writes must satisfy skopeo and umoci.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
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

  /** A tar of `files` (name → bytes), as GNU tar writes it. */
  function tarOf(files: Record<string, Uint8Array | string>): string {
    const dir = tmp();
    for (const [name, data] of Object.entries(files)) writeFileSync(join(dir, name), data);
    const out = join(tmp(), 'archive.tar');
    execFileSync('tar', ['-cf', out, '-C', dir, ...Object.keys(files)]);
    return out;
  }
  const exampleBlob = (d: string) => readFileSync(join(hello, 'blobs', 'sha256', d.slice(7)));
  const exampleManifest = JSON.parse(exampleBlob(JSON.parse(readFileSync(join(hello, 'index.json'), 'utf8')).manifests[0].digest).toString()) as {
    config: { digest: string }; layers: { digest: string }[];
  };

  it('labels the gzip layers of a docker-save-shaped tarball as gzip (crane writes them)', async () => {
    const store = diskStore(tmp());
    const out = tarOf({
      'manifest.json': JSON.stringify([{ Config: 'config.json', RepoTags: ['crane:1'], Layers: ['0.tar.gz', '1.tar.gz'] }]),
      'config.json': exampleBlob(exampleManifest.config.digest),
      '0.tar.gz': exampleBlob(exampleManifest.layers[0]!.digest),
      '1.tar.gz': exampleBlob(exampleManifest.layers[1]!.digest),
    });
    await loadImages(store, out);
    const img = await store.resolve('crane:1');
    const m = JSON.parse(new TextDecoder().decode(await store.content.get(img.id))) as { layers: { mediaType: string }[] };
    expect(m.layers.map((l) => l.mediaType)).toEqual(['application/vnd.oci.image.layer.v1.tar+gzip', 'application/vnd.oci.image.layer.v1.tar+gzip']);
  });

  it('refuses a manifest whose layer blob is missing, also when that layer is stored already', async () => {
    const store = diskStore(tmp());
    await loadImages(store, hello);
    // The same layers by diffID, but the second under a blob the archive does not have.
    const manifest = { ...exampleManifest, layers: [exampleManifest.layers[0], { ...exampleManifest.layers[1], digest: `sha256:${'e'.repeat(64)}` }] };
    const bytes = JSON.stringify(manifest);
    const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    const d = tmp();
    execFileSync('cp', ['-r', hello, join(d, 'layout')]);
    writeFileSync(join(d, 'layout', 'blobs', 'sha256', digest.slice(7)), bytes);
    writeFileSync(join(d, 'layout', 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest, size: bytes.length }] }));
    await expect(loadImages(store, join(d, 'layout'))).rejects.toThrow(/missing layer blob sha256:eeee/);
  });

  it('loads a docker save tar whose second use of a layer is a symlink to the first (before Docker 25)', async () => {
    const config = JSON.parse(exampleBlob(exampleManifest.config.digest).toString()) as { rootfs: { diff_ids: string[] } };
    const d1 = config.rootfs.diff_ids[0]!;
    const twice = JSON.stringify({ ...config, rootfs: { type: 'layers', diff_ids: [d1, d1] } });
    const dir = tmp();
    mkdirSync(join(dir, 'aaaa'));
    mkdirSync(join(dir, 'bbbb'));
    writeFileSync(join(dir, 'aaaa', 'layer.tar'), exampleBlob(exampleManifest.layers[0]!.digest));
    symlinkSync('../aaaa/layer.tar', join(dir, 'bbbb', 'layer.tar'));
    writeFileSync(join(dir, 'config.json'), twice);
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify([{ Config: 'config.json', RepoTags: ['legacy:1'], Layers: ['aaaa/layer.tar', 'bbbb/layer.tar'] }]));
    const out = join(tmp(), 'legacy.tar');
    execFileSync('tar', ['-cf', out, '-C', dir, 'manifest.json', 'config.json', 'aaaa', 'bbbb']);
    const store = diskStore(tmp());
    await loadImages(store, out);
    expect((await store.resolve('legacy:1')).diffIds).toEqual([d1, d1]);
    // One that points out of the archive is refused.
    symlinkSync('../../../etc/passwd', join(dir, 'aaaa', 'evil'));
    execFileSync('tar', ['-cf', out, '-C', dir, 'manifest.json', 'config.json', 'aaaa', 'bbbb']);
    await expect(loadImages(diskStore(tmp()), out)).rejects.toThrow(/aaaa\/evil in the archive points outside it/);
  });

  it('saves an image named by its id without making a name up for it', async () => {
    const store = diskStore(tmp());
    await loadImages(store, hello);
    const id = (await store.resolve('strata-hello')).id;
    const out = join(tmp(), 'by-id.tar');
    await saveImages(store, [id.slice(7, 19)], out);
    const index = JSON.parse(execFileSync('tar', ['-xOf', out, 'index.json'], { encoding: 'utf8' })) as { manifests: { annotations?: object }[] };
    expect(index.manifests[0]!.annotations).toBeUndefined();
    const again = diskStore(tmp());
    expect((await loadImages(again, out))[0]).toEqual({ id, names: [] });
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
