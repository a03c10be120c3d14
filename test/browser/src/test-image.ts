import type { BrowserRuntime } from '@strata/runtime/browser';
import type { Digest } from '@strata/store';
import { makeTar } from '../../../packages/store/test/suite/tar-builder.js';

export interface ImageFile {
  /** Path in the image, no leading slash; directories end in `/`. */
  name: string;
  mode: number;
  data?: Uint8Array;
}

/**
 * Put a one-layer image into a browser runtime, made in the page: an uncompressed layer of
 * `files` and a config with `entrypoint`. It goes through the same ImageStore path a pulled
 * image takes (manifest → config → layer import), so tests and benches need no static layout
 * per image.
 */
export async function addImage(rt: BrowserRuntime, ref: string, entrypoint: string[], files: ImageFile[]): Promise<void> {
  const layer = await makeTar(files.map((f) => ({
    name: f.name, type: f.name.endsWith('/') ? 'directory' : 'file', mode: f.mode, ...(f.data ? { data: f.data } : {}),
  })));
  const diffId = await rt.content.put(layer);
  const json = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
  const config = json({
    architecture: 'wasm', os: 'wasip1',
    config: { Entrypoint: entrypoint, Env: ['PATH=/'] },
    rootfs: { type: 'layers', diff_ids: [diffId] },
  });
  const configDigest = await rt.content.put(config);
  const manifest = json({
    schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: config.length },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: diffId, size: layer.length }],
  });
  await rt.images.addFromManifest(await rt.content.put(manifest) as Digest, [`docker.io/library/${ref}`]);
}
