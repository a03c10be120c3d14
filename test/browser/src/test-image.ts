import type { BrowserRuntime } from '@strata/runtime/browser';
import { concatBytes, type Digest } from '@strata/store';

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
  const layer = ustar(files);
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

/** A minimal ustar writer (names under 100 bytes), enough for a test layer. */
function ustar(entries: ImageFile[]): Uint8Array {
  const blocks: Uint8Array[] = [];
  const enc = new TextEncoder();
  for (const e of entries) {
    const h = new Uint8Array(512);
    const put = (s: string, at: number) => h.set(enc.encode(s), at);
    const size = e.data?.length ?? 0;
    put(e.name, 0);
    put(`${e.mode.toString(8).padStart(7, '0')}\0`, 100);
    put('0000000\0', 108);
    put('0000000\0', 116);
    put(`${size.toString(8).padStart(11, '0')}\0`, 124);
    put(`${(1_700_000_000).toString(8).padStart(11, '0')}\0`, 136);
    put('        ', 148);
    put(e.name.endsWith('/') ? '5' : '0', 156);
    put('ustar\0' + '00', 257);
    const sum = h.reduce((a, b) => a + b, 0);
    put(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
    blocks.push(h);
    if (e.data) {
      const padded = new Uint8Array(Math.ceil(size / 512) * 512);
      padded.set(e.data);
      blocks.push(padded);
    }
  }
  blocks.push(new Uint8Array(1024));
  return concatBytes(blocks);
}
