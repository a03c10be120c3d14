/** The portable sha256 in Chromium, where it runs for every import, against WebCrypto's. */
import type { Digest } from '@strata/store';
import { runWebSha256Suite } from '../../../packages/store/test/suite/web-sha256.js';

runWebSha256Suite('Chromium', async (data) => {
  const d = new Uint8Array(await crypto.subtle.digest('SHA-256', data as Uint8Array<ArrayBuffer>));
  return `sha256:${[...d].map((b) => b.toString(16).padStart(2, '0')).join('')}` as Digest;
});
