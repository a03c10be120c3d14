import { importLayer, MemoryContentStore, type LayerIndex } from '@strata/store';
import { nodeSha256 } from '@strata/store/node';
import { FsError, type SyncFs } from '@strata/syncfs';
import { describe, expect, it } from 'vitest';
import { CHUNK_SIZE, commitTar, OverlayFs } from '../src/index.js';
import { dirLayer, TestContent, type DirLayerSpec } from './catalog/layers.js';
import { readAll } from './catalog/ops.js';
import { nodeAt, resolve } from './catalog/paths.js';

const enc = new TextEncoder();
const dec = new TextDecoder();

function setup(...specs: DirLayerSpec[]): { fs: OverlayFs; content: TestContent; lowers: LayerIndex[] } {
  const content = new TestContent();
  const lowers = specs.map((s, i) => dirLayer(s, content, i + 1));
  return { fs: new OverlayFs({ lowers, content }), content, lowers };
}

function read(fs: SyncFs, path: string): string {
  const h = fs.open(nodeAt(fs, path), { read: true, write: false });
  try {
    return dec.decode(readAll(h));
  } finally {
    h.close();
  }
}

function write(fs: SyncFs, path: string, text: string, position = 0): void {
  const h = fs.open(nodeAt(fs, path), { read: false, write: true });
  h.write(enc.encode(text), position);
  h.close();
}

function code(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof FsError) return e.code;
    throw e;
  }
  return 'ok';
}

