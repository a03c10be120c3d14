import { MEDIA, type ImageRecord, type ImageStore } from '@strata/image';
import { commitTar, type OverlayFs } from '@strata/overlay';
import { importLayer } from '@strata/store';

/**
 * `commit`: a new image made of the container's image plus one layer holding what the
 * container changed (its upper as an OCI changeset). The layer tar is written to the content
 * store (its digest is the diffID, verified by the store), indexed as a layer, and only then
 * referenced by a new config and manifest — an interrupted commit leaves no image behind.
 * Browser-safe: the Node and the browser runtime both commit through here.
 */
export async function commitImage(images: ImageStore, base: ImageRecord, fs: OverlayFs, options: { ref: string; createdBy: string }): Promise<ImageRecord> {
  // What it stores is garbage to a collection until the record names it.
  return images.withLease(() => commitLeased(images, base, fs, options));
}

async function commitLeased(images: ImageStore, base: ImageRecord, fs: OverlayFs, options: { ref: string; createdBy: string }): Promise<ImageRecord> {
  const { content, layers } = images;
  const w = await content.writer();
  try {
    for await (const chunk of commitTar(fs)) await w.write(chunk);
  } catch (e) {
    await w.abort();
    throw e;
  }
  const diffId = await w.commit();
  const size = await content.size(diffId);
  // The writer has just hashed the tar: the import need not hash it again.
  const layer = await importLayer(content, content.stream(diffId), { verifiedDigest: diffId, ...images.importOptions() });
  await layers.put(layer);
  const now = new Date().toISOString();
  const imageConfig = {
    ...base.config,
    created: now,
    rootfs: { type: 'layers', diff_ids: [...base.diffIds, diffId] },
    history: [...(base.config.history ?? []), { created: now, created_by: options.createdBy }],
  };
  const configBytes = new TextEncoder().encode(JSON.stringify(imageConfig));
  const configDigest = await content.put(configBytes);
  const manifest = {
    schemaVersion: 2, mediaType: MEDIA.ociManifest,
    config: { mediaType: MEDIA.ociConfig, digest: configDigest, size: configBytes.length },
    layers: [...base.layers, { mediaType: MEDIA.ociLayer, digest: diffId, size }],
  };
  const manifestDigest = await content.put(new TextEncoder().encode(JSON.stringify(manifest)));
  return images.addFromManifest(manifestDigest, [options.ref]);
}
