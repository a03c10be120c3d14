import { spawn } from 'node:child_process';
import { Worker } from 'node:worker_threads';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  DigestMismatchError, HASH_CHUNK, importLayer, LayerFormatError, MemoryContentStore,
  type ContentStore, type HashOffload, type HashSession, type ImportedLayer,
} from '../src/index.js';
import { DiskContentStore, HashWorkerError, nodeGunzip, nodeHashOffload, nodeSha256 } from '../src/node/index.js';
import { WorkerHashOffload } from '../src/node/hash-worker.js';
import { listAll } from './suite/conformance.js';
import { seededBytes as bytes } from './suite/seeded-bytes.js';
import { dribble, makeTar, once, type TarItem } from './suite/tar-builder.js';

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});


/**
 * ~17 MiB: past the size below which a session hashes on its own thread, twice the worker's
 * ring (so it wraps and applies back-pressure), one file larger than the ring (hashed as it
 * streams past), files around the read-piece size, small files that stay on the importing
 * thread, and hard links to offloaded files (which need their digest at once).
 */
const big: TarItem[] = [
  { name: 'bin', type: 'directory' },
  { name: 'bin/huge', data: bytes(9 * 2 ** 20 + 123, 1) },
  ...Array.from({ length: 40 }, (_, i) => ({ name: `bin/f${i}`, data: bytes(((i * 37) % 300) * 1024 + i, i + 10) })),
  { name: 'bin/huge-link', type: 'link' as const, linkname: 'bin/huge' },
  { name: 'bin/f7-link', type: 'link' as const, linkname: 'bin/f7' },
  ...Array.from({ length: 30 }, (_, i) => ({ name: `etc/small${i}`, data: bytes(i * 100 + 1, i + 100) })),
  { name: 'etc/same-as-f3', data: bytes(((3 * 37) % 300) * 1024 + 3, 13) },
];

/** The offload, counting the files it was given. */
function counting(inner: HashOffload): HashOffload & { files: number; withDiffId: boolean[] } {
  const o = {
    files: 0,
    withDiffId: [] as boolean[],
    open(options?: { diffId?: boolean }): HashSession | undefined {
      o.withDiffId.push(options?.diffId ?? true);
      const s = inner.open(options);
      if (!s) return undefined;
      return {
        write: (c) => s.write(c),
        file: (start, size) => {
          o.files++;
          return s.file(start, size);
        },
        drain: () => s.drain(),
        finish: () => s.finish(),
        close: () => s.close(),
      };
    },
  };
  return o;
}

/** What an import produced, comparable across stores and offloads. */
function summary(layer: ImportedLayer) {
  return { diffId: layer.diffId, size: layer.size, entries: [...layer.entries].sort(([a], [b]) => a.localeCompare(b)) };
}

async function everyBlobMatchesItsDigest(content: ContentStore): Promise<void> {
  for (const d of await listAll(content)) {
    expect(`sha256:${createHash('sha256').update(await content.get(d)).digest('hex')}`).toBe(d);
  }
}

