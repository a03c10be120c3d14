import { spawnSync } from 'node:child_process';
import { mkdtempSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { concatBytes, readTar, tarHeader, tarPadding, TAR_END, type TarHeader, type TarWriteEntry } from '../src/index.js';
import { once } from './suite/tar-builder.js';

const enc = new TextEncoder();
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const T = 1_700_000_000n * 1_000_000_000n;
const long = (n: number, c: string) => c.repeat(n);
const cap = new Uint8Array([0x01, 0x00, 0x00, 0x02, 0x00, 0x20, 0x00, 0x00, 0xff, 0xfe, 0x80, 0x00]);

/** Entries ustar alone cannot say, and ones it can, with their data. */
const entries: [TarWriteEntry, string?][] = [
  [{ name: 'd/', type: 'dir', mode: 0o755, uid: 0, gid: 0, mtimeNs: T }],
  [{ name: 'd/plain', type: 'file', mode: 0o644, uid: 1000, gid: 100, mtimeNs: T, size: 5 }, 'hello'],
  // 100 < length <= 255: ustar's prefix field holds it.
  [{ name: `d/${long(120, 'p')}/${long(90, 'q')}`, type: 'file', mode: 0o600, uid: 0, gid: 0, mtimeNs: T, size: 3 }, 'abc'],
  // Too long for prefix + name, and a non-ASCII name: PAX path.
  [{ name: `d/${long(200, 'r')}/${long(150, 's')}`, type: 'file', mode: 0o644, uid: 0, gid: 0, mtimeNs: T, size: 1 }, 'x'],
  [{ name: 'd/café-ü', type: 'file', mode: 0o644, uid: 0, gid: 0, mtimeNs: T + 123_456_789n, size: 2 }, 'é'],
  // Big ids, a time before 1970 (GNU tar 1.34 misreads a negative one with a fraction, which
  // the reader test below covers), binary and text xattrs.
  [{ name: 'd/ping', type: 'file', mode: 0o4755, uid: 3_000_000, gid: 70_000_000, mtimeNs: -2_000_000_000n, size: 4, xattrs: [['user.cap', cap], ['user.note', enc.encode('kept')]] }, 'ping'],
  [{ name: 'd/link', type: 'symlink', mode: 0o777, uid: 0, gid: 0, mtimeNs: T, linkname: `../${long(150, 't')}` }],
  [{ name: 'd/hard', type: 'link', mode: 0o644, uid: 1000, gid: 100, mtimeNs: T, linkname: 'd/plain' }],
  [{ name: 'd/fifo', type: 'fifo', mode: 0o644, uid: 0, gid: 0, mtimeNs: T }],
];
/** For the reader only: -1.5 s, written "-1.500000000" as GNU tar, Go and Python read it. */
const negativeFraction: TarWriteEntry = { name: 'd/old', type: 'fifo', mode: 0o644, uid: 0, gid: 0, mtimeNs: -1_500_000_000n };

function build(): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const [e, data] of entries) {
    parts.push(tarHeader(e));
    if (data !== undefined) {
      const bytes = enc.encode(data);
      expect(bytes.length).toBe(e.size);
      parts.push(bytes, tarPadding(bytes.length));
    }
  }
  parts.push(TAR_END);
  return concatBytes(parts);
}

describe('tar writer', () => {
  it('writes what the reader reads back, field for field', async () => {
    const got: TarHeader[] = [];
    const tar = build();
    const withOld = concatBytes([tar.subarray(0, tar.length - TAR_END.length), tarHeader(negativeFraction), TAR_END]);
    for await (const e of readTar(once(withOld))) {
      got.push(e.header);
      for await (const _ of e.body()) { /* skip */ }
    }
    const all = [...entries.map(([e]) => e), negativeFraction];
    expect(got.map((h) => h.name)).toEqual(all.map((e) => e.name));
    all.forEach((e, i) => {
      const h = got[i]!;
      expect({ type: h.type, mode: h.mode, uid: h.uid, gid: h.gid, mtimeNs: h.mtimeNs, linkname: h.linkname }, e.name).toEqual({
        type: e.type, mode: e.mode, uid: e.uid, gid: e.gid, mtimeNs: e.mtimeNs, linkname: e.linkname ?? '',
      });
      expect(Object.entries(h.xattrs)).toEqual([...(e.xattrs ?? [])]);
    });
    // Python's tarfile, a third reader, on the same bytes.
    const py = spawnSync('python3', ['-c', 'import tarfile,sys; t=tarfile.open(fileobj=sys.stdin.buffer, mode="r|"); print("\\n".join(f"{m.name} {m.mtime}" for m in t))'], { input: withOld });
    const lines = py.stdout.toString().trim().split('\n');
    expect(lines.at(-1)).toBe('d/old -1.5');
    expect(lines.map((l) => l.slice(0, l.lastIndexOf(' ')))).toEqual(all.map((e) => e.name.replace(/\/$/, '')));
  });

  it('writes what GNU tar extracts: names, targets, modes, owners, times and binary xattrs', () => {
    const out = mkdtempSync(join(tmpdir(), 'strata-tar-writer-'));
    dirs.push(out);
    const r = spawnSync('tar', ['--xattrs', '--xattrs-include=user.*', '--same-owner', '-xpf', '-', '-C', out], { input: build() });
    // GNU tar warns of any time before 1970; nothing else may come.
    expect(r.stderr.toString().split('\n').filter((l) => l && !l.includes('implausibly old time stamp'))).toEqual([]);
    expect(r.status).toBe(0);
    const st = (p: string) => statSync(join(out, p));
    expect(st('d/plain')).toMatchObject({ size: 5, uid: 1000, gid: 100, mode: 0o100644 });
    expect(st(entries[2]![0].name).size).toBe(3);
    expect(st(entries[3]![0].name).size).toBe(1);
    expect(statSync(join(out, 'd/café-ü'), { bigint: true }).mtimeNs).toBe(T + 123_456_789n);
    expect(st('d/ping')).toMatchObject({ uid: 3_000_000, gid: 70_000_000, mode: 0o104755, mtimeMs: -2000 });
    expect(readlinkSync(join(out, 'd/link'))).toBe(`../${long(150, 't')}`);
    expect(st('d/hard').ino).toBe(st('d/plain').ino);
    expect(st('d/fifo').isFIFO()).toBe(true);
    // The binary value as the kernel holds it (python, as Node has no xattr calls).
    const py = spawnSync('python3', ['-c', 'import os,sys; print(os.getxattr(sys.argv[1], "user.cap").hex(), os.getxattr(sys.argv[1], "user.note").decode())', join(out, 'd/ping')]);
    expect(py.stdout.toString().trim()).toBe(`${Buffer.from(cap).toString('hex')} kept`);
  });
});
