import { concatBytes, type ContentStore, type Digest } from '@strata/store';
import { ImageError, MAX_MANIFEST_BYTES } from '../image-store.js';
import { INDEX_TYPES, MANIFEST_TYPES, MEDIA } from '../media-types.js';
import type { Reference } from '../reference.js';
import { basicHeader, parseChallenge, type CredentialLookup } from './auth.js';

export interface RegistryOptions {
  /** Talk plain HTTP (a local registry). */
  plainHttp?: boolean;
  credentials?: CredentialLookup;
  /** Attempts for a request that fails with 5xx or a dropped connection. */
  attempts?: number;
  fetch?: typeof fetch;
}

export class RegistryError extends ImageError {
  constructor(message: string, readonly status?: number) {
    super(message);
  }
}

const ACCEPT = [...MANIFEST_TYPES, ...INDEX_TYPES].join(', ');

/**
 * An OCI distribution-spec client (GET side): manifests and blobs, Bearer tokens from the
 * `WWW-Authenticate` challenge (anonymous or with credentials) and Basic auth, retries with
 * exponential backoff on 5xx and dropped connections, and blob downloads that resume with a
 * `Range` request where they broke off. Every blob is verified against its digest by the
 * content store before it becomes visible. Uses only `fetch` and Web streams.
 */
export class RegistryClient {
  private readonly tokens = new Map<string, string>();
  private readonly f: typeof fetch;

  constructor(private readonly options: RegistryOptions = {}) {
    // Bound: browsers refuse a `fetch` called as a method of another object.
    this.f = options.fetch ?? fetch.bind(globalThis);
  }

  /** The repository's API root (Docker Hub's name is docker.io, its API registry-1.docker.io). */
  base(ref: Reference): string {
    const host = ref.registry === 'docker.io' ? 'registry-1.docker.io' : ref.registry;
    return `${this.options.plainHttp ? 'http' : 'https'}://${host}/v2/${ref.repository}`;
  }

  /** A request with auth and retries; 401 once → authenticate from the challenge → retry. */
  async request(ref: Reference, url: string, init: RequestInit = {}, scope = `repository:${ref.repository}:pull`): Promise<Response> {
    const attempts = this.options.attempts ?? 4;
    let authTried = false;
    for (let attempt = 1; ; attempt++) {
      const headers = new Headers(init.headers);
      const token = this.tokens.get(`${ref.registry}|${scope}`);
      if (token) headers.set('Authorization', token);
      let res: Response;
      try {
        res = await this.f(url, { ...init, headers, redirect: 'follow' });
      } catch (e) {
        if (attempt >= attempts) throw new RegistryError(`${url}: ${unreachable(e)}`);
        await backoff(attempt);
        continue;
      }
      if (res.status === 401 && !authTried) {
        authTried = true;
        await res.body?.cancel();
        await this.authenticate(ref, parseChallenge(res.headers.get('www-authenticate')), scope);
        attempt--;
        continue;
      }
      if (res.status >= 500 && attempt < attempts) {
        await res.body?.cancel();
        await backoff(attempt);
        continue;
      }
      return res;
    }
  }

  private async authenticate(ref: Reference, challenge: ReturnType<typeof parseChallenge>, scope: string): Promise<void> {
    const creds = this.options.credentials?.(ref.registry);
    const key = `${ref.registry}|${scope}`;
    if (!challenge) throw new RegistryError(`${ref.registry}: unauthorized, and no authentication challenge`, 401);
    if (challenge.scheme === 'basic') {
      if (!creds) throw new RegistryError(`${ref.registry}: authentication required (strata login ${ref.registry})`, 401);
      this.tokens.set(key, basicHeader(creds));
      return;
    }
    if (challenge.scheme !== 'bearer' || !challenge.params.realm) throw new RegistryError(`${ref.registry}: unsupported authentication ${challenge.scheme}`, 401);
    const url = new URL(challenge.params.realm);
    if (challenge.params.service) url.searchParams.set('service', challenge.params.service);
    url.searchParams.set('scope', challenge.params.scope ?? scope);
    let res: Response;
    try {
      res = await this.f(url, creds ? { headers: { Authorization: basicHeader(creds) } } : {});
    } catch (e) {
      throw new RegistryError(`${ref.registry}: token service ${url.origin}: ${unreachable(e)}`);
    }
    if (!res.ok) throw new RegistryError(`${ref.registry}: token request failed (${res.status})`, res.status);
    const body = (await res.json()) as { token?: string; access_token?: string };
    const token = body.token ?? body.access_token;
    if (!token) throw new RegistryError(`${ref.registry}: the token service returned no token`);
    this.tokens.set(key, `Bearer ${token}`);
  }

