/**
 * The IndexedDB backends (idb-keyval) through the same conformance suite as memory and disk,
 * on fake-indexeddb in Node (the browser suite runs them on Chromium's IndexedDB).
 */
import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { IDB_CHUNK, IdbContentStore, IdbLayerStore, StorageFullError } from '../src/index.js';
import { nodeSha256 } from '../src/node/index.js';
import { runStoreConformance } from './suite/conformance.js';

let n = 0;
runStoreConformance('indexeddb', async () => {
  const db = `strata-test-${++n}`;
  return { content: new IdbContentStore(db, nodeSha256), layers: new IdbLayerStore(db) };
});

describe('IdbContentStore specifics', () => {
  it('stores a large blob in chunks and reads any range of it after preload', async () => {
    const s = new IdbContentStore(`strata-test-big-${++n}`, nodeSha256);
    const big = new Uint8Array(3 * IDB_CHUNK + 17).map((_, i) => i % 251);
    const d = await s.put(big);
    await s.preload(d);
    const r = s.reader({ digest: d, size: big.length });
    const buf = new Uint8Array(100);
    expect(r.readAt(buf, IDB_CHUNK - 50)).toBe(100);
    expect([...buf]).toEqual([...big.subarray(IDB_CHUNK - 50, IDB_CHUNK + 50)]);
    expect(new Uint8Array(await s.get(d))).toEqual(big);
  });

  it('keeps one copy, and no orphan chunks, when two writers commit the same blob at once', async () => {
    const s = new IdbContentStore(`strata-test-race-${++n}`, nodeSha256);
    const bytes = new Uint8Array(2 * IDB_CHUNK + 5).map((_, i) => i % 253);
    const writers = await Promise.all([s.writer(), s.writer()]);
    for (const w of writers) await w.write(bytes);
    const digests = await Promise.all(writers.map((w) => w.commit()));
    expect(digests[0]).toBe(digests[1]);
    // One of them stored it; the other found it stored and dropped its own chunks.
    expect(writers.map((w) => w.existed).sort()).toEqual([false, true]);
    expect(await s.sweep()).toBe(0);
    expect(new Uint8Array(await s.get(digests[0]!))).toEqual(bytes);
  });

  it('lets the blobs preloadLayers loaded go when the last hold is released, not one preload kept', async () => {
    const s = new IdbContentStore(`strata-test-hold-${++n}`, nodeSha256);
    const a = await s.put(new Uint8Array(100).fill(1));
    const b = await s.put(new Uint8Array(100).fill(2));
    const entry = (digest: typeof a) => ({ type: 'file' as const, mode: 0o644, uid: 0, gid: 0, mtimeNs: 0n, size: 100, content: { digest, size: 100 } });
    const layer = { diffId: `sha256:${'9'.repeat(64)}` as const, entries: new Map([['a', entry(a)], ['b', entry(b)]]) };
    await s.preload(b); // someone's own
    const first = await s.preloadLayers([layer]);
    const second = await s.preloadLayers([layer]);
    first();
    const read = (d: typeof a) => s.reader({ digest: d, size: 100 }).readAt(new Uint8Array(1), 0);
    expect(read(a)).toBe(1);
    second();
    expect(() => read(a)).toThrow(/not preloaded/);
    expect(read(b)).toBe(1);
  });

  it('leaves no orphan chunks after an aborted write, and sweeps those of a crash', async () => {
    const s = new IdbContentStore(`strata-test-sweep-${++n}`, nodeSha256);
    const w = await s.writer();
    await w.write(new Uint8Array(2 * IDB_CHUNK));
    await w.abort();
    expect(await s.sweep()).toBe(0);
    const crashed = await s.writer();
    await crashed.write(new Uint8Array(2 * IDB_CHUNK)); // never committed nor aborted
    // Within the grace period it may be a write in flight (another tab's): kept.
    expect(await s.sweep()).toBe(0);
    expect(await s.sweep(0)).toBe(2);
    // A write in flight that a sweep spared commits whole.
    const live = await s.writer();
    await live.write(new Uint8Array(2 * IDB_CHUNK).fill(7));
    expect(await s.sweep()).toBe(0);
    const d = await live.commit();
    expect(new Uint8Array(await s.get(d))).toEqual(new Uint8Array(2 * IDB_CHUNK).fill(7));
  });

  it('reads single chunks for the sync bridges, and says which one is missing', async () => {
    const s = new IdbContentStore(`strata-test-chunk-${++n}`, nodeSha256);
    const big = new Uint8Array(2 * IDB_CHUNK + 5).map((_, i) => (i * 7) % 253);
    const d = await s.put(big);
    expect([...(await s.readChunk(d, 1))]).toEqual([...big.subarray(IDB_CHUNK, 2 * IDB_CHUNK)]);
    expect((await s.readChunk(d, 2)).length).toBe(5);
    await expect(s.readChunk(d, 3)).rejects.toThrow(/chunk 3 is missing/);
  });

  it('turns a quota error into StorageFullError (ENOSPC) and keeps what was stored', async () => {
    const s = new IdbContentStore(`strata-test-quota-${++n}`, nodeSha256);
    const kept = await s.put(new TextEncoder().encode('stored before the quota ran out'));
    const proto = (globalThis as unknown as { IDBObjectStore: { prototype: { put: (...a: unknown[]) => unknown } } }).IDBObjectStore.prototype;
    const put = proto.put;
    proto.put = function () {
      throw new DOMException('the quota has been exceeded', 'QuotaExceededError');
    };
    let refused: Promise<unknown>;
    try {
      refused = s.put(new Uint8Array(3 * IDB_CHUNK).fill(9));
      await expect(refused).rejects.toBeInstanceOf(StorageFullError);
    } finally {
      proto.put = put;
    }
    expect(new TextDecoder().decode(await s.get(kept))).toBe('stored before the quota ran out');
    const all: string[] = [];
    for await (const d of s.list()) all.push(d);
    expect(all).toEqual([kept]);
    expect(await s.sweep()).toBe(0);
  });
});