describe('importing with the hashing offload', () => {
  const disk = () => {
    const root = mkdtempSync(join(tmpdir(), 'strata-offload-'));
    dirs.push(root);
    return new DiskContentStore(root);
  };

  it('gives the same layer, blobs and digests as hashing on one thread, in memory and on disk', async () => {
    const tar = await makeTar(big);
    const plainStore = new MemoryContentStore(nodeSha256);
    const plain = await importLayer(plainStore, once(tar), { hasher: nodeSha256 });
    expect(plain.diffId).toBe(`sha256:${createHash('sha256').update(tar).digest('hex')}`);

    // 64 KiB chunks, as a file stream delivers them; odd sizes, as a network body does
    // (they straddle the end of the worker's ring).
    for (const [content, chunk] of [[new MemoryContentStore(nodeSha256), 65536], [disk(), 100_003]] as const) {
      const offload = counting(nodeHashOffload());
      const layer = await importLayer(content, dribble(tar, chunk), { hasher: nodeSha256, offload });
      expect(summary(layer)).toEqual(summary(plain));
      expect(await listAll(content)).toEqual(await listAll(plainStore));
      await everyBlobMatchesItsDigest(content);
      // The worker took files, and a worker ran.
      expect(offload.files).toBeGreaterThan(5);
      expect(nodeHashOffload().threadId).toBeTypeOf('number');
      const links = layer.entries;
      expect(links.get('bin/huge-link')?.content).toEqual(links.get('bin/huge')?.content);
      expect(links.get('bin/f7-link')?.content?.digest).toMatch(/^sha256:/);
    }
  });

  it('imports a gzip layer the same way, its digest the compressed bytes\' and its diffID the tar\'s', async () => {
    const tar = await makeTar(big);
    const gz = gzipSync(tar, { level: 1 });
    const offload = counting(nodeHashOffload());
    const layer = await importLayer(new MemoryContentStore(nodeSha256), dribble(gz, 65536), { hasher: nodeSha256, gunzip: nodeGunzip, offload });
    const plain = await importLayer(new MemoryContentStore(nodeSha256), once(tar), { hasher: nodeSha256 });
    expect(summary(layer)).toEqual(summary(plain));
    expect(layer.digest).toBe(`sha256:${createHash('sha256').update(gz).digest('hex')}`);
    expect(layer.compression).toBe('gzip');
    expect(offload.files).toBeGreaterThan(5);
  });

  it('takes a verified digest of an uncompressed layer as its diffID, and hashes only the files', async () => {
    const tar = await makeTar(big);
    const plain = await importLayer(new MemoryContentStore(nodeSha256), once(tar), { hasher: nodeSha256 });
    for (const offload of [counting(nodeHashOffload()), undefined]) {
      const layer = await importLayer(new MemoryContentStore(nodeSha256), dribble(tar, 65536), {
        hasher: nodeSha256, offload, verifiedDigest: plain.diffId,
      });
      expect(summary(layer)).toEqual(summary(plain));
      if (offload) expect(offload.withDiffId).toEqual([false]);
    }
    // Trusted, not recomputed: the caller vouches for the bytes (and a pull's writer checks
    // them at its commit).
    const vouched = `sha256:${'1'.repeat(64)}` as const;
    const layer = await importLayer(new MemoryContentStore(nodeSha256), once(tar), { hasher: nodeSha256, verifiedDigest: vouched });
    expect(layer.diffId).toBe(vouched);
    await expect(importLayer(new MemoryContentStore(nodeSha256), once(tar), { hasher: nodeSha256, verifiedDigest: vouched, expectedDiffId: plain.diffId }))
      .rejects.toBeInstanceOf(DigestMismatchError);
  });

  it('hashes a small layer on the importing thread with the same result', async () => {
    const tar = await makeTar(big.slice(2, 20));
    const plain = await importLayer(new MemoryContentStore(nodeSha256), once(tar), { hasher: nodeSha256 });
    const offload = counting(nodeHashOffload());
    const layer = await importLayer(new MemoryContentStore(nodeSha256), dribble(tar, 4096), { hasher: nodeSha256, offload });
    expect(summary(layer)).toEqual(summary(plain));
    expect(offload.files).toBeGreaterThan(0);
  });

  it('leaves the store as it was when the tar is cut short after the worker took over, and serves the next import', async () => {
    const tar = await makeTar(big);
    const content = disk();
    await content.put(new TextEncoder().encode('pre-existing'));
    const before = await listAll(content);
    const cut = tar.subarray(0, 10 * 2 ** 20 + 100);
    await expect(importLayer(content, dribble(cut, 65536), { hasher: nodeSha256, offload: nodeHashOffload() }))
      .rejects.toBeInstanceOf(LayerFormatError);
    expect(await listAll(content)).toEqual(before);
    expect(readdirSync(join(content.root, 'ingest'))).toEqual([]);
    const again = await importLayer(content, once(tar), { hasher: nodeSha256, offload: nodeHashOffload() });
    expect(again.diffId).toBe(`sha256:${createHash('sha256').update(tar).digest('hex')}`);
  });

  it('refuses a diffID that does not match and keeps nothing', async () => {
    const tar = await makeTar(big);
    const content = new MemoryContentStore(nodeSha256);
    const wrong = `sha256:${'0'.repeat(64)}` as const;
    await expect(importLayer(content, once(tar), { hasher: nodeSha256, offload: nodeHashOffload(), expectedDiffId: wrong }))
      .rejects.toBeInstanceOf(DigestMismatchError);
    expect(await listAll(content)).toEqual([]);
  });

  it('refuses to settle a named file whose bytes have not all been written', async () => {
    // On this thread (under 2 MiB) and on the worker.
    for (const length of [2 ** 20, 3 * 2 ** 20]) {
      const session = nodeHashOffload().open()!;
      for (let at = 0; at < length; at += HASH_CHUNK) await session.write(bytes(HASH_CHUNK, at));
      void session.file(length - 100, 200);
      await expect(session.drain()).rejects.toBeInstanceOf(RangeError);
      await expect(session.finish()).rejects.toBeInstanceOf(RangeError);
      session.close();
    }
  });

  it('runs concurrent imports side by side: one on the worker, the others on their own thread', async () => {
    const tars = await Promise.all([makeTar(big), makeTar(big.slice(0, 30)), makeTar(big.slice(1, 40))]);
    const offload = nodeHashOffload();
    const results = await Promise.all(tars.map((t) => importLayer(new MemoryContentStore(nodeSha256), dribble(t, 65536), { hasher: nodeSha256, offload })));
    results.forEach((r, i) => expect(r.diffId).toBe(`sha256:${createHash('sha256').update(tars[i]!).digest('hex')}`));
    // Every session was closed: the offload takes the next import.
    const next = offload.open();
    expect(next).toBeDefined();
    next!.close();
  });
});

