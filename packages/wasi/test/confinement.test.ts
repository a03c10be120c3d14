/**
 * Attempts to leave the container root through WASI: `..` chains, absolute paths, symlinks
 * (absolute and relative) in the image and in a bind mount, renames and links across
 * preopens, writes into a read-only bind mount. Each gets its errno, and the host outside
 * is left untouched (checked byte for byte).
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OverlayFs } from '@strata/overlay';
import { MemoryContentStore, type LayerEntry, type LayerIndex } from '@strata/store';
import { MountFs } from '@strata/syncfs';
import { ERRNO, WASI } from '../src/index.js';
import { HostDirFs } from '../src/node/index.js';

/** (module (memory (export "memory") 1)): just memory for the syscalls to use. */
const MEMORY_MODULE = Uint8Array.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 5, 3, 1, 0, 1, 7, 0x0a, 1, 6, 0x6d, 0x65, 0x6d, 0x6f, 0x72, 0x79, 2, 0]);

let hostDir: string;
let outside: string;
let snapshot: string;

function tree(dir: string): string {
  const out: string[] = [];
  const walk = (d: string, rel: string) => {
    for (const e of readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p, `${rel}${e.name}/`);
      else out.push(`${rel}${e.name}:${e.isSymbolicLink() ? 'link' : readFileSync(p, 'utf8')}`);
    }
  };
  walk(dir, '');
  return out.join('\n');
}

beforeAll(() => {
  hostDir = mkdtempSync(join(tmpdir(), 'strata-confine-'));
  outside = join(hostDir, 'outside');
  mkdirSync(join(outside, 'etc'), { recursive: true });
  writeFileSync(join(outside, 'etc', 'shadow'), 'HOST SECRET');
  const vol = join(hostDir, 'volume');
  mkdirSync(vol);
  writeFileSync(join(vol, 'in.txt'), 'volume data');
  symlinkSync(join(outside, 'etc'), join(vol, 'abs-out'));
  symlinkSync('../outside/etc', join(vol, 'rel-out'));
  snapshot = tree(outside);
});

afterAll(() => rmSync(hostDir, { recursive: true, force: true }));

async function setup(options: { volumeReadOnly?: boolean; volume?: string; pathsOnly?: boolean } = {}) {
  const content = new MemoryContentStore();
  const T = 1_700_000_000n * 1_000_000_000n;
  const entry = (e: Partial<LayerEntry> & Pick<LayerEntry, 'type'>): LayerEntry => ({ mode: 0o755, uid: 0, gid: 0, mtimeNs: T, size: 0, ...e });
  const shadow = await content.put(new TextEncoder().encode('container shadow'));
  const layer: LayerIndex = {
    diffId: `sha256:${'1'.repeat(64)}`,
    entries: new Map<string, LayerEntry>([
      ['', entry({ type: 'dir' })],
      ['etc', entry({ type: 'dir' })],
      ['etc/shadow', entry({ type: 'file', mode: 0o640, size: 16, content: { digest: shadow, size: 16 } })],
      ['a', entry({ type: 'dir' })],
      ['a/b', entry({ type: 'dir' })],
      ['a/b/abs', entry({ type: 'symlink', target: '/etc', size: 4 })],
      ['a/b/esc', entry({ type: 'symlink', target: '../../../../../../etc', size: 21 })],
      ['data', entry({ type: 'dir' })],
      ['ldir', entry({ type: 'symlink', target: 'a/b', size: 3 })],
      ['lfile', entry({ type: 'symlink', target: 'etc/shadow', size: 10 })],
      ['dangling', entry({ type: 'symlink', target: 'made', size: 4 })],
    ]),
  };
  const overlay = new OverlayFs({ lowers: [layer], content });
  const other = new OverlayFs({ lowers: [], content });
  const volume = new HostDirFs(options.volume ?? join(hostDir, 'volume'), { readOnly: options.volumeReadOnly ?? false, pathsOnly: options.pathsOnly ?? false });
  const root = new MountFs(overlay, [{ at: overlay.lookup(overlay.root, 'data'), fs: volume }]);
  const wasi = new WASI({ args: ['t'], preopens: { '/': root, '/other': other } });
  const instance = new WebAssembly.Instance(new WebAssembly.Module(MEMORY_MODULE), wasi.getImportObject());
  wasi.initialize(instance);
  const mem = new Uint8Array((instance.exports.memory as WebAssembly.Memory).buffer);
  const w = wasi.wasiImport as unknown as Record<string, (...a: (number | bigint)[]) => number>;
  let scratch = 1024;
  const str = (s: string): [number, number] => {
    const b = new TextEncoder().encode(s);
    mem.set(b, scratch);
    const r: [number, number] = [scratch, b.length];
    scratch += b.length + 8;
    return r;
  };
  const ALL = (1n << 30n) - 1n;
  const open = (path: string, follow = true, oflags = 0) => w.path_open!(3, follow ? 1 : 0, ...str(path), oflags, ALL, ALL, 0, 64);
  const readOpened = (): string => {
    const fd = new DataView(mem.buffer).getUint32(64, true);
    const iov = new DataView(mem.buffer);
    iov.setUint32(128, 4096, true);
    iov.setUint32(132, 256, true);
    expect(w.fd_read!(fd, 128, 1, 136)).toBe(ERRNO.SUCCESS);
    return new TextDecoder().decode(mem.subarray(4096, 4096 + iov.getUint32(136, true)));
  };
  const openedFd = (): number => new DataView(mem.buffer).getUint32(64, true);
  return { w, str, open, readOpened, openedFd, overlay };
}

