import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  concatBytes, devMajor, devMinor, importLayer, LayerFormatError, makeDev, MemoryContentStore, readTar, TAR_END, tarHeader, type TarHeader,
} from '../src/index.js';
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
    for (const [key, value] of [['size', 'abc'], ['size', '-5'], ['size', '5.5'], ['size', '1e3'], ['size', '99999999999999999999'], ['uid', 'x'], ['gid', '-1']]) {
      const tar = await makeTar([{ name: 'f', data: 'hello', pax: { [key!]: value! } }, { name: 'g', data: 'world' }]);
      const err = await headers(tar).catch((e: unknown) => e);
      expect(err, `${key}=${value}`).toBeInstanceOf(LayerFormatError);
      expect((err as Error).message).toContain(`PAX ${key}`);
    }
  });

  it('take an empty value as no record (POSIX: the keyword is deleted), but an empty xattr as one', async () => {
    const tar = await makeTar([{ name: 'f', data: 'hello', pax: { mtime: '', uid: '', 'SCHILY.xattr.user.empty': '' }, uid: 7 }]);
    const [h] = await headers(tar);
    expect(h).toMatchObject({ uid: 7, mtimeNs: 1_700_000_000n * 1_000_000_000n });
    expect(h!.xattrs['user.empty']).toEqual(new Uint8Array(0));
  });

  it('take whole numbers beyond what the octal fields hold', async () => {
    const tar = await makeTar([{ name: 'f', data: 'hello', pax: { uid: '4294967296', gid: '7', size: '5' } }]);
    expect((await headers(tar))[0]).toMatchObject({ uid: 4294967296, gid: 7, size: 5 });
  });
});