describe('OverlayFs', () => {
  it('copies up one chunk, not the file, on the first small write into a big lower file', () => {
    const size = 8 * CHUNK_SIZE + 123;
    const { fs } = setup({ '/big': { size, fill: 'abcdefgh' } });
    const node = nodeAt(fs, '/big');
    const h = fs.open(node, { read: true, write: true });
    h.write(enc.encode('Z'), 3 * CHUNK_SIZE + 5);
    const data = fs.dataOf(fs.node(node));
    expect(data.ownedChunkCount).toBe(1);
    expect(data.ownedBytes).toBeLessThanOrEqual(CHUNK_SIZE);
    const buf = new Uint8Array(10);
    h.read(buf, 3 * CHUNK_SIZE);
    expect(dec.decode(buf)).toBe('abcdeZgh' + 'ab');
    expect(h.stat().size).toBe(size);
    // The rest still reads through to the lower blob.
    const tail = new Uint8Array(4);
    expect(h.read(tail, size - 4)).toBe(4);
    h.close();
  });

  it('does not copy up a file opened for writing but never written', () => {
    const { fs } = setup({ '/etc/motd': 'hi' });
    const h = fs.open(nodeAt(fs, '/etc/motd'), { read: true, write: true });
    h.close();
    expect(fs.diff()).toEqual([]);
  });

  it('keeps inode numbers across copy-up and rename', () => {
    const { fs } = setup({ '/d/f': 'x', '/d/sub/g': 'y' });
    const f = nodeAt(fs, '/d/f');
    const d = nodeAt(fs, '/d');
    write(fs, '/d/f', 'changed');
    expect(nodeAt(fs, '/d/f')).toBe(f);
    fs.renameAt(fs.root, 'd', fs.root, 'e');
    expect(nodeAt(fs, '/e')).toBe(d);
    expect(nodeAt(fs, '/e/f')).toBe(f);
    expect(read(fs, '/e/sub/g')).toBe('y');
    expect(code(() => nodeAt(fs, '/d'))).toBe('ENOENT');
    expect(fs.diff().map((c) => `${c.kind} ${c.path}`).sort()).toEqual(['A /e', 'A /e/f', 'A /e/sub', 'A /e/sub/g', 'D /d']);
  });

  it('gives unique inode numbers across layers and to new nodes', () => {
    const { fs } = setup({ '/a': '1', '/b': '2' }, { '/c': '3', '/a': 'top' });
    const ids = ['/a', '/b', '/c'].map((p) => nodeAt(fs, p));
    const n = fs.createAt(fs.root, 'n', 0o644);
    expect(new Set([...ids, n, fs.root]).size).toBe(5);
  });

  it('keeps a lower hard link one inode after copy-up (index=on)', () => {
    const { fs } = setup({ '/h/a': 'orig', '/h/b': { type: 'hardlink', target: 'h/a' } });
    const h = fs.open(nodeAt(fs, '/h/a'), { read: false, write: true });
    h.append(enc.encode('+'));
    h.close();
    expect(read(fs, '/h/b')).toBe('orig+');
    expect(nodeAt(fs, '/h/a')).toBe(nodeAt(fs, '/h/b'));
    expect(fs.stat(nodeAt(fs, '/h/b')).nlink).toBe(2);
  });

  it('lists a merged directory in a stable order that copy-up does not change', () => {
    const { fs } = setup({ '/d/a': '1', '/d/b': '2' }, { '/d/c': '3' });
    const d = nodeAt(fs, '/d');
    const before = fs.readdir(d).map((e) => e.name);
    write(fs, '/d/a', 'new');
    expect(fs.readdir(d).map((e) => e.name)).toEqual(before);
    fs.createAt(d, 'z', 0o644);
    expect(fs.readdir(d).map((e) => e.name)).toEqual([...before, 'z']);
  });

  it('keeps an unlinked open file readable and writable until closed', () => {
    const { fs } = setup({ '/f': 'lower-data' });
    const node = nodeAt(fs, '/f');
    const h = fs.open(node, { read: true, write: true });
    fs.unlinkAt(fs.root, 'f');
    expect(code(() => nodeAt(fs, '/f'))).toBe('ENOENT');
    h.write(enc.encode('L'), 0);
    expect(dec.decode(readAll(h))).toBe('Lower-data');
    expect(h.stat().nlink).toBe(0);
    h.close();
    expect(fs.diff()).toEqual([{ kind: 'D', path: '/f' }]);
  });

  it('reuses a removed file\'s memory only once nothing can read it, and zeroed', () => {
    const { fs } = setup({ '/keep': 'k' });
    const full = new Uint8Array(8 * CHUNK_SIZE).fill(0xaa);
    const writeNew = (name: string, bytes: Uint8Array, position = 0) => {
      const h = fs.open(fs.createAt(fs.root, name, 0o644), { read: true, write: true });
      h.write(bytes, position);
      return h;
    };
    // Unlinked while open: its chunks must survive other files' writes until the close.
    const open = writeNew('open', full);
    fs.unlinkAt(fs.root, 'open');
    writeNew('gone', full).close();
    fs.unlinkAt(fs.root, 'gone'); // its 8 chunks go back to the allocator
    const other = writeNew('other', new Uint8Array(8 * CHUNK_SIZE).fill(0x55));
    const kept = readAll(open);
    expect(kept.length).toBe(full.length);
    expect(kept.every((b) => b === 0xaa)).toBe(true);
    open.close();
    other.close();
    // A sparse file written after both removals: the holes inside its chunks read as zeros.
    // (A byte this far into a chunk takes a full chunk, which is what gets reused.)
    fs.unlinkAt(fs.root, 'other');
    const sparse = writeNew('sparse', new Uint8Array([1]), 3 * CHUNK_SIZE + 40_000);
    const bytes = readAll(sparse);
    sparse.close();
    expect(bytes.length).toBe(3 * CHUNK_SIZE + 40_001);
    expect(bytes.subarray(0, -1).every((b) => b === 0)).toBe(true);
    expect(bytes[bytes.length - 1]).toBe(1);
    // Truncated away and extended again: zeros, not the old bytes.
    const t = writeNew('t', full);
    t.setAttr({ size: 10 });
    t.write(new Uint8Array([7]), 2 * CHUNK_SIZE + 40_000);
    const back = readAll(t);
    t.close();
    expect(back.subarray(10, -1).every((b) => b === 0)).toBe(true);
    // Small chunks too: a small file's chunk, reused, starts zeroed.
    writeNew('small', new Uint8Array(200).fill(0xcc)).close();
    fs.unlinkAt(fs.root, 'small');
    const next = writeNew('next', new Uint8Array([9]), 100);
    const head = readAll(next);
    next.close();
    expect([...head.subarray(0, 100)].every((b) => b === 0)).toBe(true);
  });

  it('makes a directory created over a whiteout opaque', () => {
    const { fs } = setup({ '/etc/conf.d/a': 'a' });
    const etc = nodeAt(fs, '/etc');
    fs.unlinkAt(nodeAt(fs, '/etc/conf.d'), 'a');
    fs.rmdirAt(etc, 'conf.d');
    const c = fs.mkdirAt(etc, 'conf.d', 0o755);
    expect(fs.readdir(c)).toEqual([]);
  });

  it('answers rename errors as rename(2) does', () => {
    const { fs } = setup({ '/dir1/f': 'f', '/file': 'x', '/empty': { type: 'dir' } });
    const r = fs.root;
    expect(code(() => fs.renameAt(r, 'file', r, 'dir1'))).toBe('EISDIR');
    expect(code(() => fs.renameAt(r, 'empty', r, 'file'))).toBe('ENOTDIR');
    expect(code(() => fs.renameAt(r, 'empty', r, 'dir1'))).toBe('ENOTEMPTY');
    expect(code(() => fs.renameAt(r, 'dir1', nodeAt(fs, '/dir1'), 'x'))).toBe('EINVAL');
    expect(code(() => fs.renameAt(r, 'file', r, 'empty', { noReplace: true }))).toBe('EEXIST');
    fs.renameAt(r, 'file', r, 'empty2');
    fs.renameAt(r, 'empty2', r, 'empty', { exchange: true });
    expect(fs.stat(nodeAt(fs, '/empty')).type).toBe('file');
    expect(fs.stat(nodeAt(fs, '/empty2')).type).toBe('dir');
  });

  it('survives saving and restoring the upper', () => {
    const { fs, content, lowers } = setup({ '/etc/motd': 'hello', '/etc/gone': 'x', '/big': { size: 3 * CHUNK_SIZE, fill: 'q' } });
    write(fs, '/etc/motd', 'J');
    fs.unlinkAt(nodeAt(fs, '/etc'), 'gone');
    const d = fs.mkdirAt(fs.root, 'new', 0o700);
    fs.symlinkAt(d, 'link', '/etc/motd');
    write(fs, '/big', 'Z', CHUNK_SIZE + 1);
    fs.setXattr(nodeAt(fs, '/etc/motd'), 'user.k', enc.encode('v'));
    const again = OverlayFs.restore({ lowers, content }, fs.saveUpper());
    expect(read(again, '/etc/motd')).toBe('Jello');
    expect(code(() => nodeAt(again, '/etc/gone'))).toBe('ENOENT');
    expect(again.readlink(nodeAt(again, '/new/link', false))).toBe('/etc/motd');
    expect(again.stat(nodeAt(again, '/new')).mode).toBe(0o700);
    expect(read(again, '/big').slice(CHUNK_SIZE, CHUNK_SIZE + 3)).toBe('qZq');
    expect(dec.decode(again.getXattr(nodeAt(again, '/etc/motd'), 'user.k'))).toBe('v');
    expect(nodeAt(again, '/etc/motd')).toBe(nodeAt(fs, '/etc/motd'));
    expect(again.diff()).toEqual(fs.diff());
    expect(code(() => OverlayFs.restore({ lowers, content }, new Uint8Array(8)))).toBe('EINVAL');
  });

  it('looks up through 500 layers and finds each layer\'s file', () => {
    const specs: DirLayerSpec[] = [];
    for (let i = 0; i < 500; i++) specs.push({ [`/l/${i}`]: String(i), '/shared': `top ${i}` });
    const { fs } = setup(...specs);
    expect(fs.readdir(nodeAt(fs, '/l')).length).toBe(500);
    expect(read(fs, '/l/0')).toBe('0');
    expect(read(fs, '/l/499')).toBe('499');
    expect(read(fs, '/shared')).toBe('top 499');
  });

  it('refuses changes on a read-only mount', () => {
    const content = new TestContent();
    const fs = new OverlayFs({ lowers: [dirLayer({ '/f': 'x' }, content, 1)], content, readOnly: true });
    expect(code(() => fs.createAt(fs.root, 'n', 0o644))).toBe('EROFS');
    expect(code(() => fs.open(nodeAt(fs, '/f'), { read: true, write: true }))).toBe('EROFS');
    expect(read(fs, '/f')).toBe('x');
  });

  it('resolves paths through symlinks in the test resolver as chroot would', () => {
    const { fs } = setup({ '/a/b': { type: 'symlink', target: '../../../../etc' }, '/etc/x': 'x' });
    expect(read(fs, '/a/b/x')).toBe('x');
    expect(resolve(fs, '/a/b', false).name).toBe('b');
  });
});

