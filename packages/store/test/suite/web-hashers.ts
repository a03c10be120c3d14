import { describe, expect, it } from 'vitest';
import type { Digest, WebHasherFactory } from '../../src/index.js';

/** Bytes that differ per seed and per position. */
function bytes(size: number, seed: number): Uint8Array {
  const out = new Uint8Array(size);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/**
 * A portable hash (hasher, webBlake3) against another implementation (node:crypto or the
 * native BLAKE3 in Node; WebCrypto or @noble/hashes in Chromium): its WebAssembly hashers
 * share one instance, so the cases interleave them.
 */
export function runWebHasherSuite(name: string, hasher: WebHasherFactory, reference: (data: Uint8Array) => Promise<Digest>): void {
  describe(`web ${hasher.algorithm} (${name})`, () => {
    it('hashes a stream begun before the WebAssembly build was ready, then runs that build', async () => {
      const data = bytes(300_000, 1);
      const early = hasher();
      early.update(data.subarray(0, 1000));
      expect(await hasher.ready()).toBe('wasm');
      early.update(data.subarray(1000));
      expect(early.digest()).toBe(await reference(data));
    });

    it('gives the same digests as the reference, whole and in pieces, around the block and chunk sizes', async () => {
      await hasher.ready();
      for (const size of [0, 1, 55, 56, 63, 64, 65, 119, 1000, 1023, 1024, 1025, 2049, 65_536, 1_000_003]) {
        const data = bytes(size, size + 7);
        const want = await reference(data);
        expect(hasher.once!(data)).toBe(want);
        const h = hasher();
        for (let off = 0, step = 1; off < size; off += step, step = step * 3 + 1) h.update(data.subarray(off, off + step));
        expect(h.digest()).toBe(want);
      }
    });

    it('keeps interleaved streams apart, with one-shot digests between their chunks', async () => {
      await hasher.ready();
      const streams = [0, 1, 2].map((i) => ({ data: bytes(200_000 + i * 33_333, 10 + i), h: hasher(), off: 0 }));
      const small = [0, 1, 2, 3].map((i) => bytes(i * 5000 + 3, 50 + i));
      const smallWant = await Promise.all(small.map(reference));
      for (let round = 0; streams.some((s) => s.off < s.data.length); round++) {
        for (const [i, s] of streams.entries()) {
          const step = 1 + ((round * 7919 + i * 104_729) % 20_000);
          s.h.update(s.data.subarray(s.off, s.off + step));
          s.off += step;
          expect(hasher.once!(small[round % 4]!)).toBe(smallWant[round % 4]);
        }
      }
      for (const s of streams) expect(s.h.digest()).toBe(await reference(s.data));
    });
  });
}