/** A tar GNU tar writes from files made by `setup` in a fresh directory (a real producer). */
function gnuTar(args: string[], setup: (dir: string) => void): Uint8Array {
  const dir = mkdtempSync(join(tmpdir(), 'strata-gnutar-'));
  try {
    setup(dir);
    return new Uint8Array(execFileSync('tar', ['-cf', '-', '-C', dir, ...args], { maxBuffer: 64 * 2 ** 20 }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('what GNU tar, Python and Go read alike', () => {
  it('reads the next header after a directory, symlink or fifo whose size field is not zero', async () => {
    for (const [type, linkname] of [['directory', undefined], ['symlink', 'f'], ['fifo', undefined]] as const) {
      const tar = await makeTar([
        { name: 'x', type, ...(linkname ? { linkname } : {}) },
        { name: 'f', data: 'a'.repeat(600) },
        { name: 'g', data: 'b' },
      ]);
      // "4096 bytes" in the first header, as some producers write for a directory; no data follows.
      const got = await headers(patch(tar, 124, '00000010000\0'));
      expect(got.map((h) => h.name.replace(/\/$/, '')), type).toEqual(['x', 'f', 'g']);
      expect(got[0]!.size).toBe(0);
    }
  });

  it('reads an old-style entry whose name ends in a slash as a directory', async () => {
    const tar = await makeTar([{ name: 'd/', type: 'directory' }, { name: 'd/f', data: 'x' }]);
    const v7 = patch(tar, 156, [0]);
    expect((await headers(v7)).map((h) => [h.name, h.type])).toEqual([['d/', 'dir'], ['d/f', 'file']]);
    // Without the slash it stays a file.
    const file = patch(patch(tar, 0, 'd\0'), 156, [0]);
    expect((await headers(file))[0]!.type).toBe('file');
  });

  it('reads a base-256 mtime before 1970, as GNU tar writes it', async () => {
    const tar = gnuTar(['--format=gnu', 'old'], (dir) => {
      writeFileSync(join(dir, 'old'), 'x');
      // touch, not utimes: Node takes negative times for "now".
      execFileSync('touch', ['-d', '1960-01-01 00:00:00 UTC', join(dir, 'old')]);
    });
    expect(tar[136]).toBe(0xff); // base-256, negative
    expect((await headers(tar))[0]!.mtimeNs).toBe(-315_619_200n * 1_000_000_000n);
  });

  it('reads the value bits of a base-256 number\'s first byte, and refuses what then does not fit', async () => {
    const tar = await makeTar([{ name: 'f', data: 'x' }]);
    expect((await headers(patch(tar, 108, [0x80, 0, 0, 0, 0, 0, 0x03, 0xe8])))[0]!.uid).toBe(1000);
    // 2^56 + 1000: not uid 1000.
    await expect(headers(patch(tar, 108, [0x81, 0, 0, 0, 0, 0, 0x03, 0xe8]))).rejects.toThrow(/uid out of range/);
    // Negative only for a time.
    await expect(headers(patch(tar, 124, [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe]))).rejects.toThrow(/size out of range/);
  });

  it('refuses a sparse file rather than store its sparse map as its contents', async () => {
    const tar = gnuTar(['--sparse', '--format=posix', 'sparse'], (dir) => {
      const fd = openSync(join(dir, 'sparse'), 'w');
      writeSync(fd, 'start');
      writeSync(fd, 'end', 3 * 2 ** 20);
      closeSync(fd);
    });
    await expect(headers(tar)).rejects.toThrow(/sparse files/);
  });
});

describe('device numbers', () => {
  const device = (devmajor: number, devminor: number) =>
    concatBytes([tarHeader({ name: 'dev/x', type: 'chardev', mode: 0o600, uid: 0, gid: 0, mtimeNs: 0n, devmajor, devminor }), TAR_END]);

  it('are kept as Linux keeps them, so no two collide, and written back as they were read', async () => {
    const seen = new Set<number>();
    for (const [major, minor] of [[1, 0], [1, 256], [3, 3], [3, 259], [4095, 255], [4096, 1], [8, 2 ** 22 + 5]] as const) {
      const [h] = await headers(device(major, minor));
      expect([h!.devmajor, h!.devminor]).toEqual([major, minor]);
      const layer = await importLayer(new MemoryContentStore(), once(device(major, minor)));
      const rdev = layer.entries.get('dev/x')!.rdev!;
      expect([devMajor(rdev), devMinor(rdev)]).toEqual([major, minor]);
      seen.add(rdev);
    }
    expect(seen.size).toBe(7);
    // What stat reports for a device node: /dev/null is 1:3.
    expect(statSync('/dev/null').rdev).toBe(makeDev(1, 3));
  });

  it('refuses one beyond what a device number holds', async () => {
    await expect(headers(patch(device(1, 0), 329, [0x80, 0, 0, 0, 0, 0x20, 0, 0]))).rejects.toThrow(/device number 2097152:0 out of range/);
  });
});

describe('compression', () => {
  /** A zstd frame that stores `data` as one raw block (what a producer may write for data that does not compress). */
  function zstdRaw(data: Uint8Array): Uint8Array {
    const out = new Uint8Array(4 + 1 + 4 + 3 + data.length);
    const v = new DataView(out.buffer);
    v.setUint32(0, 0xfd2fb528, true); // magic
    out[4] = 0xa0; // single segment, 4-byte content size
    v.setUint32(5, data.length, true);
    const block = 1 | (data.length << 3); // last block, raw
    out.set([block & 0xff, (block >> 8) & 0xff, (block >> 16) & 0xff], 9);
    out.set(data, 12);
    return out;
  }

  it('takes a zstd layer that begins with a skippable frame', async () => {
    const tar = await makeTar([{ name: 'f', data: 'zstd after a skippable frame' }]);
    const skippable = new Uint8Array([0x50, 0x2a, 0x4d, 0x18, 4, 0, 0, 0, 1, 2, 3, 4]);
    const layer = await importLayer(new MemoryContentStore(), once(concatBytes([skippable, zstdRaw(tar)])));
    expect(layer.compression).toBe('zstd');
    expect(layer.entries.get('f')?.size).toBe(28);
  });
});