describe('lower hard links, when a name goes', () => {
  /** The upper saved and restored, and committed and applied over the same lowers: what each reads at `path`. */
  async function persisted(fs: OverlayFs, lowers: LayerIndex[], content: TestContent, path: string) {
    const restored = OverlayFs.restore({ lowers, content }, fs.saveUpper());
    const chunks: Uint8Array[] = [];
    for await (const c of commitTar(fs)) chunks.push(c);
    const store = new MemoryContentStore(nodeSha256);
    content.fallback = store;
    const layer = await importLayer(store, (async function* () { yield* chunks; })(), { hasher: nodeSha256 });
    const committed = new OverlayFs({ lowers: [...lowers, layer], content });
    const at = (f: OverlayFs) => ({ text: read(f, path), nlink: f.stat(nodeAt(f, path)).nlink });
    return { live: at(fs), restored: at(restored), committed: at(committed) };
  }
  const linked = { '/x/a': 'original', '/y/b': { type: 'hardlink' as const, target: '/x/a' } };

  it('keeps a change made through an open file after its other name is unlinked', async () => {
    const { fs, content, lowers } = setup(linked);
    const h = fs.open(nodeAt(fs, '/x/a'), { read: true, write: true });
    fs.unlinkAt(nodeAt(fs, '/y'), 'b');
    h.write(enc.encode('CHANGED!'), 0);
    h.close();
    const all = await persisted(fs, lowers, content, '/x/a');
    expect(all).toEqual({ live: { text: 'CHANGED!', nlink: 1 }, restored: { text: 'CHANGED!', nlink: 1 }, committed: { text: 'CHANGED!', nlink: 1 } });
  });

  it('keeps a change through the remaining name after the changed one is unlinked or renamed over', async () => {
    for (const how of ['unlink', 'rename'] as const) {
      const { fs, content, lowers } = setup({ '/h/a': 'original', '/h/b': { type: 'hardlink', target: '/h/a' } });
      write(fs, '/h/a', 'CHANGED!');
      const h = nodeAt(fs, '/h');
      if (how === 'unlink') fs.unlinkAt(h, 'a');
      else {
        fs.createAt(h, 'new', 0o644);
        fs.renameAt(h, 'new', h, 'a');
      }
      const all = await persisted(fs, lowers, content, '/h/b');
      expect(all, how).toEqual({ live: { text: 'CHANGED!', nlink: 1 }, restored: { text: 'CHANGED!', nlink: 1 }, committed: { text: 'CHANGED!', nlink: 1 } });
    }
  });

  it('keeps the link count an unlink left, with no write at all', () => {
    const { fs, content, lowers } = setup(linked);
    fs.unlinkAt(nodeAt(fs, '/y'), 'b');
    const restored = OverlayFs.restore({ lowers, content }, fs.saveUpper());
    expect([fs.stat(nodeAt(fs, '/x/a')).nlink, restored.stat(nodeAt(restored, '/x/a')).nlink]).toEqual([1, 1]);
  });
});