  /** A manifest or index by tag or digest: its bytes (capped), media type and digest. */
  async manifest(ref: Reference, tagOrDigest: string): Promise<{ bytes: Uint8Array; mediaType: string; digest: Digest }> {
    // A digest this client can check, or a tag: nothing else goes into the URL (an index
    // entry naming "sha512:…" or "../../other/manifests/latest" would be fetched unchecked).
    if (!SHA256.test(tagOrDigest) && !TAG.test(tagOrDigest)) {
      throw new RegistryError(`cannot fetch a manifest by ${JSON.stringify(tagOrDigest.slice(0, 80))}: not a sha256 digest or a tag`);
    }
    const attempts = this.options.attempts ?? 4;
    for (let attempt = 1; ; attempt++) {
      const res = await this.request(ref, `${this.base(ref)}/manifests/${tagOrDigest}`, { headers: { Accept: ACCEPT } });
      if (res.status === 404) throw new RegistryError(`${ref.registry}/${ref.repository}:${tagOrDigest}: not found`, 404);
      if (res.status === 401) throw new RegistryError(`${ref.registry}/${ref.repository}: unauthorized`, 401);
      if (!res.ok) throw new RegistryError(`${ref.registry}/${ref.repository}: manifest request failed (${res.status})`, res.status);
      const length = Number(res.headers.get('content-length') ?? 0);
      if (length > MAX_MANIFEST_BYTES) {
        await res.body?.cancel();
        throw new RegistryError(`the manifest is ${length} bytes, over the ${MAX_MANIFEST_BYTES}-byte limit`);
      }
      let bytes: Uint8Array;
      try {
        bytes = await readCapped(res, MAX_MANIFEST_BYTES);
      } catch (e) {
        if (e instanceof RegistryError) throw e;
        // The connection dropped mid-body: ask again, as for a 5xx.
        if (attempt >= attempts) throw new RegistryError(`${ref.registry}/${ref.repository}:${tagOrDigest}: the manifest download broke off (${(e as Error).message})`);
        await backoff(attempt);
        continue;
      }
      return this.checkManifest(res, bytes, tagOrDigest);
    }
  }

  private async checkManifest(res: Response, bytes: Uint8Array, tagOrDigest: string): Promise<{ bytes: Uint8Array; mediaType: string; digest: Digest }> {
    const mediaType = (res.headers.get('content-type') ?? '').split(';')[0]!.trim();
    if (![...MANIFEST_TYPES, ...INDEX_TYPES, MEDIA.ociManifest].includes(mediaType)) {
      throw new RegistryError(`unexpected manifest media type ${JSON.stringify(mediaType)}`);
    }
    const digest = await sha256(bytes);
    if (tagOrDigest.startsWith('sha256:') && tagOrDigest !== digest) throw new RegistryError(`manifest digest mismatch: asked ${tagOrDigest}, got ${digest}`);
    // By tag, the registry's own digest header is what the bytes must match.
    const announced = res.headers.get('docker-content-digest');
    if (announced && announced !== digest) throw new RegistryError(`manifest digest mismatch: the registry says ${announced}, the bytes are ${digest}`);
    return { bytes, mediaType, digest };
  }

