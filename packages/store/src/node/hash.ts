import * as crypto from 'node:crypto';
import { createRequire } from 'node:module';
import { concatBytes } from '../bytes.js';
import type { Hasher, HasherFactory } from '../hash.js';
import type { Digest } from '../types.js';

/** sha256 with node:crypto (OpenSSL): several times faster than the portable one. */
export const nodeSha256: HasherFactory = () => {
  const h = crypto.createHash('sha256');
  return {
    update: (chunk) => void h.update(chunk),
    digest: () => `sha256:${h.digest('hex')}` as Digest,
  };
};

// crypto.hash (Node 20.12+): no Hash object to make and collect, ~2x cheaper for small data.
const hashOnce = (crypto as { hash?: (algorithm: string, data: Uint8Array, encoding: 'hex') => string }).hash;

/** The sha256 of bytes held whole (`nodeSha256.once`). */
export const nodeSha256Once: (data: Uint8Array) => Digest = hashOnce
  ? (data) => `sha256:${hashOnce('sha256', data, 'hex')}` as Digest
  : (data) => `sha256:${crypto.createHash('sha256').update(data).digest('hex')}` as Digest;
nodeSha256.once = nodeSha256Once;

type Blake3Addon = typeof import('@napi-rs/blake-hash');

/**
 * The BLAKE3 addon, loaded at its first use (a process that imports nothing — `strata run` —
 * does not pay for the dlopen), or null where it does not load: no build for this platform.
 */
let addon: { path: string; module: Blake3Addon } | null | undefined;

function blake3Addon(): { path: string; module: Blake3Addon } | null {
  if (addon === undefined) {
    try {
      const require = createRequire(import.meta.url);
      const path = require.resolve('@napi-rs/blake-hash');
      addon = { path, module: require(path) as Blake3Addon };
    } catch {
      addon = null;
    }
  }
  return addon;
}

/** Where the BLAKE3 addon's module is, for the hashing worker (undefined without it). */
export function blake3AddonPath(): string | undefined {
  return blake3Addon()?.path;
}

/**
 * Files smaller than this are addressed by sha256 even where BLAKE3 runs: a call into the
 * addon costs ~3 µs whatever the size, node:crypto's one-shot sha256 ~1.4 µs for a 1 KiB
 * file, and the two cross at ~4 KiB. A layer of 20,000 small files imported 30% slower with
 * BLAKE3 for all of them. The rule depends only on the bytes, so identical files still get
 * one address.
 */
export const SMALL_FILE = 4096;

/**
 * The content address of imported files: BLAKE3, from the native build of @napi-rs/blake-hash
 * (3.7–5 GB/s here against node:crypto sha256's 1.1–1.7), for files of SMALL_FILE bytes and
 * more, where the addon loads; sha256 otherwise (`algorithm` says whether BLAKE3 runs). A
 * layer import hashes every byte twice — the tar for its diffID, which OCI fixes as sha256,
 * and each file for its address, which is ours to choose — and on two cores the second pass
 * decided how far behind `tar -x` an import stays. BLAKE3 is a cryptographic hash (a store
 * shared by several images must not let one file pose as another); file digests say their
 * algorithm, so a store holds both kinds.
 */
export const nodeFileHasher: HasherFactory = Object.defineProperties(
  (): Hasher => {
    const b3 = blake3Addon()?.module;
    if (!b3) return nodeSha256();
    // The size is known at the end: bytes below SMALL_FILE wait, copied (a caller may reuse
    // its buffer), until more come or the digest is asked for.
    let head: Uint8Array[] | undefined = [];
    let size = 0;
    let h: InstanceType<Blake3Addon['Blake3Hasher']> | undefined;
    return {
      update(chunk) {
        size += chunk.length;
        if (!h) {
          if (size < SMALL_FILE) {
            head!.push(chunk.slice());
            return;
          }
          h = new b3.Blake3Hasher();
          for (const c of head!) h.update(c as Buffer);
          head = undefined;
        }
        h.update(chunk as Buffer);
      },
      digest: () => (h ? `blake3:${h.digest('hex')}` : nodeSha256Once(concatBytes(head!))),
    };
  },
  {
    once: {
      value: (data: Uint8Array): Digest => {
        const b3 = data.length >= SMALL_FILE ? blake3Addon()?.module : undefined;
        return b3 ? `blake3:${b3.blake3(data as Buffer).toString('hex')}` : nodeSha256Once(data);
      },
    },
    algorithm: { get: () => (blake3Addon() ? 'blake3' : 'sha256'), enumerable: true },
  },
);
