/**
 * The portable hashes in Chromium, where they run for every import: sha256 against
 * WebCrypto's, BLAKE3 (WebCrypto has none) against @noble/hashes' JavaScript one.
 */
import { blake3 } from '@noble/hashes/blake3';
import { toHex, webBlake3, webSha256, type Digest } from '@strata/store';
import { runWebHasherSuite } from '../../../packages/store/test/suite/web-hashers.js';

runWebHasherSuite('Chromium', webSha256, async (data) => {
  const d = new Uint8Array(await crypto.subtle.digest('SHA-256', data as Uint8Array<ArrayBuffer>));
  return `sha256:${toHex(d)}` as Digest;
});
runWebHasherSuite('Chromium', webBlake3, async (data) => `blake3:${toHex(blake3(data))}` as Digest);
