/**
 * The IndexedDB backends (idb-keyval) through the same conformance suite as memory and disk,
 * on fake-indexeddb in Node (the browser suite runs them on Chromium's IndexedDB).
 */
import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { IDB_CHUNK, IdbContentStore, IdbLayerStore } from '../src/index.js';
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

  it('leaves no orphan chunks after an aborted write, and sweeps those of a crash', async () => {
    const s = new IdbContentStore(`strata-test-sweep-${++n}`, nodeSha256);
    const w = await s.writer();
    await w.write(new Uint8Array(2 * IDB_CHUNK));
    await w.abort();
    expect(await s.sweep()).toBe(0);
    const crashed = await s.writer();
    await crashed.write(new Uint8Array(2 * IDB_CHUNK)); // never committed nor aborted
    expect(await s.sweep()).toBe(2);
  });
});
