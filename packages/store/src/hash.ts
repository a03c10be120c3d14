import { sha256 } from '@noble/hashes/sha2';
import type { Digest } from './types.js';

/** An incremental sha256. */
export interface Hasher {
  update(chunk: Uint8Array): void;
  /** `sha256:<hex>`; the hasher is finished afterwards. */
  digest(): Digest;
}

export interface HasherFactory {
  (): Hasher;
  /**
   * The digest of bytes held whole, where the platform has a one-shot call cheaper than a
   * Hasher (a layer's small files are hashed this way, thousands a layer).
   */
  once?(data: Uint8Array): Digest;
}

/**
 * The portable sha256 (@noble/hashes: audited, no dependencies, works in browsers and
 * workers, where WebCrypto has no incremental digest). Node code uses node:crypto instead
 * (`nodeSha256` in `@strata/store/node`), several times faster.
 */
export const webSha256: HasherFactory = () => {
  const h = sha256.create();
  return {
    update: (chunk) => void h.update(chunk),
    digest: () => `sha256:${toHex(h.digest())}`,
  };
};

export function toHex(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}

const DIGEST = /^sha256:[0-9a-f]{64}$/;

export function isDigest(s: string): s is Digest {
  return DIGEST.test(s);
}
