import { describe, expect, it } from 'vitest';
import {
  collectGarbage, DigestMismatchError, importLayer, LayerFormatError, NotFoundError,
  type ContentStore, type Digest, type LayerStore, webBlake3, webSha256,
} from '../../src/index.js';
import { dribble, makeTar, once } from './tar-builder.js';

export interface Stores {
  content: ContentStore;
  layers: LayerStore;
}

/** Every digest the store lists, sorted. */
export async function listAll(content: ContentStore): Promise<Digest[]> {
  const out: Digest[] = [];
  for await (const d of content.list()) out.push(d);
  return out.sort();
}

const enc = new TextEncoder();

/** gzip with the platform's CompressionStream: the suite runs in Node and in Chromium alike. */
async function gzip(bytes: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new CompressionStream('gzip'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}
const sha = (s: string): Digest => {
  const h = webSha256();
  h.update(enc.encode(s));
  return h.digest();
};

/**
 * One suite for every ContentStore + LayerStore backend (memory, disk, and IndexedDB in the
 * browser): the behaviour the rest of Strata relies on.
 */
export function runStoreConformance(name: string, make: () => Promise<Stores>): void {
  describe(`store conformance: ${name}`, () => {
    it('stores by digest, verifies before making visible, and leaves nothing on a mismatch', async () => {
      const { content } = await make();
      const d = await content.put(enc.encode('hello'));
      expect(d).toBe(sha('hello'));
      expect(await content.has(d)).toBe(true);
      expect(new TextDecoder().decode(await content.get(d))).toBe('hello');
      expect(await content.size(d)).toBe(5);
      const before = await listAll(content);
      await expect(content.put(enc.encode('other'), sha('not this'))).rejects.toBeInstanceOf(DigestMismatchError);
      expect(await listAll(content)).toEqual(before);
      await expect(content.get(sha('missing'))).rejects.toBeInstanceOf(NotFoundError);
    });

    it('keeps what was written even when the caller reuses its buffer', async () => {
      const { content } = await make();
      // A Node Buffer where there is one: its slice() is a view, not a copy.
      const NodeBuffer = (globalThis as { Buffer?: { from(s: string): Uint8Array } }).Buffer;
      const chunk = NodeBuffer ? NodeBuffer.from('first bytes') : enc.encode('first bytes');
      const w = await content.writer();
      await w.write(chunk);
      chunk.fill(0x21);
      const d = await w.commit();
      chunk.fill(0x22);
      expect(d).toBe(sha('first bytes'));
      expect(new TextDecoder().decode(await content.get(d))).toBe('first bytes');
    });

    it('stores a prehashed write under the digest its caller gives (an importer hashing elsewhere)', async () => {
      const { content } = await make();
      for (const batch of [undefined, content.batch?.()]) {
        const w = await (batch ?? content).writer({ prehashed: true });
        await w.write(enc.encode('hashed elsewhere'));
        expect(await w.commit(sha('hashed elsewhere'))).toBe(sha('hashed elsewhere'));
        await batch?.flush();
      }
      expect(new TextDecoder().decode(await content.get(sha('hashed elsewhere')))).toBe('hashed elsewhere');
    });

    it('stores a prehashed write under a digest of another algorithm than its own (files by BLAKE3)', async () => {
      const { content } = await make();
      const data = enc.encode('a file addressed by blake3');
      const d = webBlake3.once!(data);
      for (const batch of [undefined, content.batch?.()]) {
        const w = await (batch ?? content).writer({ prehashed: true });
        await w.write(data);
        expect(await w.commit(d)).toBe(d);
        await batch?.flush();
      }
      expect(await content.get(d)).toEqual(data);
      expect(await listAll(content)).toContain(d);
      await content.prepareRead?.(d);
      const buf = new Uint8Array(4);
      expect(content.reader({ digest: d, size: data.length }).readAt(buf, 2)).toBe(4);
      expect(new TextDecoder().decode(buf)).toBe('file');
      await content.delete(d);
      expect(await content.has(d)).toBe(false);
    });

    it('aborted writers leave nothing', async () => {
      const { content } = await make();
      const w = await content.writer();
      await w.write(enc.encode('partial'));
      await w.abort();
      expect(await listAll(content)).toEqual([]);
    });

    it('reads ranges synchronously through reader()', async () => {
      const { content } = await make();
      const d = await content.put(enc.encode('0123456789'));
      await content.prepareRead?.(d);
      const r = content.reader({ digest: d, size: 10 });
      const buf = new Uint8Array(4);
      expect(r.readAt(buf, 3)).toBe(4);
      expect(new TextDecoder().decode(buf)).toBe('3456');
      expect(r.readAt(buf, 10)).toBe(0);
    });

    it('imports a layer with whiteouts, opaque markers anywhere, hard links, symlinks, PAX xattrs and ns times', async () => {
      const { content, layers } = await make();
      const tar = await makeTar([
        { name: 'etc/', type: 'directory' },
        { name: 'etc/conf/.wh..wh..opq' },
        { name: 'etc/conf/', type: 'directory', mode: 0o700 },
        { name: 'etc/.wh.old' },
        { name: 'etc/passwd', data: 'root:x:0:0\n', pax: { 'SCHILY.xattr.user.origin': 'base', mtime: '1700000000.123456789' } },
        { name: 'etc/passwd-link', type: 'link', linkname: 'etc/passwd' },
        { name: 'bin/sh', type: 'symlink', linkname: '/bin/busybox' },
        { name: 'a/very/' + 'long/'.repeat(40) + 'name.txt', data: 'deep' },
      ]);
      const layer = await importLayer(content, dribble(await gzip(tar)), { hasher: webSha256 });
      expect(layer.compression).toBe('gzip');
      expect(layer.diffId).toBe((() => { const h = webSha256(); h.update(tar); return h.digest(); })());
      const e = layer.entries;
      expect(e.get('etc/conf')).toMatchObject({ type: 'dir', opaque: true, mode: 0o700 });
      expect(e.get('etc/old')).toMatchObject({ type: 'whiteout' });
      expect(e.get('etc/passwd')?.mtimeNs).toBe(1_700_000_000_123_456_789n);
      expect(new TextDecoder().decode(e.get('etc/passwd')?.xattrs?.['user.origin'])).toBe('base');
      expect(e.get('etc/passwd-link')?.linkGroup).toBe(e.get('etc/passwd')?.linkGroup);
      expect(e.get('etc/passwd-link')?.linkGroup).toBeDefined();
      expect(e.get('bin')).toMatchObject({ type: 'dir', implicit: true });
      expect(e.get('bin/sh')).toMatchObject({ type: 'symlink', target: '/bin/busybox' });
      expect(e.get('a/very/' + 'long/'.repeat(40) + 'name.txt')?.size).toBe(4);
      await layers.put(layer);
      const again = await layers.get(layer.diffId);
      expect(again.entries.get('etc/passwd')?.mtimeNs).toBe(1_700_000_000_123_456_789n);
      expect(again.entries.get('etc/passwd')?.content).toEqual(e.get('etc/passwd')?.content);
      expect(await layers.list()).toEqual([layer.diffId]);
    });

    it('keeps a hard link to a file the tar replaces later with the old file, apart from links to the new one', async () => {
      const { content } = await make();
      // b is a link to the first a; the second a is another file, and c links to that one.
      const tar = await makeTar([
        { name: 'a', data: 'old contents' },
        { name: 'b', type: 'link', linkname: 'a' },
        { name: 'a', data: 'new contents' },
        { name: 'c', type: 'link', linkname: 'a' },
      ]);
      const e = (await importLayer(content, once(tar))).entries;
      const text = async (p: string) => new TextDecoder().decode(await content.get(e.get(p)!.content!.digest));
      expect([await text('a'), await text('b'), await text('c')]).toEqual(['new contents', 'old contents', 'new contents']);
      expect(e.get('c')?.linkGroup).toBe(e.get('a')?.linkGroup);
      expect(e.get('b')?.linkGroup).not.toBe(e.get('a')?.linkGroup);
    });

    it('keeps what a failed import stored while another import in flight uses it, and drops it when that one fails too', async () => {
      const { content } = await make();
      const shared = 'contents both layers have';
      const one = await makeTar([{ name: 'one/shared', data: shared }, { name: 'one/own', data: 'only in layer one' }]);
      const two = await makeTar([{ name: 'two/shared', data: shared }]);
      const before = await listAll(content);
      for (const second of ['succeeds', 'fails'] as const) {
        // Layer one is stored whole, then waits, then fails (a diffID that does not match,
        // as a download cut short does); layer two imports the same file meanwhile.
        let stored!: () => void;
        let release!: () => void;
        const allStored = new Promise<void>((resolve) => (stored = resolve));
        const gate = new Promise<void>((resolve) => (release = resolve));
        const first = importLayer(content, (async function* () {
          yield one;
          stored(); // asked for more: every entry of `one` is stored
          await gate;
        })(), { expectedDiffId: sha('not this layer') });
        first.catch(() => {});
        await allStored;
        const other = importLayer(content, once(two), second === 'fails' ? { expectedDiffId: sha('nor this one') } : {});
        if (second === 'succeeds') {
          const layer = await other;
          release();
          await expect(first).rejects.toBeInstanceOf(DigestMismatchError);
          const ref = layer.entries.get('two/shared')!.content!;
          expect(new TextDecoder().decode(await content.get(ref.digest))).toBe(shared);
          expect(await listAll(content)).toEqual([...before, ref.digest].sort());
          await content.delete(ref.digest);
        } else {
          await expect(other).rejects.toBeInstanceOf(DigestMismatchError);
          release();
          await expect(first).rejects.toBeInstanceOf(DigestMismatchError);
          expect(await listAll(content)).toEqual(before);
        }
      }
    });

    it('stores a file shared by two layers once', async () => {
      const { content } = await make();
      await importLayer(content, once(await makeTar([{ name: 'a', data: 'same bytes' }])));
      await importLayer(content, once(await makeTar([{ name: 'b/c', data: 'same bytes' }, { name: 'd', data: 'other' }])));
      expect((await listAll(content)).length).toBe(2);
    });

    it('accepts a tar without the end-of-archive marker, refuses one cut inside a file', async () => {
      const { content } = await make();
      const tar = await makeTar([{ name: 'f', data: 'x'.repeat(1000) }]);
      const layer = await importLayer(content, once(tar.subarray(0, tar.length - 1024)));
      expect(layer.entries.get('f')?.size).toBe(1000);
      const before = await listAll(content);
      await expect(importLayer(content, once(tar.subarray(0, 700)))).rejects.toBeInstanceOf(LayerFormatError);
      expect(await listAll(content)).toEqual(before);
    });

    const hostile: [string, () => Promise<Uint8Array>][] = [
      ['../ escape', () => makeTar([{ name: 'ok', data: 'fine' }, { name: '../evil', data: 'x' }])],
      ['absolute path', () => makeTar([{ name: 'ok2', data: 'fine2' }, { name: '/etc/evil', data: 'x' }])],
      ['whiteout escaping its directory', () => makeTar([{ name: 'ok3', data: 'fine3' }, { name: 'a/.wh..', data: '' }])],
      ['hard link escaping', () => makeTar([{ name: 'ok4', data: 'fine4' }, { name: 'l', type: 'link', linkname: '../../etc/shadow' }])],
      ['corrupt header', async () => { const t = await makeTar([{ name: 'ok5', data: 'fine5' }, { name: 'zz', data: 'y' }]); t[1024 + 10] ^= 0xff; return t; }],
      ['corrupt gzip', async () => { const g = await gzip(await makeTar([{ name: 'ok6', data: 'fine6'.repeat(100) }])); g[g.length - 20] ^= 0xff; g[30] ^= 0xff; return g; }],
    ];
    for (const [what, build] of hostile) {
      it(`refuses a hostile layer (${what}) and leaves the store as it was`, async () => {
        const { content, layers } = await make();
        await content.put(enc.encode('pre-existing'));
        const before = await listAll(content);
        await expect(importLayer(content, once(await build()))).rejects.toBeInstanceOf(LayerFormatError);
        expect(await listAll(content)).toEqual(before);
        expect(await layers.list()).toEqual([]);
      });
    }

    it('refuses a layer whose diffID or digest does not match, leaving the store as it was', async () => {
      const { content } = await make();
      const tar = await makeTar([{ name: 'f', data: 'contents' }]);
      await expect(importLayer(content, once(tar), { expectedDiffId: sha('nope') })).rejects.toBeInstanceOf(DigestMismatchError);
      await expect(importLayer(content, once(tar), { expectedDigest: sha('nope') })).rejects.toBeInstanceOf(DigestMismatchError);
      expect(await listAll(content)).toEqual([]);
    });

    it('collects layers and blobs that nothing uses', async () => {
      const { content, layers } = await make();
      const a = await importLayer(content, once(await makeTar([{ name: 'shared', data: 'S' }, { name: 'only-a', data: 'A' }])));
      const b = await importLayer(content, once(await makeTar([{ name: 'shared', data: 'S' }, { name: 'only-b', data: 'B' }])));
      await layers.put(a);
      await layers.put(b);
      const removed = await collectGarbage(content, layers, [b.diffId]);
      expect(removed.layers).toEqual([a.diffId]);
      expect(removed.blobs).toEqual([sha('A')]);
      expect(await content.has(sha('S'))).toBe(true);
    });

    it('keeps 200 layers and loads them back', async () => {
      const { content, layers } = await make();
      const ids: Digest[] = [];
      for (let i = 0; i < 200; i++) {
        const l = await importLayer(content, once(await makeTar([{ name: `l/${i}`, data: String(i) }])));
        await layers.put(l);
        ids.push(l.diffId);
      }
      expect((await layers.list()).length).toBe(200);
      expect((await layers.get(ids[199]!)).entries.get('l/199')?.size).toBe(3);
    });
  });
}
