/**
 * Strata's browser-safe packages in real Chromium: the overlay, the WASI layer and a
 * WebAssembly program, in the page and in a Web Worker; the IndexedDB content store on
 * Chromium's own IndexedDB.
 */
import { describe, expect, it } from 'vitest';
import { IdbContentStore } from '@strata/store';
import helloUrl from '../../../examples/hello/hello.wasm?url';
import { runHello } from './run-hello.js';

async function helloBytes(): Promise<Uint8Array> {
  return new Uint8Array(await (await fetch(helloUrl)).arrayBuffer());
}

describe('in Chromium', () => {
  it('runs the hello program on an overlay root in the page', async () => {
    const r = await runHello(await helloBytes());
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Hi from a WebAssembly container!');
    expect(r.stdout).toContain('from a browser layer');
    expect(r.diff).toEqual(['A /data/hello.txt', 'C /data']);
  });

  it('runs it in a Web Worker', async () => {
    const worker = new Worker(new URL('./hello-worker.ts', import.meta.url), { type: 'module' });
    const bytes = await helloBytes();
    const r = await new Promise<{ code: number; stdout: string; diff: string[]; error?: string }>((resolve) => {
      worker.onmessage = (e) => resolve(e.data);
      worker.postMessage(bytes);
    });
    worker.terminate();
    expect(r.error).toBeUndefined();
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('argv: [/hello.wasm] [browser]');
    expect(r.diff).toEqual(['A /data/hello.txt', 'C /data']);
  });

  it('keeps blobs in IndexedDB, chunked, across store instances', async () => {
    const db = `strata-browser-${Date.now()}`;
    const data = new Uint8Array(600_000).map((_, i) => i % 253);
    const digest = await new IdbContentStore(db).put(data);
    const again = new IdbContentStore(db);
    expect(await again.has(digest)).toBe(true);
    await again.preload(digest);
    const buf = new Uint8Array(10);
    expect(again.reader({ digest, size: data.length }).readAt(buf, 300_000)).toBe(10);
    expect([...buf]).toEqual([...data.subarray(300_000, 300_010)]);
  });
});
