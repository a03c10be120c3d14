import { importLayer, tap, toAsyncIterable, type Digest, type HasherFactory } from '@strata/store';
import { MAX_MANIFEST_BYTES, type ImageRecord, type ImageStore } from '../image-store.js';
import { INDEX_TYPES, isWasmPlatform, type Index, type Manifest } from '../media-types.js';
import { formatReference, parseReference } from '../reference.js';
import { RegistryClient, RegistryError, type RegistryOptions } from './client.js';

/** Progress of a pull, per blob (the CLI draws a bar per layer from these). */
export type PullEvent =
  | { kind: 'resolved'; digest: Digest; layers: { digest: Digest; size: number }[] }
  | { kind: 'progress'; digest: Digest; bytes: number; total: number }
  | { kind: 'done'; digest: Digest }
  | { kind: 'extracting' };

/**
 * `strata pull`: resolve the reference (an index to its wasip1/wasm manifest), download the
 * config and the layers (3 at a time), then import the image — layers are unpacked into the
 * layer store and verified against the config's diffIDs before the tag appears.
 */
export async function pull(store: ImageStore, refText: string, options: RegistryOptions & { onEvent?: (e: PullEvent) => void; hasher?: HasherFactory } = {}): Promise<ImageRecord> {
  // What it stores is garbage to a collection until the record names it.
  return store.withLease(() => pullLeased(store, refText, options));
}

async function pullLeased(store: ImageStore, refText: string, options: RegistryOptions & { onEvent?: (e: PullEvent) => void; hasher?: HasherFactory }): Promise<ImageRecord> {
  const ref = parseReference(refText);
  const client = new RegistryClient(options);
  let m = await client.manifest(ref, ref.digest ?? ref.tag ?? 'latest');
  if (INDEX_TYPES.includes(m.mediaType) || parse<Index>(m.bytes).manifests) {
    const index = parse<Index>(m.bytes);
    await store.content.put(m.bytes, m.digest);
    const pick = index.manifests.find((d) => isWasmPlatform(d.platform));
    if (!pick) throw new RegistryError(`${refText}: the image index has no wasip1/wasm (or wasi/wasm) platform`);
    m = await client.manifest(ref, pick.digest);
    if (pick.size !== undefined && pick.size !== m.bytes.length) {
      throw new RegistryError(`${refText}: the platform manifest is ${m.bytes.length} bytes, the index says ${pick.size}`);
    }
  }
  const manifest = parse<Manifest>(m.bytes);
  if (!manifest.config?.digest || !Array.isArray(manifest.layers)) throw new RegistryError(`${refText}: not an image manifest`);
  const layers = manifest.layers.map((l) => ({ digest: l.digest as Digest, size: l.size }));
  options.onEvent?.({ kind: 'resolved', digest: m.digest, layers });
  // Refused unread when its descriptor says it is larger than a config may be.
  if (!(manifest.config.size <= MAX_MANIFEST_BYTES)) throw new RegistryError(`${refText}: the config is ${manifest.config.size} bytes, over the ${MAX_MANIFEST_BYTES}-byte limit`);
  await client.blob(ref, manifest.config.digest as Digest, store.content, undefined, manifest.config.size);
  const config = await store.blobJson<{ rootfs?: { diff_ids?: string[] } }>(manifest.config.digest as Digest, 'config');
  const diffIds = config.rootfs?.diff_ids ?? [];
  const queue = layers.map((l, i) => ({ ...l, diffId: diffIds[i] as Digest | undefined }));
  const worker = async () => {
    for (let l = queue.shift(); l; l = queue.shift()) {
      const layer = l;
      let got = 0;
      const onBytes = (n: number) => {
        got += n;
        options.onEvent?.({ kind: 'progress', digest: layer.digest, bytes: got, total: layer.size });
      };
      // Unpack while downloading: the blob goes to the content store and, through a tee,
      // into the layer importer at once, so nothing is read twice. Any failure on that path
      // falls back to a plain (resumable) download; the import then happens afterwards.
      if (layer.diffId && !(await store.content.has(layer.digest)) && !(await store.layers.has(layer.diffId))) {
        if (await streamLayer(client, ref, store, { ...layer, diffId: layer.diffId }, options.hasher, onBytes)) {
          options.onEvent?.({ kind: 'done', digest: layer.digest });
          continue;
        }
        got = 0;
      }
      await client.blob(ref, layer.digest, store.content, onBytes, layer.size);
      options.onEvent?.({ kind: 'done', digest: layer.digest });
    }
  };
  // One failure stops the others taking more layers, and the pull ends (its lease with it)
  // only when none is still writing.
  const results = await Promise.allSettled([worker(), worker(), worker()].map((w) => w.catch((e: unknown) => {
    queue.length = 0;
    throw e;
  })));
  const failed = results.find((r) => r.status === 'rejected');
  if (failed) throw failed.reason;
  await store.content.put(m.bytes, m.digest);
  options.onEvent?.({ kind: 'extracting' });
  const { digest: _pinned, ...named } = ref;
  return store.addFromManifest(m.digest, ref.tag ? [formatReference(named)] : []);
}

async function streamLayer(
  client: RegistryClient, ref: ReturnType<typeof parseReference>, store: ImageStore, l: { digest: Digest; diffId: Digest; size: number },
  hasher: HasherFactory | undefined, onBytes: (n: number) => void,
): Promise<boolean> {
  const { digest, diffId } = l;
  const w = await store.content.writer();
  try {
    const res = await client.blobResponse(ref, digest);
    // One read of the body feeds both the blob writer and the importer, the same chunk to
    // each (neither changes it): ReadableStream.tee would copy every chunk for its second
    // branch. The importer pulls; each chunk is written to the store before it is handed on.
    const fanOut = tap(toAsyncIterable(res.body!), async (chunk) => {
      // More than the descriptor says: given up here (the plain download then refuses it).
      if (w.written + chunk.length > l.size) throw new RegistryError(`blob ${digest}: larger than its descriptor`);
      await w.write(chunk);
      onBytes(chunk.length);
    });
    // The writer verifies the blob's digest at commit, before the layer is kept.
    const layer = await importLayer(store.content, fanOut, {
      expectedDiffId: diffId, verifiedDigest: digest, ...store.importOptions(hasher),
    });
    // The importer reads the blob to its end; drain anyway, so the writer has every byte
    // before the digest is checked.
    for await (const _ of fanOut) { /* written by the generator */ }
    await w.commit(digest);
    await store.layers.put(layer);
    return true;
  } catch {
    await w.abort().catch(() => {});
    return false;
  }
}

function parse<T>(bytes: Uint8Array): T {
  try {
    return JSON.parse(new TextDecoder().decode(bytes)) as T;
  } catch (e) {
    throw new RegistryError(`the manifest is not valid JSON: ${(e as Error).message}`);
  }
}
