/**
 * The browser runtime end to end in Chromium: the example image loaded from an OCI layout
 * served as static files into IndexedDB, a container run in a Web Worker, and its files
 * still there for a new runtime on the same database (what a page reload does).
 */
import { describe, expect, it } from 'vitest';
import { OverlayFs } from '@strata/overlay';
import { BrowserRuntime } from '@strata/runtime/browser';

const workerUrl = new URL('../../../runtime/src/browser/container-worker.ts', import.meta.url);
const readerUrl = new URL('../../../runtime/src/browser/idb-reader-worker.ts', import.meta.url);

async function helloFile(rt: BrowserRuntime, id: string): Promise<string> {
  const c = (await rt.containers.get(id))!;
  const lowers = await Promise.all(c.image.diffIds.map((d) => rt.layers.get(d as `sha256:${string}`)));
  const fs = OverlayFs.restore({ lowers, content: rt.content }, (await rt.containers.upper(id))!);
  const h = fs.open(fs.lookup(fs.lookup(fs.root, 'data'), 'hello.txt'), { read: true, write: false });
  const buf = new Uint8Array(h.stat().size);
  h.read(buf, 0);
  h.close();
  return new TextDecoder().decode(buf);
}

describe('BrowserRuntime in Chromium', () => {
  it('loads a static OCI layout, runs a container in a worker, and keeps its upper in IndexedDB', async () => {
    const dbName = `strata-rt-${Date.now()}`;
    const rt = BrowserRuntime.open({ dbName, workerUrl, readerUrl });
    const loaded = await rt.loadLayout('/hello/image');
    expect(loaded.length).toBe(1);
    const c = await rt.create('strata-hello', { args: ['tab'] });
    const r = await rt.start(c.id);
    expect(r.error).toBeUndefined();
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain('argv: [/hello.wasm] [tab]');
    const info = await rt.info();
    expect(info).toMatchObject({ Driver: 'overlay', BackingStore: 'indexeddb', Bridge: 'preload', Images: 1, Layers: 2 });
    expect(info.BridgesAvailable.jspi).toBe(true);

    // A new runtime on the same database, as after a reload: the container's files are there.
    const again = BrowserRuntime.open({ dbName, workerUrl, readerUrl });
    expect((await again.start(c.id)).exitCode).toBe(0);
    expect(await helloFile(again, c.id)).toBe('Hello, tab\nHello, tab\n');
  });
});