describe('confinement to the container root', () => {
  it('refuses .. past the root and absolute paths with ENOTCAPABLE', async () => {
    const { open } = await setup();
    expect(open('../outside/etc/shadow')).toBe(ERRNO.NOTCAPABLE);
    expect(open('a/../../etc/shadow')).toBe(ERRNO.NOTCAPABLE);
    expect(open('/etc/shadow')).toBe(ERRNO.NOTCAPABLE);
  });

  it('resolves an absolute symlink of the image inside the container, as a chroot does', async () => {
    const { open, readOpened } = await setup();
    expect(open('a/b/abs/shadow')).toBe(ERRNO.SUCCESS);
    expect(readOpened()).toBe('container shadow');
  });

  it('does not let a relative symlink climb out', async () => {
    const { open } = await setup();
    expect(open('a/b/esc/shadow')).toBe(ERRNO.NOTCAPABLE);
  });

  it('resolves a bind mount\'s symlinks to host paths inside the container, never on the host', async () => {
    const { open, readOpened } = await setup();
    // abs-out points at <host>/outside/etc: inside the container that path does not exist.
    expect(open('data/abs-out/shadow')).toBe(ERRNO.NOENT);
    // rel-out climbs out of the mount: it lands in the container's /, where there is no
    // outside/etc either.
    expect(open('data/rel-out/shadow')).toBe(ERRNO.NOENT);
    expect(open('data/in.txt')).toBe(ERRNO.SUCCESS);
    expect(readOpened()).toBe('volume data');
    expect(tree(outside)).toBe(snapshot);
  });

  it('refuses renames and links across preopens with EXDEV and creating absolute symlinks', async () => {
    const { w, str } = await setup();
    expect(w.path_rename!(3, ...str('etc/shadow'), 4, ...str('stolen'))).toBe(ERRNO.XDEV);
    expect(w.path_link!(3, 0, ...str('etc/shadow'), 4, ...str('stolen'))).toBe(ERRNO.XDEV);
    expect(w.path_symlink!(...str('/etc/shadow'), 3, ...str('x'))).toBe(ERRNO.PERM);
  });

  it('keeps a directory the guest holds open in a bind mount on that directory, wherever it moves and whatever takes its name', async () => {
    const ALL = (1n << 30n) - 1n;
    // With descriptors (Linux) and with checked paths (elsewhere).
    for (const pathsOnly of [false, true]) {
      const vol = mkdtempSync(join(hostDir, 'vol-'));
      mkdirSync(join(vol, 'sub'));
      mkdirSync(join(vol, 'gone'));
      const { w, str, openedFd } = await setup({ volume: vol, pathsOnly });
      const openDir = (path: string): number => {
        // A directory's rights: everything but writing it as a file.
        expect(w.path_open!(3, 0, ...str(path), 2, ALL & ~64n, ALL, 0, 64)).toBe(ERRNO.SUCCESS);
        return openedFd();
      };
      // Moved away, and a relative symlink to the host's outside/etc put at its old name.
      const sub = openDir('data/sub');
      expect(w.path_rename!(3, ...str('data/sub'), 3, ...str('data/moved'))).toBe(ERRNO.SUCCESS);
      expect(w.path_symlink!(...str('../outside/etc'), 3, ...str('data/sub'))).toBe(ERRNO.SUCCESS);
      expect(w.path_open!(sub, 0, ...str('shadow'), 0, ALL, ALL, 0, 64), `pathsOnly ${pathsOnly}`).toBe(ERRNO.NOENT);
      expect(w.path_open!(sub, 0, ...str('planted'), 1, ALL, ALL, 0, 64)).toBe(ERRNO.SUCCESS);
      expect(existsSync(join(vol, 'moved', 'planted'))).toBe(true);
      // Removed, and the same symlink put in its place.
      const gone = openDir('data/gone');
      expect(w.path_remove_directory!(3, ...str('data/gone'))).toBe(ERRNO.SUCCESS);
      expect(w.path_symlink!(...str('../outside/etc'), 3, ...str('data/gone'))).toBe(ERRNO.SUCCESS);
      // ENOENT, or ENOTDIR where the host gave the symlink the removed directory's inode
      // number (ext4 reuses them; node ids are inode numbers): never the host's file.
      expect([ERRNO.NOENT, ERRNO.NOTDIR]).toContain(w.path_open!(gone, 0, ...str('shadow'), 0, ALL, ALL, 0, 64));
      expect([ERRNO.NOENT, ERRNO.NOTDIR]).toContain(w.path_open!(gone, 0, ...str('planted'), 1, ALL, ALL, 0, 64));
      expect(w.path_filestat_set_times!(sub, 0, ...str('planted'), 0n, 0n, 2)).toBe(ERRNO.SUCCESS);
      expect(tree(outside)).toBe(snapshot);
    }
  });

  it('keeps a read-only bind mount read-only', async () => {
    const { w, str } = await setup({ volumeReadOnly: true });
    expect(w.path_open!(3, 0, ...str('data/new.txt'), 1, (1n << 30n) - 1n, 0n, 0, 64)).toBe(ERRNO.ROFS);
    expect(w.path_unlink_file!(3, ...str('data/in.txt'))).toBe(ERRNO.ROFS);
    expect(readFileSync(join(hostDir, 'volume', 'in.txt'), 'utf8')).toBe('volume data');
  });
});