describe('the offload worker', () => {
  it('does not keep a process alive once its import is done', async () => {
    // A process that imports a layer large enough to start the worker and then has nothing
    // left to do must end on its own (the CLI's load and commit are such processes).
    const script = `
      import { importLayer, MemoryContentStore } from '@strata/store';
      import { nodeHashOffload, nodeSha256 } from '@strata/store/node';
      import { makeTar, once } from './test/suite/tar-builder.ts';
      const tar = await makeTar([{ name: 'f', data: new Uint8Array(8 * 2 ** 20).fill(7) }]);
      const offload = nodeHashOffload();
      const layer = await importLayer(new MemoryContentStore(nodeSha256), once(tar), { hasher: nodeSha256, offload });
      console.log(offload.threadId !== undefined, layer.entries.get('f').size);
    `;
    const child = spawn(process.execPath, ['--conditions=strata-source', '--import', 'tsx', '--input-type=module', '-e', script], { cwd: packageDir });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d));
    child.stderr.on('data', (d: Buffer) => (out += d));
    const code = await new Promise<number | null>((resolve) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        resolve(null);
      }, 20_000);
      child.on('exit', (c) => {
        clearTimeout(timer);
        resolve(c);
      });
    });
    expect(out.trim()).toBe(`true ${8 * 2 ** 20}`);
    expect(code).toBe(0);
  }, 30_000);
});