  /** The response for a blob (for callers that stream it somewhere as it arrives). */
  async blobResponse(ref: Reference, digest: Digest): Promise<Response> {
    checkBlobDigest(digest);
    const res = await this.request(ref, `${this.base(ref)}/blobs/${digest}`);
    if (res.status === 404) throw new RegistryError(`blob ${digest}: not found`, 404);
    if (!res.ok || !res.body) throw new RegistryError(`blob ${digest}: request failed (${res.status})`, res.status);
    return res;
  }

  /**
   * Download a blob into the content store (verified there). A connection that drops
   * mid-blob is resumed with a Range request from the bytes already written. `size`: what
   * its descriptor says; a registry that sends more is cut off there.
   */
  async blob(ref: Reference, digest: Digest, content: ContentStore, onBytes?: (n: number) => void, size?: number): Promise<void> {
    checkBlobDigest(digest);
    if (await content.has(digest)) return;
    const w = await content.writer();
    const attempts = this.options.attempts ?? 4;
    try {
      for (let attempt = 1; ; attempt++) {
        const headers: Record<string, string> = w.written > 0 ? { Range: `bytes=${w.written}-` } : {};
        const res = await this.request(ref, `${this.base(ref)}/blobs/${digest}`, { headers });
        if (res.status === 404) throw new RegistryError(`blob ${digest}: not found`, 404);
        if (!res.ok) throw new RegistryError(`blob ${digest}: request failed (${res.status})`, res.status);
        if (w.written > 0 && res.status !== 206) throw new RegistryError(`blob ${digest}: the registry cannot resume a download`);
        try {
          const reader = res.body!.getReader();
          for (;;) {
            const r = await reader.read();
            if (r.done) break;
            if (size !== undefined && w.written + r.value.length > size) {
              await reader.cancel().catch(() => {});
              throw new RegistryError(`blob ${digest}: the registry sends more than the ${size} bytes its descriptor gives`);
            }
            await w.write(r.value);
            onBytes?.(r.value.length);
          }
          break;
        } catch (e) {
          if (e instanceof RegistryError) throw e;
          if (attempt >= attempts) throw new RegistryError(`blob ${digest}: the download broke off ${attempts} times (${(e as Error).message})`);
          await backoff(attempt);
        }
      }
      await w.commit(digest);
    } catch (e) {
      await w.abort();
      throw e;
    }
  }
}

/** What a manifest may be fetched by besides a sha256 digest: a tag (distribution spec). */
const TAG = /^[\w][\w.-]{0,127}$/;
const SHA256 = /^sha256:[0-9a-f]{64}$/;

/** Blobs are fetched by sha256 digests only: the content store verifies nothing else. */
function checkBlobDigest(digest: string): void {
  if (!SHA256.test(digest)) throw new RegistryError(`cannot fetch a blob by ${JSON.stringify(digest.slice(0, 80))}: not a sha256 digest`);
}

async function readCapped(res: Response, cap: number): Promise<Uint8Array> {
  const reader = res.body!.getReader();
  const parts: Uint8Array[] = [];
  let n = 0;
  for (;;) {
    const r = await reader.read();
    if (r.done) break;
    n += r.value.length;
    if (n > cap) {
      await reader.cancel();
      throw new RegistryError(`the manifest is over the ${cap}-byte limit`);
    }
    parts.push(r.value);
  }
  return concatBytes(parts);
}

async function sha256(bytes: Uint8Array): Promise<Digest> {
  const d = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
  return `sha256:${[...d].map((b) => b.toString(16).padStart(2, '0')).join('')}`;
}

/**
 * Why a request got no response. Node's fetch says only "fetch failed" and keeps the reason
 * (connection refused, unknown host, a certificate refused) in its cause.
 */
function unreachable(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  const cause = e instanceof Error && e.cause instanceof Error ? e.cause.message : undefined;
  return cause && cause !== message ? `${message}: ${cause}` : message;
}

function backoff(attempt: number): Promise<void> {
  return new Promise((r) => setTimeout(r, Math.min(2000, 100 * 2 ** (attempt - 1))));
}