describe('the last component, as Linux treats it', () => {
  const ALL = (1n << 30n) - 1n;

  it('does not follow a symlink named with a trailing slash where the call acts on the name itself', async () => {
    const { w, str } = await setup();
    const exists = (path: string) => w.path_filestat_get!(3, 0, ...str(path), 512) === ERRNO.SUCCESS;
    expect(w.path_remove_directory!(3, ...str('ldir/'))).toBe(ERRNO.NOTDIR);
    expect(w.path_rename!(3, ...str('ldir/'), 3, ...str('moved'))).toBe(ERRNO.NOTDIR);
    expect(w.path_unlink_file!(3, ...str('ldir/'))).toBe(ERRNO.NOTDIR);
    expect(w.path_unlink_file!(3, ...str('lfile/'))).toBe(ERRNO.NOTDIR);
    expect(w.path_create_directory!(3, ...str('dangling/'))).toBe(ERRNO.EXIST);
    expect([exists('a/b'), exists('moved'), exists('made'), exists('ldir'), exists('lfile')]).toEqual([true, false, false, true, true]);
    // Where the call looks through the name, the slash still follows it.
    expect(w.path_filestat_get!(3, 0, ...str('ldir/'), 512)).toBe(ERRNO.SUCCESS);
  });

  it('does not follow a symlink for O_CREAT|O_EXCL, dangling or not', async () => {
    const { w, str } = await setup();
    for (const path of ['dangling', 'lfile']) {
      expect(w.path_open!(3, 1, ...str(path), 1 | 4, ALL, ALL, 0, 64), path).toBe(ERRNO.EXIST);
    }
    expect(w.path_filestat_get!(3, 0, ...str('made'), 512)).toBe(ERRNO.NOENT);
  });

  it('refuses O_CREAT on a directory with EISDIR, and a symlink target with a NUL', async () => {
    const { w, str } = await setup();
    expect(w.path_open!(3, 0, ...str('a'), 1, ALL & ~64n, ALL, 0, 64)).toBe(ERRNO.ISDIR);
    expect(w.path_symlink!(...str('x\0y'), 3, ...str('nul-link'))).toBe(ERRNO.INVAL);
  });

  it('lets a read-only preopen change nothing: not times, and no link out of it', async () => {
    const content = new MemoryContentStore();
    const fs = new OverlayFs({ lowers: [], content });
    const f = fs.createAt(fs.root, 'f', 0o644);
    fs.mkdirAt(fs.root, 'rw', 0o755);
    const wasi = new WASI({ args: ['t'], preopens: { '/ro': { fs, readOnly: true }, '/rw': { fs, node: fs.lookup(fs.root, 'rw') } } });
    const instance = new WebAssembly.Instance(new WebAssembly.Module(MEMORY_MODULE), wasi.getImportObject());
    wasi.initialize(instance);
    const mem = new Uint8Array((instance.exports.memory as WebAssembly.Memory).buffer);
    const w = wasi.wasiImport as unknown as Record<string, (...a: (number | bigint)[]) => number>;
    const put = (at: number, s: string): [number, number] => {
      const b = new TextEncoder().encode(s);
      mem.set(b, at);
      return [at, b.length];
    };
    const before = fs.stat(f).mtimeNs;
    expect(w.path_filestat_set_times!(3, 0, ...put(1024, 'f'), 0n, 0n, 2)).toBe(ERRNO.NOTCAPABLE);
    expect(w.path_link!(3, 0, ...put(1024, 'f'), 4, ...put(2048, 'g'))).toBe(ERRNO.NOTCAPABLE);
    expect(fs.stat(f).mtimeNs).toBe(before);
  });
});