describe('a hashing worker that fails', () => {
  /** The offload's worker source, followed by code that makes it fail after `answers` replies. */
  const failingAfter = (answers: number, code: number) => (source: string) =>
    new Worker(`${source}
      let replies = 0;
      const post = parentPort.postMessage.bind(parentPort);
      parentPort.postMessage = (m) => { post(m); if (++replies === ${answers}) process.exit(${code}); };`, { eval: true, execArgv: [] });

  async function importBoth(offload: WorkerHashOffload, items = big) {
    const tar = await makeTar(items);
    const plain = await importLayer(new MemoryContentStore(nodeSha256), once(tar), { hasher: nodeSha256 });
    const counted = counting(offload);
    const content = new MemoryContentStore(nodeSha256);
    const layer = await importLayer(content, dribble(tar, 65536), { hasher: nodeSha256, offload: counted });
    return { plain, layer, content, files: counted.files };
  }

  it('that cannot be started leaves the import to hash on its own thread, with the same result', async () => {
    let tries = 0;
    const offload = new WorkerHashOffload(() => {
      tries++;
      throw new Error('no threads left');
    });
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    const { plain, layer, content, files } = await importBoth(offload);
    await importBoth(offload);
    await new Promise((resolve) => setImmediate(resolve));
    process.off('warning', onWarning);
    // Said once, not per import.
    expect(warnings.map((w) => w.message)).toEqual(['the hashing worker is unavailable (no threads left): an import hashes on its own thread']);
    expect(summary(layer)).toEqual(summary(plain));
    await everyBlobMatchesItsDigest(content);
    // The import did reach for the worker with files to hash.
    expect(tries).toBe(2);
    expect(files).toBeGreaterThan(5);
    expect(offload.threadId).toBeUndefined();
  });

  it('that dies before its first answer leaves the import to hash on its own thread, with the same result', async () => {
    let started = 0;
    const offload = new WorkerHashOffload((source) => {
      started++;
      return new Worker(`throw new Error('cannot start');${source}`, { eval: true, execArgv: [] });
    });
    // The worker's end comes while the importer waits for room in the ring, files already
    // sent to it; and, for a layer just past the size that needs a worker, while the
    // importer waits for the diffID.
    const sent = [...Array.from({ length: 150 }, (_, i) => ({ name: `m/f${i}`, data: bytes(40 * 1024 + i, 500 + i) })), ...big];
    const short = Array.from({ length: 60 }, (_, i) => ({ name: `s/f${i}`, data: bytes(40 * 1024 + i, 900 + i) }));
    for (const items of [sent, short]) {
      const { plain, layer, content, files } = await importBoth(offload, items);
      expect(summary(layer)).toEqual(summary(plain));
      await everyBlobMatchesItsDigest(content);
      expect(files).toBeGreaterThan(20);
    }
    expect(started).toBe(2);
  });

  it('that ends while an import hashes on its own thread leaves that import alone', async () => {
    let worker: Worker | undefined;
    const offload = new WorkerHashOffload((source) => (worker = new Worker(source, { eval: true, execArgv: [] })));
    // A large import starts the worker.
    await importBoth(offload);
    // A small one hashes from its ring, here; the worker ends in the middle of it.
    const small = await makeTar(big.slice(2, 20));
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const pending = importLayer(new MemoryContentStore(nodeSha256), (async function* () {
      yield small.subarray(0, 100_000);
      await gate;
      yield small.subarray(100_000);
    })(), { hasher: nodeSha256, offload });
    await worker!.terminate();
    await new Promise((resolve) => setImmediate(resolve));
    release();
    expect((await pending).diffId).toBe(`sha256:${createHash('sha256').update(small).digest('hex')}`);
  });

  it('that dies mid-stream fails the import with the cause, keeps nothing, and the next import gets a new worker', async () => {
    let started = 0;
    const offload = new WorkerHashOffload((source) => (++started === 1 ? failingAfter(2, 7)(source) : new Worker(source, { eval: true, execArgv: [] })));
    const tar = await makeTar(big);
    const content = disk();
    await content.put(new TextEncoder().encode('pre-existing'));
    const before = await listAll(content);
    const failed = importLayer(content, dribble(tar, 65536), { hasher: nodeSha256, offload });
    await expect(failed).rejects.toBeInstanceOf(HashWorkerError);
    await expect(failed).rejects.toThrow(/the hashing worker stopped: exited with code 7/);
    expect(await listAll(content)).toEqual(before);
    expect(readdirSync(join(content.root, 'ingest'))).toEqual([]);
    const again = await importLayer(content, dribble(tar, 65536), { hasher: nodeSha256, offload });
    expect(again.diffId).toBe(`sha256:${createHash('sha256').update(tar).digest('hex')}`);
    expect(started).toBe(2);
    await everyBlobMatchesItsDigest(content);
  });

  function disk(): DiskContentStore {
    const root = mkdtempSync(join(tmpdir(), 'strata-offload-'));
    dirs.push(root);
    return new DiskContentStore(root);
  }
});

describe('prehashed writers', () => {
  it('store under the digest their caller gives, and refuse to commit without one', async () => {
    const root = mkdtempSync(join(tmpdir(), 'strata-prehashed-'));
    dirs.push(root);
    for (const content of [new MemoryContentStore(nodeSha256), new DiskContentStore(root)]) {
      const data = new TextEncoder().encode('hashed elsewhere');
      const digest = `sha256:${createHash('sha256').update(data).digest('hex')}` as const;
      const w = await content.writer({ prehashed: true });
      await w.write(data);
      expect(await w.commit(digest)).toBe(digest);
      expect(await content.get(digest)).toEqual(data);
      const bare = await content.writer({ prehashed: true });
      await bare.write(data);
      await expect(bare.commit()).rejects.toBeInstanceOf(TypeError);
      await bare.abort();
      expect(await listAll(content)).toEqual([digest]);
    }
  });
});
