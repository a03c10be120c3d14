/**
 * A registry that lies: index entries naming what no digest checks, blobs longer than their
 * descriptors, a config too large to hold, a layer that fails while others download. A real
 * registry refuses to serve such things, so these tests answer through `fetch` (the
 * RegistryOptions seam) with the example image's own blobs, bent where each case needs.
 */
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { credentialsFromDockerConfig, parseChallenge, pull, type ImageStore } from '../src/index.js';
import { diskStore, hello, tempDirs } from './fixtures.js';

const tmp = tempDirs('strata-hostile-');
const blob = (hex: string) => new Uint8Array(readFileSync(join(hello, 'blobs', 'sha256', hex))) as Uint8Array<ArrayBuffer>;
const index = JSON.parse(readFileSync(join(hello, 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
const MANIFEST = index.manifests[0]!.digest.slice(7);
const manifest = JSON.parse(new TextDecoder().decode(blob(MANIFEST))) as { config: { digest: string; size: number }; layers: { digest: string; size: number }[] };
const CONFIG = manifest.config.digest.slice(7);
const sha = (b: Uint8Array) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const json = (o: unknown) => new TextEncoder().encode(JSON.stringify(o));
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';

type Route = (url: URL) => Response | Promise<Response> | undefined;

/** A fetch that answers from `routes` (404 otherwise) and logs what was asked. */
function registry(routes: Route[]): { fetch: typeof fetch; asked: string[] } {
  const asked: string[] = [];
  const f = (async (input: string | URL) => {
    const url = new URL(String(input));
    asked.push(url.pathname);
    for (const r of routes) {
      const res = await r(url);
      if (res) return res;
    }
    return new Response('not found', { status: 404 });
  }) as typeof fetch;
  return { fetch: f, asked };
}

/** The example image's blobs, by digest. */
const blobs: Route = (u) => {
  const m = /\/blobs\/sha256:([0-9a-f]{64})$/.exec(u.pathname);
  if (!m) return undefined;
  return readdirSync(join(hello, 'blobs', 'sha256')).includes(m[1]!) ? new Response(blob(m[1]!)) : undefined;
};

const manifestAt = (path: string, bytes: Uint8Array<ArrayBuffer>, type = OCI_MANIFEST): Route => (u) =>
  u.pathname === path ? new Response(bytes, { headers: { 'content-type': type } }) : undefined;

/** A body of `total` bytes in 1 MiB pieces, counting what was sent. */
function endless(total: number, sent: { bytes: number }): Response {
  return new Response(new ReadableStream<Uint8Array>({
    pull(c) {
      if (sent.bytes >= total) return c.close();
      const piece = new Uint8Array(2 ** 20).fill(0x20);
      sent.bytes += piece.length;
      c.enqueue(piece);
    },
  }));
}

async function nothingRecorded(store: ImageStore): Promise<void> {
  expect(await store.list()).toEqual([]);
  expect(await store.leases()).toBe(0);
}

describe('pulling from a registry that lies', () => {
  it('refuses an index entry it cannot verify, and fetches nothing by it', async () => {
    for (const entry of [`sha512:${'ab'.repeat(64)}`, '../../other/manifests/latest']) {
      const idx = json({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [{ mediaType: OCI_MANIFEST, digest: entry, size: 501, platform: { os: 'wasip1', architecture: 'wasm' } }] });
      const r = registry([manifestAt(`/v2/app/manifests/${sha(idx)}`, idx, OCI_INDEX), () => new Response(blob(MANIFEST), { headers: { 'content-type': OCI_MANIFEST } })]);
      const store = diskStore(tmp());
      await expect(pull(store, `mirror.example/app@${sha(idx)}`, { fetch: r.fetch })).rejects.toThrow(/not a sha256 digest or a tag/);
      expect(r.asked).toEqual([`/v2/app/manifests/${sha(idx)}`]);
      await nothingRecorded(store);
    }
  });

  it('refuses a platform manifest whose size is not the one its index gives', async () => {
    const idx = json({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [{ mediaType: OCI_MANIFEST, digest: `sha256:${MANIFEST}`, size: 10, platform: { os: 'wasip1', architecture: 'wasm' } }] });
    const r = registry([manifestAt('/v2/app/manifests/1', idx, OCI_INDEX), manifestAt(`/v2/app/manifests/sha256:${MANIFEST}`, blob(MANIFEST)), blobs]);
    const store = diskStore(tmp());
    await expect(pull(store, 'mirror.example/app:1', { fetch: r.fetch })).rejects.toThrow(/the platform manifest is 501 bytes, the index says 10/);
    await nothingRecorded(store);
  });

  it('stops reading a blob at the size its descriptor gives', async () => {
    const sent = { bytes: 0 };
    const r = registry([
      manifestAt('/v2/app/manifests/1', blob(MANIFEST)),
      (u) => (u.pathname.endsWith(`/blobs/sha256:${CONFIG}`) ? endless(200 * 2 ** 20, sent) : undefined),
      blobs,
    ]);
    const store = diskStore(tmp());
    await expect(pull(store, 'mirror.example/app:1', { fetch: r.fetch, attempts: 1 })).rejects.toThrow(/sends more than the \d+ bytes its descriptor gives/);
    // One piece past the descriptor's 670-odd bytes, and the stream's read-ahead: not 200 MiB.
    expect(sent.bytes).toBeLessThanOrEqual(4 * 2 ** 20);
    await nothingRecorded(store);
  });

  it('stops reading a layer at the size its descriptor gives, streamed or downloaded', async () => {
    const sent = { bytes: 0 };
    const layer = manifest.layers[1]!.digest;
    const r = registry([
      manifestAt('/v2/app/manifests/1', blob(MANIFEST)),
      (u) => (u.pathname.endsWith(`/blobs/${layer}`) ? endless(200 * 2 ** 20, sent) : undefined),
      blobs,
    ]);
    const store = diskStore(tmp());
    await expect(pull(store, 'mirror.example/app:1', { fetch: r.fetch, attempts: 1 })).rejects.toThrow(/descriptor/);
    expect(sent.bytes).toBeLessThanOrEqual(8 * 2 ** 20);
    await nothingRecorded(store);
  });

  it('refuses a config larger than a config may be, unread', async () => {
    const big = json({ ...manifest, config: { ...manifest.config, size: 64 * 2 ** 20 } });
    const sent = { bytes: 0 };
    const r = registry([manifestAt('/v2/app/manifests/1', big), (u) => (u.pathname.endsWith(`/blobs/sha256:${CONFIG}`) ? endless(64 * 2 ** 20, sent) : undefined), blobs]);
    const store = diskStore(tmp());
    await expect(pull(store, 'mirror.example/app:1', { fetch: r.fetch })).rejects.toThrow(/the config is 67108864 bytes, over the 4194304-byte limit/);
    expect(sent.bytes).toBe(0);
    await nothingRecorded(store);
  });

  it('ends a pull whose layer fails only when the other layers\' downloads are over', async () => {
    const [first, second] = manifest.layers;
    let slowDone = false;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const r = registry([
      manifestAt('/v2/app/manifests/1', blob(MANIFEST)),
      (u) => (u.pathname.endsWith(`/blobs/${first!.digest}`) ? new Response('gone', { status: 500 }) : undefined),
      (u) => {
        if (!u.pathname.endsWith(`/blobs/${second!.digest}`)) return undefined;
        const bytes = blob(second!.digest.slice(7));
        return new Response(new ReadableStream<Uint8Array>({
          async pull(c) {
            await gate;
            c.enqueue(bytes);
            slowDone = true;
            c.close();
          },
        }));
      },
      blobs,
    ]);
    const store = diskStore(tmp());
    const pulling = pull(store, 'mirror.example/app:1', { fetch: r.fetch, attempts: 1 });
    let settled = false;
    pulling.catch(() => {}).finally(() => (settled = true));
    await new Promise((resolve) => setTimeout(resolve, 100));
    // The first layer has failed; the second is still downloading, under the pull's lease.
    expect(settled).toBe(false);
    expect(await store.leases()).toBe(1);
    release();
    await expect(pulling).rejects.toThrow(/request failed \(500\)/);
    expect(slowDone).toBe(true);
    await nothingRecorded(store);
  });
});

describe('registry auth details', () => {
  it('reads challenge parameters quoted or bare', () => {
    expect(parseChallenge('Bearer realm="https://auth.example/token",service=registry.example,scope="repository:a:pull,push"')).toEqual({
      scheme: 'bearer', params: { realm: 'https://auth.example/token', service: 'registry.example', scope: 'repository:a:pull,push' },
    });
  });

  it('finds Docker Hub credentials where docker login keeps them', () => {
    const lookup = credentialsFromDockerConfig({ auths: { 'https://index.docker.io/v1/': { auth: btoa('me:secret') } } });
    expect(lookup('docker.io')).toEqual({ username: 'me', password: 'secret' });
    expect(lookup('registry.example')).toBeUndefined();
  });
});
