/**
 * In a cross-origin isolated page the browser runtime uses the SharedArrayBuffer bridge: the
 * container's worker reads lower files from IndexedDB through a reader worker, chunk by
 * chunk, blocking in Atomics.wait, instead of preloading the image.
 */
import { describe, expect, it } from 'vitest';
import { BrowserRuntime } from '@strata/runtime/browser';

const workerUrl = new URL('../../../runtime/src/browser/container-worker.ts', import.meta.url);
const readerUrl = new URL('../../../runtime/src/browser/idb-reader-worker.ts', import.meta.url);

describe('BrowserRuntime with the SharedArrayBuffer bridge', () => {
  it('runs a container whose reads cross the bridge', async () => {
    const rt = BrowserRuntime.open({ dbName: `strata-sab-${Date.now()}`, workerUrl, readerUrl });
    expect(rt.bridge).toBe('sab');
    await rt.loadLayout('/hello/image');
    const r = await rt.run('strata-hello', { args: ['sab'] });
    expect(r.error).toBeUndefined();
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain('Welcome to Strata');
    expect(r.bridge).toBe('sab');
    expect(r.bridgeRequests).toBeGreaterThan(0);
    expect((await rt.info()).Bridge).toBe('sab');
  });
});
