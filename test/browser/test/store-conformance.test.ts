/**
 * The store conformance suite (packages/store/test/suite) against the IndexedDB backends on
 * Chromium's own IndexedDB: the same cases the memory and disk backends pass in Node, and
 * the IndexedDB ones pass there on fake-indexeddb.
 */
import { IdbContentStore, IdbLayerStore } from '@strata/store';
import { runStoreConformance } from '../../../packages/store/test/suite/conformance.js';

let n = 0;
runStoreConformance('indexeddb on Chromium', async () => {
  const db = `strata-conformance-${Date.now()}-${++n}`;
  return { content: new IdbContentStore(db), layers: new IdbLayerStore(db) };
});
