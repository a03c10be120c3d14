import { MEDIA, type ImageRecord, type ImageStore } from '@strata/image';
import { commitTar, type OverlayFs } from '@strata/overlay';
import { importLayer, tap, type ImportedLayer } from '@strata/store';

/**
 * `commit`: a new image made of the container's image plus one layer holding what the
 * container changed (its upper as an OCI changeset). The layer tar is written to the content
 * store under its diffID and indexed as a layer, and only then referenced by a new config
 * and manifest — an interrupted commit leaves no image behind.
 * Browser-safe: the Node and the browser runtime both commit through here.
 */
export async function commitImage(images: ImageStore, base: ImageRecord, fs: OverlayFs, options: { ref: string; createdBy: string }): Promise<ImageRecord> {
  // What it stores is garbage to a collection until the record names it.
  return images.withLease(() => commitLeased(images, base, fs, options));
}

async function commitLeased(images: ImageStore, base: ImageRecord, fs: OverlayFs, options: { ref: string; createdBy: string }): Promise<ImageRecord> {
  const { content, layers } = images;
  // One pass over the tar: each chunk goes to the blob writer and on to the importer, which
  // indexes the layer and computes its diffID (on the hashing worker, where there is one);
  // the blob is stored under that digest. Writing the tar first and importing it back read
  // and hashed every byte twice more.
  const w = await content.writer({ prehashed: true });
  let layer: ImportedLayer;
  try {
    const fanOut = tap(commitTar(fs), (chunk) => w.write(chunk));
    layer = await importLayer(content, fanOut, images.importOptions());
    // The importer reads to the end of the archive; whatever follows still goes to the blob.
    for await (const _ of fanOut) { /* written by the generator */ }
    await w.commit(layer.diffId);
    await layers.put(layer);
  } catch (e) {
    await w.abort();
    throw e;
  }
  const { diffId, size } = layer;
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
