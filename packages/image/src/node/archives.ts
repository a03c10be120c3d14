import { createReadStream, createWriteStream, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import * as tar from 'tar-stream';
import { isDigest, readTar, type Digest } from '@strata/store';
import { ImageError, MAX_MANIFEST_BYTES, type ImageStore } from '../image-store.js';
import { MEDIA, type Index } from '../media-types.js';
import { familiarName, normalizeReference, parseReference } from '../reference.js';

export interface Loaded {
  id: Digest;
  names: string[];
}

/**
 * `strata load -i PATH`: an OCI layout directory, an OCI archive (a tar of one), or a
 * `docker save` tar (legacy `<id>/layer.tar` layout or the newer OCI-based one). Every blob
 * is verified against its digest on the way into the content store; images are named from
 * `org.opencontainers.image.ref.name` (a full reference, or a bare tag joined to
 * `io.containerd.image.name`) or from the docker tar's `RepoTags`.
 */
export async function loadImages(store: ImageStore, path: string): Promise<Loaded[]> {
  if (!existsSync(path)) throw new ImageError(`${path}: no such file or directory`);
  if (statSync(path).isDirectory()) return loadLayoutDir(store, path);
  return loadArchive(store, path);
}

async function loadLayoutDir(store: ImageStore, dir: string): Promise<Loaded[]> {
  if (!existsSync(join(dir, 'index.json'))) throw new ImageError(`${dir} is not an OCI image layout (no index.json)`);
  const blobsDir = join(dir, 'blobs', 'sha256');
  for (const hex of existsSync(blobsDir) ? readdirSync(blobsDir) : []) {
    const digest = `sha256:${hex}` as Digest;
    if (!isDigest(digest) || (await store.content.has(digest))) continue;
    const w = await store.content.writer();
    try {
      for await (const chunk of createReadStream(join(blobsDir, hex))) await w.write(chunk as Uint8Array);
      await w.commit(digest);
    } catch (e) {
      await w.abort();
      throw new ImageError(`blob ${digest}: ${(e as Error).message}`, { cause: e });
    }
  }
  const index = parseJson<Index>(readFileSync(join(dir, 'index.json')), 'index.json');
  return addFromIndex(store, index);
}

async function addFromIndex(store: ImageStore, index: Index): Promise<Loaded[]> {
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

async function loadArchive(store: ImageStore, file: string): Promise<Loaded[]> {
  const small = new Map<string, Uint8Array>();
  const byPath = new Map<string, Digest>();
  const source = Readable.toWeb(createReadStream(file)) as unknown as AsyncIterable<Uint8Array>;
  for await (const { header, body } of readTar(source)) {
    const name = header.name.replace(/^\.\//, '');
    if (header.type !== 'file') continue;
    if (name === 'index.json' || name === 'manifest.json' || name === 'oci-layout' || name === 'repositories') {
      if (header.size > MAX_MANIFEST_BYTES) throw new ImageError(`${name} in the archive is too large`);
      const parts: Uint8Array[] = [];
      for await (const c of body()) parts.push(c.slice());
      small.set(name, Buffer.concat(parts));
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
  if (small.has('index.json')) return addFromIndex(store, parseJson<Index>(small.get('index.json')!, 'index.json'));
  if (small.has('manifest.json')) return loadDockerSave(store, parseJson(small.get('manifest.json')!, 'manifest.json'), byPath);
  throw new ImageError(`${file} is neither an OCI archive nor a docker save tar`);
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
      layers: await Promise.all(layers.map(async (d) => ({ mediaType: MEDIA.ociLayer, digest: d, size: await store.content.size(d) }))),
    };
    const digest = await store.content.put(new TextEncoder().encode(JSON.stringify(manifest)));
    const names = (e.RepoTags ?? []).map(normalizeReference);
    const record = await store.addFromManifest(digest, names);
    out.push({ id: record.id, names: names.map((n) => familiarName(parseReference(n))) });
  }
  return out;
}

/**
 * `strata save -o FILE IMAGE...`: an OCI archive (a tar of an OCI image layout) that skopeo
 * (`oci-archive:FILE`) and umoci read: `oci-layout`, `index.json` naming each image with
 * `org.opencontainers.image.ref.name` (its tag) and `io.containerd.image.name` (its full
 * name), and the manifest, config and layer blobs.
 */
export async function saveImages(store: ImageStore, refs: string[], file: string): Promise<void> {
  const pack = tar.pack();
  const out = pipeline(pack as unknown as NodeJS.ReadableStream, createWriteStream(file));
  const add = (name: string, data: Uint8Array) =>
    new Promise<void>((res, rej) => pack.entry({ name, mode: 0o644, mtime: new Date(0) }, data, (e) => (e ? rej(e) : res())));
  const manifests: Index['manifests'] = [];
  const written = new Set<string>();
  try {
    await add('oci-layout', new TextEncoder().encode('{"imageLayoutVersion":"1.0.0"}'));
    for (const ref of refs) {
      const img = await store.resolve(ref);
      let name: string | undefined;
      try {
        name = normalizeReference(ref);
      } catch {
        name = undefined;
      }
      const parsed = name ? parseReference(name) : undefined;
      manifests.push({
        mediaType: MEDIA.ociManifest, digest: img.id, size: await store.content.size(img.id),
        ...(parsed?.tag ? { annotations: { 'org.opencontainers.image.ref.name': parsed.tag, 'io.containerd.image.name': name! } } : {}),
      });
      for (const d of [img.id, img.configDigest, ...img.layers.map((l) => l.digest)]) {
        if (written.has(d)) continue;
        written.add(d);
        const size = await store.content.size(d);
        await new Promise<void>((res, rej) => {
          const w = pack.entry({ name: `blobs/sha256/${d.slice(7)}`, size, mode: 0o644, mtime: new Date(0) }, (e) => (e ? rej(e) : res()));
          void (async () => {
            for await (const c of store.content.stream(d) as unknown as AsyncIterable<Uint8Array>) {
              if (!w.write(c)) await new Promise<void>((r) => w.once('drain', () => r()));
            }
            w.end(new Uint8Array(0));
          })().catch(rej);
        });
      }
    }
    await add('index.json', new TextEncoder().encode(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA.ociIndex, manifests })));
    pack.finalize();
  } catch (e) {
    pack.destroy(e as Error);
    throw e;
  } finally {
    await out.catch(() => {});
  }
}

function parseJson<T>(bytes: Uint8Array, what: string): T {
  try {
    return JSON.parse(new TextDecoder().decode(bytes)) as T;
  } catch (e) {
    throw new ImageError(`${what} is not valid JSON`, { cause: e });
  }
}
