import { createStore, get } from 'idb-keyval';
import { IDB_CHUNK } from '@strata/store';
import { BRIDGE_HEADER, type ChunkRequest } from './sab-bridge.js';

/**
 * The reader side of the SharedArrayBuffer bridge: answers chunk requests from a container
 * worker out of IndexedDB (the records IdbContentStore writes: `meta:<digest>` → {id},
 * `chunk:<id>:<n>`).
 */
let state: Int32Array;
let data: Uint8Array;
let store: ReturnType<typeof createStore>;

self.onmessage = async (e: MessageEvent<{ init: { sab: SharedArrayBuffer; dbName: string } } | ChunkRequest>) => {
  const m = e.data;
  if ('init' in m) {
    state = new Int32Array(m.init.sab, 0, 2);
    data = new Uint8Array(m.init.sab, BRIDGE_HEADER);
    store = createStore(m.init.dbName, 'content');
    return;
  }
  try {
    const meta = await get<{ id: string }>(`meta:${m.digest}`, store);
    const chunk = meta ? await get<Uint8Array>(`chunk:${meta.id}:${m.index}`, store) : undefined;
    if (!chunk || chunk.length > IDB_CHUNK) throw new Error('missing chunk');
    data.set(chunk);
    Atomics.store(state, 1, chunk.length);
    Atomics.store(state, 0, 2);
  } catch {
    Atomics.store(state, 0, 3);
  }
  Atomics.notify(state, 0);
};
