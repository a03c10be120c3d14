import type { Digest } from '@strata/store';
import type { ImageStore } from '../image-store.js';
import { MEDIA } from '../media-types.js';
import { parseReference, type Reference } from '../reference.js';
import { RegistryClient, RegistryError, type RegistryOptions } from './client.js';

/** Blobs above this size go up in chunks (PATCH…PUT) instead of one PUT. */
export const CHUNK_UPLOAD = 8 * 2 ** 20;

export type PushEvent =
  | { kind: 'blob'; digest: Digest; how: 'exists' | 'mounted' | 'uploaded'; /** PATCH requests of a chunked upload. */ chunks?: number }
  | { kind: 'manifest'; digest: Digest };

/**
 * `strata push`: every blob of the image (layers, config) that the registry lacks is
 * uploaded — mounted from another repository of the same registry when `mountFrom` names
 * one that has it, else a monolithic PUT, or PATCH chunks then PUT for big blobs — and then
 * the manifest is PUT under the tag.
 */
export async function push(
  store: ImageStore, source: string, target: string,
  options: RegistryOptions & { mountFrom?: string; onEvent?: (e: PushEvent) => void } = {},
): Promise<Digest> {
  const img = await store.resolve(source);
  const ref = parseReference(target);
  const client = new RegistryClient(options);
  const scope = `repository:${ref.repository}:pull,push`;
  const base = client.base(ref);
  const blobs = [...img.layers.map((l) => l.digest), img.configDigest];
  for (const digest of blobs) {
    const { how, chunks } = await pushBlob(client, store, ref, base, scope, digest, options.mountFrom);
    options.onEvent?.({ kind: 'blob', digest, how, ...(chunks ? { chunks } : {}) });
  }
  const manifest = await store.content.get(img.id);
  // Sent as what it is: a registry refuses a Docker schema 2 manifest labelled OCI.
  const { mediaType } = JSON.parse(new TextDecoder().decode(manifest)) as { mediaType?: string };
  const res = await client.request(ref, `${base}/manifests/${ref.tag ?? img.id}`, {
    method: 'PUT', headers: { 'Content-Type': mediaType ?? MEDIA.ociManifest }, body: manifest as Uint8Array<ArrayBuffer>,
  }, scope);
  if (res.status !== 201 && res.status !== 200) throw new RegistryError(`manifest upload failed (${res.status}): ${await res.text()}`, res.status);
  options.onEvent?.({ kind: 'manifest', digest: img.id });
  return img.id;
}

async function pushBlob(
  client: RegistryClient, store: ImageStore, ref: Reference, base: string, scope: string, digest: Digest, mountFrom?: string,
): Promise<{ how: 'exists' | 'mounted' | 'uploaded'; chunks?: number }> {
  const head = await client.request(ref, `${base}/blobs/${digest}`, { method: 'HEAD' }, scope);
  if (head.status === 200) return { how: 'exists' };
  if (mountFrom) {
    const m = await client.request(ref, `${base}/blobs/uploads/?mount=${digest}&from=${encodeURIComponent(mountFrom)}`, { method: 'POST' }, scope);
    if (m.status === 201) return { how: 'mounted' };
    await m.body?.cancel();
  }
  const start = await client.request(ref, `${base}/blobs/uploads/`, { method: 'POST' }, scope);
  if (start.status !== 202) throw new RegistryError(`blob upload could not start (${start.status})`, start.status);
  let location = new URL(start.headers.get('location') ?? '', base).toString();
  const size = await store.content.size(digest);
  const bytes = await store.content.get(digest);
  let chunks = 0;
  if (size > CHUNK_UPLOAD) {
    for (let off = 0; off < size; off += CHUNK_UPLOAD, chunks++) {
      const chunk = bytes.subarray(off, Math.min(size, off + CHUNK_UPLOAD));
      const r = await client.request(ref, location, {
        method: 'PATCH', body: chunk as Uint8Array<ArrayBuffer>,
        headers: { 'Content-Type': 'application/octet-stream', 'Content-Range': `${off}-${off + chunk.length - 1}` },
      }, scope);
      if (r.status !== 202) throw new RegistryError(`chunk upload failed (${r.status})`, r.status);
      location = new URL(r.headers.get('location') ?? location, base).toString();
    }
    const done = await client.request(ref, withDigest(location, digest), { method: 'PUT' }, scope);
    if (done.status !== 201) throw new RegistryError(`blob upload failed (${done.status})`, done.status);
  } else {
    const r = await client.request(ref, withDigest(location, digest), {
      method: 'PUT', body: bytes as Uint8Array<ArrayBuffer>, headers: { 'Content-Type': 'application/octet-stream' },
    }, scope);
    if (r.status !== 201) throw new RegistryError(`blob upload failed (${r.status})`, r.status);
  }
  return chunks ? { how: 'uploaded', chunks } : { how: 'uploaded' };
}

function withDigest(location: string, digest: Digest): string {
  const u = new URL(location);
  u.searchParams.set('digest', digest);
  return u.toString();
}
