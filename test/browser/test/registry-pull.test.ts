/**
 * A pull in Chromium from Debian's docker-registry on another origin, configured to send CORS
 * headers: manifests, config and layers (gzip and zstd) fetched by the page, verified, stored
 * in IndexedDB, and the image run in a worker.
 */
import { describe, expect, inject, it } from 'vitest';
import { BrowserRuntime } from '@strata/runtime/browser';
import { hashWorkerUrl, readerUrl, workerUrl } from './runtime-lifecycle.js';

describe('registry pull in Chromium', () => {
  const registry = inject('corsRegistry');

  it('pulls a gzip image from a CORS registry and runs it', async () => {
    expect(new URL(`http://${registry}`).origin).not.toBe(location.origin);
    const rt = BrowserRuntime.open({ dbName: `strata-pull-${Date.now()}`, workerUrl, readerUrl, hashWorkerUrl });
    const events: string[] = [];
    const img = await rt.pullImage(`${registry}/strata/hello:1`, { plainHttp: true, onEvent: (e) => events.push(e.kind) });
    expect(img.diffIds.length).toBe(2);
    expect(events).toContain('resolved');
    const r = await rt.run(`${registry}/strata/hello:1`, { args: ['registry'] });
    expect(r.error).toBeUndefined();
    expect(r.stdout).toContain('argv: [/hello.wasm] [registry]');
    expect(r.exitCode).toBe(0);
    // The isolated project imports this file too: there the SharedArrayBuffer bridge runs.
    expect(r.bridge).toBe(crossOriginIsolated ? 'sab' : 'jspi');
  });

  it('pulls the zstd copy to the same layers (same diffIDs, stored once)', async () => {
    const rt = BrowserRuntime.open({ dbName: `strata-pull-zstd-${Date.now()}`, workerUrl, readerUrl, hashWorkerUrl });
    const gz = await rt.pullImage(`${registry}/strata/hello:1`, { plainHttp: true });
    const zst = await rt.pullImage(`${registry}/strata/hello:zstd`, { plainHttp: true });
    expect(zst.diffIds).toEqual(gz.diffIds);
    expect((await rt.layers.list()).length).toBe(2);
    expect((await rt.run(`${registry}/strata/hello:zstd`)).exitCode).toBe(0);
  });

  it('refuses a reference the registry does not have, and stores nothing', async () => {
    const rt = BrowserRuntime.open({ dbName: `strata-pull-404-${Date.now()}`, workerUrl, readerUrl, hashWorkerUrl });
    await expect(rt.pullImage(`${registry}/strata/nothing:1`, { plainHttp: true })).rejects.toThrow(/404|not found|unknown/i);
    expect(await rt.images.list()).toEqual([]);
  });
});
