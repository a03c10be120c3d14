import { createHash } from 'node:crypto';
import type { HasherFactory } from '../hash.js';
import type { Digest } from '../types.js';

/** sha256 with node:crypto (OpenSSL): several times faster than the portable one. */
export const nodeSha256: HasherFactory = () => {
  const h = createHash('sha256');
  return {
    update: (chunk) => void h.update(chunk),
    digest: () => `sha256:${h.digest('hex')}` as Digest,
  };
};
