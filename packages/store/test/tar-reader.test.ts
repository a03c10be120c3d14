import { describe, expect, it } from 'vitest';
import { LayerFormatError, readTar, type TarHeader } from '../src/index.js';
import { makeTar, once } from './suite/tar-builder.js';

const enc = new TextEncoder();

const unsigned = (b: Uint8Array) => b.subarray(0, 512).reduce((a, v) => a + v, 0);
const signed = (b: Uint8Array) => b.subarray(0, 512).reduce((a, v) => a + (v > 127 ? v - 256 : v), 0);

/** A copy of `tar` whose first header's checksum is `sum` of it (the field counted as blanks). */
function withChecksum(tar: Uint8Array, sum: (b: Uint8Array) => number = unsigned): Uint8Array {
  const out = tar.slice();
  out.fill(0x20, 148, 156);
  out.set(enc.encode(`${sum(out).toString(8).padStart(6, '0')}\0 `), 148);
  return out;
}

/** Rewrite a numeric field of the first header and fix its checksum. */
function patch(tar: Uint8Array, off: number, bytes: number[] | string): Uint8Array {
  const out = tar.slice();
  out.set(typeof bytes === 'string' ? enc.encode(bytes) : bytes, off);
  return withChecksum(out);
}

async function headers(tar: Uint8Array): Promise<TarHeader[]> {
  const out: TarHeader[] = [];
  for await (const e of readTar(once(tar))) {
    out.push(e.header);
    for await (const _ of e.body()) { /* skip */ }
  }
  return out;
}

describe('tar header numbers', async () => {
  const tar = await makeTar([{ name: 'f', data: 'hello', mode: 0o640, uid: 1000, gid: 100 }]);

  it('reads octal fields ended by NUL or by blanks, with blanks before them', async () => {
    for (const mode of ['000640\0\0', '0000640 ', '    640\0', '640\0\0\0\0\0', ' 640  \0\0']) {
      const [h] = await headers(patch(tar, 100, mode));
      expect(h!.mode, JSON.stringify(mode)).toBe(0o640);
    }
    const [h] = await headers(patch(tar, 108, '\0\0\0\0\0\0\0\0'));
    expect(h!.uid).toBe(0);
    expect((await headers(tar))[0]).toMatchObject({ uid: 1000, gid: 100, size: 5, mtimeNs: 1_700_000_000n * 1_000_000_000n });
  });

  it('reads GNU base-256 numbers', async () => {
    // uid 2^33, which octal in 8 bytes cannot hold.
    const [h] = await headers(patch(tar, 108, [0x80, 0, 0, 2, 0, 0, 0, 0]));
    expect(h!.uid).toBe(2 ** 33);
  });

  it('refuses a field that is not octal, naming it', async () => {
    for (const [off, text, what] of [[100, '00064x \0', 'mode'], [124, '0000000000-5', 'size'], [108, '12 34\0\0\0', 'uid']] as const) {
      const err = await headers(patch(tar, off, text)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(LayerFormatError);
      expect((err as Error).message).toContain(`${what} field is not octal`);
    }
  });

  it('refuses a base-256 number that is negative or too large to be exact', async () => {
    for (const bytes of [[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], [0x80, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]]) {
      await expect(headers(patch(tar, 108, bytes))).rejects.toThrow(/uid out of range/);
    }
  });
});

describe('tar header checksum', async () => {
  // A name with bytes over 127 in the header itself (tar-stream would move it to a PAX
  // record), where signed and unsigned sums differ.
  const tar = await makeTar([{ name: 'cafe-u', data: 'x' }]);
  tar.set(enc.encode('café-ü'), 0);

  it('accepts the unsigned sum and the signed one old producers wrote', async () => {
    expect(unsigned(tar)).not.toBe(signed(tar));
    for (const sum of [unsigned, signed]) expect((await headers(withChecksum(tar, sum)))[0]!.name).toBe('café-ü');
  });

  it('refuses a header whose bytes do not add up', async () => {
    const bad = withChecksum(tar, unsigned);
    bad[5] ^= 0x01;
    await expect(headers(bad)).rejects.toThrow(/checksum mismatch/);
    const off = withChecksum(tar, (b) => unsigned(b) + 1);
    await expect(headers(off)).rejects.toThrow(/checksum mismatch/);
  });
});

describe('PAX numbers', () => {
  it('refuse a size, uid or gid that is not a whole number, naming it', async () => {
    for (const [key, value] of [['size', 'abc'], ['size', '-5'], ['size', '5.5'], ['size', '1e3'], ['size', ''], ['size', '99999999999999999999'], ['uid', 'x'], ['gid', '-1']]) {
      const tar = await makeTar([{ name: 'f', data: 'hello', pax: { [key!]: value! } }, { name: 'g', data: 'world' }]);
      const err = await headers(tar).catch((e: unknown) => e);
      expect(err, `${key}=${value}`).toBeInstanceOf(LayerFormatError);
      expect((err as Error).message).toContain(`PAX ${key}`);
    }
  });

  it('take whole numbers beyond what the octal fields hold', async () => {
    const tar = await makeTar([{ name: 'f', data: 'hello', pax: { uid: '4294967296', gid: '7', size: '5' } }]);
    expect((await headers(tar))[0]).toMatchObject({ uid: 4294967296, gid: 7, size: 5 });
  });
});
