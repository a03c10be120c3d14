import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DigestMismatchError, importLayer, LayerFormatError, MemoryContentStore, MemoryLayerStore, type ContentBatch, type Digest, type WriterOptions } from '../src/index.js';
import { DiskContentStore, DiskLayerStore, nodeSha256 } from '../src/node/index.js';
import { writeFileAtomic } from '../src/node/atomic-file.js';
import { runStoreConformance } from './suite/conformance.js';
import { makeTar, once } from './suite/tar-builder.js';

runStoreConformance('memory', async () => ({ content: new MemoryContentStore(nodeSha256), layers: new MemoryLayerStore() }));

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
runStoreConformance('disk', async () => {
  const root = mkdtempSync(join(tmpdir(), 'strata-store-'));
  dirs.push(root);
  return { content: new DiskContentStore(root), layers: new DiskLayerStore(root) };
});

describe('stored layer indexes', () => {
  it('are refused as corrupt when altered: paths out of the layer, unknown types, another layer\'s index', async () => {
    const root = mkdtempSync(join(tmpdir(), 'strata-index-'));
    dirs.push(root);
    const layers = new DiskLayerStore(root);
    const diffId = `sha256:${'a'.repeat(64)}` as const;
    const other = `sha256:${'b'.repeat(64)}` as const;
    const dir = { type: 'dir' as const, mode: 0o755, uid: 0, gid: 0, mtimeNs: 0n, size: 0 };
    await layers.put({ diffId, entries: new Map([['', dir], ['etc', dir]]) });
    const file = join(root, 'layers', `${'a'.repeat(64)}.json`);
    const good = readFileSync(file, 'utf8');
    expect((await new DiskLayerStore(root).get(diffId)).entries.has('etc')).toBe(true);
    for (const [what, text] of [
      ['a path with ..', good.replace('"etc"', '"../etc"')],
      ['an absolute path', good.replace('"etc"', '"/etc"')],
      ['an unknown type', good.replace('"dir",493', '"device",493')],
      ['a negative mode', good.replace(/,493,/g, ',-1,')],
      ['another layer', good.replace(diffId, other)],
    ] as const) {
      writeFileSync(file, text);
      await expect(new DiskLayerStore(root).get(diffId), what).rejects.toBeInstanceOf(LayerFormatError);
    }
  });
});

