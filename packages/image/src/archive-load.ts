import { concatBytes, detectCompression, readTar, toAsyncIterable, type Digest } from '@strata/store';
import { ImageError, MAX_MANIFEST_BYTES, type ImageStore } from './image-store.js';
import { MEDIA, type Index } from './media-types.js';
import { familiarName, normalizeReference, parseReference } from './reference.js';

export interface Loaded {
  id: Digest;
  names: string[];
}

/**
 * Load an OCI archive (a tar of an OCI image layout) or a `docker save` tar from a byte
 * stream: a file in Node, a file the user picked in a page. Blobs go into the content store
 * as they stream, each verified against its digest; `label` names the source in errors.
 */
export async function loadArchiveStream(store: ImageStore, source: AsyncIterable<Uint8Array> | ReadableStream<Uint8Array>, label: string): Promise<Loaded[]> {
  // What it stores is garbage to a collection until the records name it.
  return store.withLease(() => loadLeased(store, source, label));
}

async function loadLeased(store: ImageStore, source: AsyncIterable<Uint8Array> | ReadableStream<Uint8Array>, label: string): Promise<Loaded[]> {
  const small = new Map<string, Uint8Array>();
  const byPath = new Map<string, Digest>();
  // Entries that name another: docker save before Docker 25 writes a layer that two images
  // share once, and the second `<id>/layer.tar` as a symlink to the first.
  const aliases = new Map<string, string>();
  for await (const { header, body } of readTar(toAsyncIterable(source))) {
    const name = header.name.replace(/^\.\//, '');
    if (header.type === 'symlink' || header.type === 'link') {
      // A symlink's target is relative to its directory; a hard link's to the archive.
      const from = header.type === 'symlink' ? name.split('/').slice(0, -1) : [];
      aliases.set(name, archivePath([...from, ...header.linkname.split('/')], name));
      continue;
    }
    if (header.type !== 'file') continue;
    if (name === 'index.json' || name === 'manifest.json' || name === 'oci-layout' || name === 'repositories') {
      if (header.size > MAX_MANIFEST_BYTES) throw new ImageError(`${name} in the archive is too large`);
      const parts: Uint8Array[] = [];
      for await (const c of body()) parts.push(c);
      small.set(name, concatBytes(parts));
      continue;
    }
    const m = /^blobs\/sha256\/([0-9a-f]{64})$/.exec(name);
    const expected = m ? (`sha256:${m[1]}` as Digest) : undefined;
    const w = await store.content.writer();
    try {
      for await (const c of body()) await w.write(c);
      byPath.set(name, await w.commit(expected));
    } catch (e) {
      await w.abort();
      throw new ImageError(`${name}: ${(e as Error).message}`, { cause: e });
    }
  }
  for (const [name, target] of aliases) {
    let t = target;
    for (let hops = 0; aliases.has(t) && hops < 40; hops++) t = aliases.get(t)!;
    const d = byPath.get(t);
    if (d) byPath.set(name, d);
  }
  if (small.has('index.json')) return addFromIndex(store, parseJson<Index>(small.get('index.json')!, 'index.json'));
  if (small.has('manifest.json')) return loadDockerSave(store, parseJson(small.get('manifest.json')!, 'manifest.json'), byPath);
  throw new ImageError(`${label} is neither an OCI archive nor a docker save tar`);
}

interface DockerSaveEntry {
  Config: string;
  RepoTags?: string[] | null;
  Layers: string[];
}

/** docker save's manifest.json: build an OCI manifest for each image from its files. */
async function loadDockerSave(store: ImageStore, entries: DockerSaveEntry[], byPath: Map<string, Digest>): Promise<Loaded[]> {
  const out: Loaded[] = [];
  for (const e of entries) {
    const config = byPath.get(e.Config);
    if (!config) throw new ImageError(`docker save tar: missing ${e.Config}`);
    const layers = e.Layers.map((p) => {
      const d = byPath.get(p);
      if (!d) throw new ImageError(`docker save tar: missing ${p}`);
      return d;
    });
    const manifest = {
      schemaVersion: 2, mediaType: MEDIA.ociManifest,
      config: { mediaType: MEDIA.ociConfig, digest: config, size: await store.content.size(config) },
      layers: await Promise.all(layers.map(async (d) => ({ mediaType: await layerMediaType(store, d), digest: d, size: await store.content.size(d) }))),
    };
    const digest = await store.content.put(new TextEncoder().encode(JSON.stringify(manifest)));
    const names = (e.RepoTags ?? []).map(normalizeReference);
    const record = await store.addFromManifest(digest, names);
    out.push({ id: record.id, names: names.map((n) => familiarName(parseReference(n))) });
  }
  return out;
}

export async function addFromIndex(store: ImageStore, index: Index): Promise<Loaded[]> {
  if (!Array.isArray(index.manifests)) throw new ImageError('index.json has no manifests');
  const out: Loaded[] = [];
  for (const d of index.manifests) {
    const names = namesOf(d.annotations ?? {});
    const record = await store.addFromManifest(d.digest as Digest, names);
    out.push({ id: record.id, names: names.map((n) => familiarName(parseReference(n))) });
  }
  return out;
}

function namesOf(a: Record<string, string>): string[] {
  const ref = a['org.opencontainers.image.ref.name'];
  const containerd = a['io.containerd.image.name'];
  if (containerd) return [normalizeReference(containerd)];
  if (ref && (ref.includes('/') || ref.includes(':'))) return [normalizeReference(ref)];
  return [];
}

export function parseJson<T>(bytes: Uint8Array, what: string): T {
  try {
    return JSON.parse(new TextDecoder().decode(bytes)) as T;
  } catch (e) {
    throw new ImageError(`${what} is not valid JSON`, { cause: e });
  }
}

/**
 * A docker-save layer's media type, from its first bytes: `docker save` writes plain tars,
 * but tarballs of the same shape from other tools (crane's) hold gzip or zstd layers, and a
 * manifest that called them plain tars would mislead whoever reads the image next.
 */
async function layerMediaType(store: ImageStore, digest: Digest): Promise<string> {
  const reader = store.content.stream(digest).getReader();
  const head: Uint8Array[] = [];
  let n = 0;
  try {
    while (n < 4) {
      const r = await reader.read();
      if (r.done) break;
      head.push(r.value);
      n += r.value.length;
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
  const kind = detectCompression(concatBytes(head).subarray(0, 4));
  return kind === 'gzip' ? MEDIA.ociLayerGzip : kind === 'zstd' ? MEDIA.ociLayerZstd : MEDIA.ociLayer;
}

/** Components joined into a path inside the archive; one that climbs out of it is refused. */
function archivePath(parts: string[], entry: string): string {
  const out: string[] = [];
  for (const p of parts) {
    if (p === '' || p === '.') continue;
    if (p === '..') {
      if (out.length === 0) throw new ImageError(`${entry} in the archive points outside it`);
      out.pop();
    } else {
      out.push(p);
    }
  }
  return out.join('/');
}
