import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { createBLAKE3 } from 'hash-wasm';
import { afterAll, describe, expect, it } from 'vitest';
import { importLayer, LayerFormatError, MemoryContentStore, type ContentStore, type Digest, type ImportedLayer, type LayerSource } from '../src/index.js';
import { DiskContentStore, layerFile, nodeFileHasher, nodeHashOffload, nodeSha256, SMALL_FILE } from '../src/node/index.js';
import { WorkerHashOffload } from '../src/node/hash-worker.js';
import { listAll } from './suite/conformance.js';
import { seededBytes as bytes } from './suite/seeded-bytes.js';
import { dribble, makeTar, type TarItem } from './suite/tar-builder.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'strata-file-hasher-'));
  dirs.push(d);
  return d;
}


/** BLAKE3 from another implementation (hash-wasm's WebAssembly build of the reference C). */
const reference = await createBLAKE3();
function blake3(data: Uint8Array): Digest {
  reference.init();
  reference.update(data);
  return `blake3:${reference.digest('hex')}`;
}

/** The digest a blob must have, by its own algorithm. */
function digestOf(algorithm: string, data: Uint8Array): string {
  return algorithm === 'blake3' ? blake3(data) : `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

async function everyBlobMatchesItsDigest(content: ContentStore): Promise<void> {
  for (const d of await listAll(content)) expect(digestOf(d.slice(0, 6), await content.get(d))).toBe(d);
}

/**
 * ~17 MiB over many 1 MiB chunks: files from 16 KiB (adopted by a memory store) down to a few
 * bytes (copied), files that straddle chunks, one larger than the worker's ring, a hard link.
 */
const items: TarItem[] = [
  { name: 'big', data: bytes(9 * 2 ** 20 + 77, 1) },
  ...Array.from({ length: 120 }, (_, i) => ({ name: `d/f${i}`, data: bytes(16 * 1024 + ((i * 7919) % 70_000), i + 10) })),
  ...Array.from({ length: 40 }, (_, i) => ({ name: `s/f${i}`, data: bytes(i * 300 + 1, i + 400) })),
  { name: 'd/link', type: 'link', linkname: 'd/f3' },
];
const layer = await makeTar(items);
const diffId = `sha256:${createHash('sha256').update(layer).digest('hex')}`;

function summary(l: ImportedLayer) {
  return { diffId: l.diffId, size: l.size, entries: [...l.entries].sort(([a], [b]) => a.localeCompare(b)) };
}

/** The layer as a file, with bytes before and after it (a layer inside a docker save tar). */
function layerInFile(prefix = 0, suffix = 0): { path: string; start: number; length: number } {
  const path = join(tempDir(), 'layer.bin');
  const out = new Uint8Array(prefix + layer.length + suffix).fill(0x5a);
  out.set(layer, prefix);
  writeFileSync(path, out);
  return { path, start: prefix, length: layer.length };
}

/** A LayerSource that records what it handed out and what came back. */
function recording(inner: LayerSource, onReturn?: (done: Uint8Array) => void): LayerSource & { given: Uint8Array[]; returned: Uint8Array[] } {
  const s = {
    given: [] as Uint8Array[],
    returned: [] as Uint8Array[],
    async nextChunk(done?: Uint8Array) {
      if (done) {
        s.returned.push(done);
        onReturn?.(done);
      }
      const c = await inner.nextChunk(done);
      if (c) s.given.push(c);
      return c;
    },
    close: () => inner.close?.() ?? Promise.resolve(),
  };
  return s;
}

describe('nodeFileHasher', () => {
  it('is BLAKE3 from 4 KiB, as another implementation computes it, and sha256 below, whole and in pieces', () => {
    expect(nodeFileHasher.algorithm).toBe('blake3');
    expect(SMALL_FILE).toBe(4096);
    for (const size of [0, 1, 1023, 4095, 4096, 4097, 65_537, 3 * 2 ** 20 + 5]) {
      const data = bytes(size, size + 1);
      const expected = digestOf(size < SMALL_FILE ? 'sha256' : 'blake3', data);
      expect(nodeFileHasher.once!(data)).toBe(expected);
      // In pieces that cross the small-file size, each piece's buffer overwritten after it
      // was handed over (a caller may reuse it).
      const step = size > 100_000 ? 100_003 : 1000;
      const h = nodeFileHasher();
      for (let at = 0; at < size; at += step) {
        const piece = data.slice(at, at + step);
        h.update(piece);
        piece.fill(0xee);
      }
      expect(h.digest(), `size ${size}`).toBe(expected);
    }
  });
});

describe('importing with BLAKE3 file addresses', () => {
  it('gives every file of 4 KiB and more a blake3 address and the layer its sha256 diffID, on the worker, on one thread and when the worker cannot start', async () => {
    const noWorker = new WorkerHashOffload(() => {
      throw new Error('no threads left');
    });
    const results: ImportedLayer[] = [];
    for (const offload of [undefined, nodeHashOffload(), noWorker]) {
      const content = new MemoryContentStore(nodeSha256);
      const l = await importLayer(content, dribble(layer, 65_536), { hasher: nodeSha256, fileHasher: nodeFileHasher, offload });
      expect(l.diffId).toBe(diffId);
      for (const [name, e] of l.entries) {
        if (e.type === 'file' && e.size > 0) expect(e.content?.digest, name).toMatch(e.size < SMALL_FILE ? /^sha256:[0-9a-f]{64}$/ : /^blake3:[0-9a-f]{64}$/);
      }
      await everyBlobMatchesItsDigest(content);
      results.push(l);
    }
    expect(summary(results[1]!)).toEqual(summary(results[0]!));
    expect(summary(results[2]!)).toEqual(summary(results[0]!));
    expect(results[0]!.entries.get('d/link')?.content).toEqual(results[0]!.entries.get('d/f3')?.content);
  });

  it('keeps blake3 blobs beside sha256 ones on disk: stored, listed, found again and deleted', async () => {
    const root = tempDir();
    const content = new DiskContentStore(root);
    const l = await importLayer(content, dribble(layer, 65_536), { hasher: nodeSha256, fileHasher: nodeFileHasher, offload: nodeHashOffload() });
    const oci = await content.put(new TextEncoder().encode('{"a manifest":true}'));
    const files = new Set([...l.entries.values()].flatMap((e) => (e.content ? [e.content.digest] : [])));
    const hexes = (algorithm: string) => [...files].filter((d) => d.startsWith(algorithm)).map((d) => d.slice(7)).sort();
    expect(hexes('blake3').length).toBeGreaterThan(100);
    expect(hexes('sha256').length).toBeGreaterThan(5);
    expect(readdirSync(join(root, 'blobs', 'blake3')).sort()).toEqual(hexes('blake3'));
    expect(readdirSync(join(root, 'blobs', 'sha256')).sort()).toEqual([...hexes('sha256'), oci.slice(7)].sort());
    const again = new DiskContentStore(root);
    expect(new Set(await listAll(again))).toEqual(new Set([...files, oci]));
    await everyBlobMatchesItsDigest(again);
    const big = l.entries.get('big')!.content!;
    const buf = new Uint8Array(10);
    expect(again.reader(big).readAt(buf, 5)).toBe(10);
    expect(buf).toEqual((items[0]!.data as Uint8Array).subarray(5, 15));
    await again.delete(big.digest);
    expect(await again.has(big.digest)).toBe(false);
    expect(existsSync(join(root, 'blobs', 'blake3', big.digest.slice(7)))).toBe(false);
  });
});

describe('layerFile', () => {
  it('imports a layer from a range of a file as from a stream, into memory and onto disk', async () => {
    const streamed = await importLayer(new MemoryContentStore(nodeSha256), dribble(layer, 65_536), { hasher: nodeSha256, fileHasher: nodeFileHasher });
    const { path, start, length } = layerInFile(1234, 999);
    for (const content of [new MemoryContentStore(nodeSha256), new DiskContentStore(tempDir())]) {
      for (const offload of [undefined, nodeHashOffload()]) {
        const l = await importLayer(content, layerFile(path, { start, length }), { hasher: nodeSha256, fileHasher: nodeFileHasher, offload });
        expect(summary(l)).toEqual(summary(streamed));
        await everyBlobMatchesItsDigest(content);
      }
    }
  });

  it('lets a memory store keep large files in the chunks they were read into, and never reads into a kept chunk again', async () => {
    const { path } = layerInFile();
    const content = new MemoryContentStore(nodeSha256);
    // Each chunk handed back, and each adoption, in order.
    const events: ['returned' | 'kept', ArrayBufferLike][] = [];
    const source = recording(layerFile(path), (done) => events.push(['returned', done.buffer]));
    const writer = content.writer.bind(content);
    content.writer = async (options) => {
      const w = await writer(options);
      const adopt = w.adopt!.bind(w);
      w.adopt = (chunk) => {
        events.push(['kept', chunk.buffer]);
        return adopt(chunk);
      };
      return w;
    };
    const l = await importLayer(content, source, { hasher: nodeSha256, fileHasher: nodeFileHasher, offload: nodeHashOffload() });
    const chunks = new Set(source.given.map((c) => c.buffer));
    const large = await content.get(l.entries.get('d/f0')!.content!.digest);
    const small = await content.get(l.entries.get('s/f5')!.content!.digest);
    // Kept as read (a view of a chunk), where a copy would have a buffer of its own.
    expect(chunks.has(large.buffer)).toBe(true);
    expect(chunks.has(small.buffer)).toBe(false);
    // Chunks in which no file was kept went back to be read into again (and files of what
    // was read into them next may be kept); a chunk that holds a kept file never did.
    expect(events.filter(([e]) => e === 'returned').length).toBeGreaterThan(0);
    const kept = new Set<ArrayBufferLike>();
    for (const [event, buffer] of events) {
      if (event === 'kept') kept.add(buffer);
      else expect(kept.has(buffer)).toBe(false);
    }
    expect(summary(l)).toEqual(summary(await importLayer(new MemoryContentStore(nodeSha256), dribble(layer, 65_536), { hasher: nodeSha256, fileHasher: nodeFileHasher })));
    await everyBlobMatchesItsDigest(content);
  });

  it('reads into the same chunks again for a disk store, and what it stores is intact', async () => {
    const { path } = layerInFile();
    const content = new DiskContentStore(tempDir());
    const source = recording(layerFile(path));
    await importLayer(content, source, { hasher: nodeSha256, fileHasher: nodeFileHasher, offload: nodeHashOffload() });
    expect(source.given.length).toBeGreaterThan(15);
    // Two buffers at most: every chunk after the first is read into the one before.
    expect(new Set(source.given.map((c) => c.buffer)).size).toBeLessThanOrEqual(2);
    await everyBlobMatchesItsDigest(content);
  });

  it('imports a gzip layer from a file, its chunks never read into again while the decoder may hold them', async () => {
    const path = join(tempDir(), 'layer.tar.gz');
    const gz = gzipSync(layer, { level: 1 });
    writeFileSync(path, gz);
    const content = new DiskContentStore(tempDir());
    const source = recording(layerFile(path));
    const l = await importLayer(content, source, { hasher: nodeSha256, fileHasher: nodeFileHasher, offload: nodeHashOffload() });
    expect(l.diffId).toBe(diffId);
    expect(l.digest).toBe(`sha256:${createHash('sha256').update(gz).digest('hex')}`);
    expect(source.returned).toEqual([]);
    await everyBlobMatchesItsDigest(content);
  });

  it('closes its file when the import fails, and leaves the store as it was', async () => {
    const path = join(tempDir(), 'cut.tar');
    writeFileSync(path, layer.subarray(0, 5 * 2 ** 20 + 300));
    const content = new DiskContentStore(tempDir());
    const fds = () => readdirSync('/proc/self/fd').length;
    const before = fds();
    await expect(importLayer(content, layerFile(path), { hasher: nodeSha256, fileHasher: nodeFileHasher, offload: nodeHashOffload() }))
      .rejects.toBeInstanceOf(LayerFormatError);
    expect(fds()).toBe(before);
    expect(await listAll(content)).toEqual([]);
  });
});

describe('layerFile against a stream, on random layers', () => {
  /** A layer with files around the chunk and adoption sizes, long names, links and repeats. */
  function randomItems(seed: number): TarItem[] {
    let x = seed * 7919 + 1;
    const rand = (n: number) => {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      return x % n;
    };
    const sizes = [0, 1, 511, 512, 513, 16_383, 16_384, 16_385, 2 ** 20 - 512, 2 ** 20, 2 ** 20 + 1];
    const items: TarItem[] = [{ name: 'd', type: 'directory' }];
    const files: string[] = [];
    const count = 40 + rand(60);
    for (let i = 0; i < count; i++) {
      const kind = rand(10);
      if (kind === 0 && files.length > 0) {
        items.push({ name: `d/link${i}`, type: 'link', linkname: files[rand(files.length)]! });
      } else if (kind === 1 && files.length > 0) {
        // A repeat of an earlier file's bytes: stored once.
        const name = files[rand(files.length)];
        const earlier = items.find((it) => it.name === name)!;
        items.push({ name: `d/same${i}`, data: earlier.data });
      } else {
        const size = rand(3) === 0 ? sizes[rand(sizes.length)]! : rand(3 * 2 ** 20);
        // Some names past the ustar field: a PAX header before the entry.
        const name = rand(5) === 0 ? `d/${'long-name-'.repeat(12)}${i}` : `d/f${i}`;
        items.push({ name, data: bytes(size, seed * 1000 + i) });
        files.push(name);
      }
    }
    return items;
  }

  it('imports the same entries and the same bytes, into memory and onto disk, with and without the worker', async () => {
    for (let seed = 1; seed <= 6; seed++) {
      const items = randomItems(seed);
      const tar = await makeTar(items);
      const path = join(tempDir(), 'layer.tar');
      writeFileSync(path, tar);
      const want = await importLayer(new MemoryContentStore(nodeSha256), dribble(tar, 65_536), { hasher: nodeSha256, fileHasher: nodeFileHasher });
      const cases: [string, ContentStore, boolean][] = [
        ['memory, worker', new MemoryContentStore(nodeSha256), true],
        ['memory, one thread', new MemoryContentStore(nodeSha256), false],
        ['disk, worker', new DiskContentStore(tempDir()), true],
        ['disk, one thread', new DiskContentStore(tempDir()), false],
      ];
      for (const [what, content, worker] of cases) {
        const l = await importLayer(content, layerFile(path), { hasher: nodeSha256, fileHasher: nodeFileHasher, ...(worker ? { offload: nodeHashOffload() } : {}) });
        expect(summary(l), `seed ${seed}, ${what}`).toEqual(summary(want));
        // Every file reads back as the bytes the tar was made from, after the whole import.
        for (const it of items) {
          if (it.type || !(it.data instanceof Uint8Array) || it.data.length === 0) continue;
          // Compared as bytes: toEqual walks a typed array element by element.
          const got = await content.get(l.entries.get(it.name)!.content!.digest);
          expect(Buffer.compare(got, it.data), `seed ${seed}, ${what}, ${it.name}`).toBe(0);
        }
      }
    }
  }, 120_000);
});