describe('disk store batches', () => {
  const store = () => {
    const root = mkdtempSync(join(tmpdir(), 'strata-batch-'));
    dirs.push(root);
    return { root, content: new DiskContentStore(root) };
  };
  const enc = new TextEncoder();
  const write = async (w: Awaited<ReturnType<ContentBatch['writer']>>, text: string) => {
    await w.write(enc.encode(text));
    return w.commit();
  };

  it('keeps a batch\'s blobs out of sight until the flush, then has them all', async () => {
    const { root, content } = store();
    const batch = content.batch();
    const a = await write(await batch.writer(), 'one');
    const again = await batch.writer();
    const same = await write(again, 'one');
    expect(same).toBe(a);
    expect(again.existed).toBe(true);
    const b = await write(await batch.writer(), 'two');
    expect(await content.has(a)).toBe(false);
    expect(readdirSync(join(root, 'ingest'))).toHaveLength(2);
    await batch.flush();
    expect(await content.has(a)).toBe(true);
    expect(new TextDecoder().decode(await content.get(b))).toBe('two');
    expect(readdirSync(join(root, 'ingest'))).toEqual([]);
  });

  it('leaves nothing of a discarded batch', async () => {
    const { root, content } = store();
    const batch = content.batch();
    const a = await write(await batch.writer(), 'never kept');
    await batch.discard();
    expect(await content.has(a)).toBe(false);
    expect(readdirSync(join(root, 'ingest'))).toEqual([]);
    expect(readdirSync(join(root, 'blobs', 'sha256'))).toEqual([]);
    await expect(batch.writer()).rejects.toThrow(/finished/);
  });

  it('flushes with an fsync per blob where `sync -f` is missing', async () => {
    const { content } = store();
    const batch = content.batch();
    // Enough blobs that the flush would use `sync -f`.
    const a = await write(await batch.writer(), 'fallback');
    for (let i = 0; i < 70; i++) await write(await batch.writer(), `blob ${i}`);
    const path = process.env.PATH;
    process.env.PATH = mkdtempSync(join(tmpdir(), 'strata-nopath-'));
    dirs.push(process.env.PATH);
    try {
      await batch.flush();
    } finally {
      process.env.PATH = path;
    }
    expect(new TextDecoder().decode(await content.get(a))).toBe('fallback');
  });

  it('removes what a crash left in ingest/ once it is an hour old, and nothing younger', async () => {
    const { root } = store();
    const old = join(root, 'ingest', 'left-by-a-crash');
    const live = join(root, 'ingest', 'being-written');
    writeFileSync(old, 'partial');
    writeFileSync(live, 'partial');
    const twoHoursAgo = new Date(Date.now() - 2 * 3600_000);
    utimesSync(old, twoHoursAgo, twoHoursAgo);
    // Swept before the first write (a store that only reads never lists ingest/).
    await (await new DiskContentStore(root).writer()).abort();
    expect(readdirSync(join(root, 'ingest'))).toEqual(['being-written']);
  });

  it('leaves no temporary file behind when an atomic write fails', () => {
    const { root } = store();
    const dir = join(root, 'layers');
    // A directory where the file should go: the rename fails.
    mkdirSync(join(dir, 'x.json'), { recursive: true });
    expect(() => writeFileAtomic(join(dir, 'x.json'), '{}')).toThrow();
    expect(readdirSync(dir)).toEqual(['x.json']);
  });

  it('sweeps what a dead process left in ingest/, not what a live one\'s batch holds however old', async () => {
    const { root, content: a } = store();
    const batch = a.batch();
    const w = await batch.writer();
    await w.write(enc.encode('waits in a long import'));
    const d = await w.commit();
    // Two hours untouched: the batch's file, and one a dead process left.
    const old = new Date(Date.now() - 2 * 60 * 60 * 1000);
    const [own] = readdirSync(join(root, 'ingest'));
    utimesSync(join(root, 'ingest', own!), old, old);
    const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout;
    const dead = `${gone}.0123456789ab-0`;
    writeFileSync(join(root, 'ingest', dead), 'left by a crash');
    utimesSync(join(root, 'ingest', dead), old, old);
    // Another process's store writes to the same root: it sweeps first.
    await new DiskContentStore(root).put(enc.encode('another blob'));
    expect(readdirSync(join(root, 'ingest'))).toEqual([own]);
    await batch.flush();
    expect(new TextDecoder().decode(await a.get(d))).toBe('waits in a long import');
  });

  it('imports a layer through a batch and leaves ingest/ empty, also when the layer is refused', async () => {
    const { root, content } = store();
    const layer = await importLayer(content, once(await makeTar([{ name: 'a', data: 'A' }, { name: 'b/c', data: 'C' }])), { hasher: nodeSha256 });
    for (const e of layer.entries.values()) if (e.content) expect(await content.has(e.content.digest)).toBe(true);
    await expect(importLayer(content, once(await makeTar([{ name: 'new', data: 'N' }])), { hasher: nodeSha256, expectedDiffId: `sha256:${'0'.repeat(64)}` }))
      .rejects.toBeInstanceOf(DigestMismatchError);
    expect(readdirSync(join(root, 'ingest'))).toEqual([]);
    expect(readdirSync(join(root, 'blobs', 'sha256'))).toHaveLength(2);
  });
});

describe('importing repeated contents', () => {
  /** The store, counting the blobs written to it (through batches or not). */
  function counting<T extends MemoryContentStore | DiskContentStore>(content: T): T & { written: number } {
    const c = content as T & { written: number };
    c.written = 0;
    const count = <W extends { commit(d?: Digest): Promise<Digest> }>(w: W): W => {
      const commit = w.commit.bind(w);
      w.commit = (d) => {
        c.written++;
        return commit(d);
      };
      return w;
    };
    const writer = content.writer.bind(content);
    content.writer = async (o) => count(await writer(o));
    if (content instanceof DiskContentStore) {
      const batch = content.batch.bind(content);
      content.batch = () => {
        const b = batch();
        const bw = b.writer.bind(b);
        b.writer = async (o?: WriterOptions) => count(await bw(o));
        return b;
      };
    }
    return c;
  }

  const disk = () => {
    const root = mkdtempSync(join(tmpdir(), 'strata-repeat-'));
    dirs.push(root);
    return new DiskContentStore(root);
  };

  it('writes a layer\'s repeated files once, and not the files the store holds, in memory and on disk', async () => {
    const same = 'the same license text, again and again\n'.repeat(100);
    const tar = await makeTar([
      ...Array.from({ length: 10 }, (_, i) => ({ name: `pkg${i}/LICENSE`, data: same })),
      { name: 'own', data: 'only once' },
    ]);
    for (const content of [counting(new MemoryContentStore(nodeSha256)), counting(disk())]) {
      const layer = await importLayer(content, once(tar), { hasher: nodeSha256 });
      expect(content.written).toBe(2);
      const digests = new Set([...layer.entries.values()].flatMap((e) => (e.content ? [e.content.digest] : [])));
      expect(digests.size).toBe(2);
      for (const d of digests) expect(await content.has(d)).toBe(true);
      // Imported again: the memory store holds both blobs and writes none; the disk store,
      // which tells only what this batch holds, writes each once more.
      await importLayer(content, once(tar), { hasher: nodeSha256 });
      expect(content.written).toBe(content instanceof MemoryContentStore ? 2 : 4);
    }
  });
});