describe('file sizes at the edges', () => {
  it('reads zeros past a truncate at offsets beyond 256 TiB, and keeps what is written there', () => {
    const { fs, content, lowers } = setup({ '/f': '' });
    const h = fs.open(nodeAt(fs, '/f'), { read: true, write: true });
    const far = 2 ** 48 + 3 * CHUNK_SIZE;
    h.write(enc.encode('XYZ'), far);
    const restored = OverlayFs.restore({ lowers, content }, fs.saveUpper());
    const back = new Uint8Array(3);
    const r = restored.open(nodeAt(restored, '/f'), { read: true, write: false });
    r.read(back, far);
    r.close();
    expect(dec.decode(back)).toBe('XYZ');
    h.setAttr({ size: 0 });
    h.setAttr({ size: far + 3 });
    const zeros = new Uint8Array(3).fill(7);
    h.read(zeros, far);
    expect([...zeros]).toEqual([0, 0, 0]);
    h.close();
  });

  it('refuses an append past the largest exact size, as a write there', () => {
    const { fs } = setup({ '/f': 'x' });
    const h = fs.open(nodeAt(fs, '/f'), { read: true, write: true });
    h.setAttr({ size: Number.MAX_SAFE_INTEGER - 1 });
    expect(code(() => h.append(enc.encode('abcd')))).toBe('EFBIG');
    h.close();
  });

  it('lists a lower file cut by a truncate and grown back to its size and time in the diff', () => {
    const { fs } = setup({ '/f': 'abcdefghijklmnopqrstuvwxyz' });
    const n = nodeAt(fs, '/f');
    const mtimeNs = fs.stat(n).mtimeNs;
    fs.setAttr(n, { size: 0 });
    fs.setAttr(n, { size: 26, mtimeNs });
    expect(fs.diff()).toEqual([{ kind: 'C', path: '/f' }]);
  });
});

describe('a saved upper', () => {
  it('is refused over lowers other than the ones it was saved over', () => {
    const { fs, content, lowers } = setup({ '/opt/x': 'x' });
    fs.createAt(fs.root, 'new', 0o644);
    const saved = fs.saveUpper();
    const other = dirLayer({ '/opt/tool': 'tool' }, content, 9);
    expect(code(() => OverlayFs.restore({ lowers: [...lowers, other], content }, saved))).toBe('EINVAL');
    expect(code(() => OverlayFs.restore({ lowers, content }, saved))).toBe('ok');
  });
});
