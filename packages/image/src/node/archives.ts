import { createReadStream, createWriteStream, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import * as tar from 'tar-stream';
import { isDigest, type Digest } from '@strata/store';
import { addFromIndex, loadArchiveStream, parseJson, type Loaded } from '../archive-load.js';
import { ImageError, type ImageStore } from '../image-store.js';
import { MEDIA, type Index } from '../media-types.js';
import { normalizeReference, parseReference } from '../reference.js';

/**
 * `strata load -i PATH`: an OCI layout directory, an OCI archive (a tar of one), or a
 * `docker save` tar (legacy `<id>/layer.tar` layout or the newer OCI-based one). Every blob
 * is verified against its digest on the way into the content store; images are named from
 * `org.opencontainers.image.ref.name` (a full reference, or a bare tag joined to
 * `io.containerd.image.name`) or from the docker tar's `RepoTags`.
 */
/** Archives and blobs are read 1 MiB at a time: at the default 64 KiB the per-chunk costs doubled the read. */
const READ = { highWaterMark: 2 ** 20 };

export async function loadImages(store: ImageStore, path: string): Promise<Loaded[]> {
  if (!existsSync(path)) throw new ImageError(`${path}: no such file or directory`);
  if (statSync(path).isDirectory()) return store.withLease(() => loadLayoutDir(store, path));
  // A Node stream is an async iterable of chunks already: no web-stream adapter (it copies).
  return loadArchiveStream(store, createReadStream(path, READ) as AsyncIterable<Uint8Array>, path);
}

async function loadLayoutDir(store: ImageStore, dir: string): Promise<Loaded[]> {
  if (!existsSync(join(dir, 'index.json'))) throw new ImageError(`${dir} is not an OCI image layout (no index.json)`);
  const blobsDir = join(dir, 'blobs', 'sha256');
  for (const hex of existsSync(blobsDir) ? readdirSync(blobsDir) : []) {
    const digest = `sha256:${hex}` as Digest;
    if (!isDigest(digest) || (await store.content.has(digest))) continue;
    const w = await store.content.writer();
    try {
      for await (const chunk of createReadStream(join(blobsDir, hex), READ)) await w.write(chunk as Uint8Array);
      await w.commit(digest);
    } catch (e) {
      await w.abort();
      throw new ImageError(`blob ${digest}: ${(e as Error).message}`, { cause: e });
    }
  }
  const index = parseJson<Index>(readFileSync(join(dir, 'index.json')), 'index.json');
  return addFromIndex(store, index);
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
      // An image named by its id (or a prefix) has no name to give: "ff242beed5ae" would
      // become docker.io/library/ff242beed5ae:latest.
      const byId = /^(sha256:)?[0-9a-f]{6,64}$/.test(ref) && img.id.slice(7).startsWith(ref.replace(/^sha256:/, ''));
      let name: string | undefined;
      try {
        name = byId ? undefined : normalizeReference(ref);
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

