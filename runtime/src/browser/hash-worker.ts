/** The browsers' hashing worker: the diffID of a layer a page imports (see WebHashOffload). */
import { webHashWorker, type Digest } from '@strata/store';
import { createSHA256 } from 'hash-wasm';

webHashWorker(self as unknown as Parameters<typeof webHashWorker>[0], async () => {
  const h = await createSHA256();
  return { update: (chunk) => void h.update(chunk), digest: () => `sha256:${h.digest('hex')}` as Digest };
});
