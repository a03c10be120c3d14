/**
 * In a cross-origin isolated page the browser runtime picks the SharedArrayBuffer bridge: the
 * container's worker reads lower files from IndexedDB through a reader worker, chunk by
 * chunk, blocking in Atomics.wait. The same lifecycle as the JSPI and preload bridges.
 */
import { describe, expect, it } from 'vitest';
import { BrowserRuntime } from '@strata/runtime/browser';
import { hashWorkerUrl, lifecycle, readerUrl, workerUrl } from '../test/runtime-lifecycle.js';

describe('BrowserRuntime with the SharedArrayBuffer bridge', () => {
  it('picks the SharedArrayBuffer bridge here', () => {
    expect(crossOriginIsolated).toBe(true);
    expect(BrowserRuntime.open({ dbName: 'unused', workerUrl, readerUrl, hashWorkerUrl }).bridge).toBe('sab');
  });

  it('runs the container lifecycle over it', () => lifecycle('sab'), 120_000);
});
