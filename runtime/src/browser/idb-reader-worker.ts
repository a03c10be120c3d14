import { IdbContentStore, type Digest } from '@strata/store';
import { BRIDGE_HEADER, type ChunkRequest } from './sab-bridge.js';

/**
 * The reader side of the SharedArrayBuffer bridge: answers chunk requests from a container
 * worker out of IndexedDB and wakes it (see the buffer layout in sab-bridge.ts).
 */
let state: Int32Array;
let data: Uint8Array;
let content: IdbContentStore;

self.onmessage = async (e: MessageEvent<{ init: { sab: SharedArrayBuffer; dbName: string } } | ChunkRequest>) => {
  const m = e.data;
  if ('init' in m) {
    state = new Int32Array(m.init.sab, 0, 2);
    data = new Uint8Array(m.init.sab, BRIDGE_HEADER);
    content = new IdbContentStore(m.init.dbName);
    return;
  }
  try {
    const chunk = await content.readChunk(m.digest as Digest, m.index);
    data.set(chunk);
    Atomics.store(state, 1, chunk.length);
    Atomics.store(state, 0, 2);
  } catch {
    Atomics.store(state, 0, 3);
  }
  Atomics.notify(state, 0);
};
