/**
 * The browser runtime end to end in Chromium, without cross-origin isolation: JSPI is the
 * bridge this page picks; the preload bridge (for browsers with neither JSPI nor
 * SharedArrayBuffer) is forced in the second case. The isolated project runs the same
 * lifecycle over the SharedArrayBuffer bridge.
 */
import { describe, expect, it } from 'vitest';
import { BrowserRuntime } from '@strata/runtime/browser';
import { hashWorkerUrl, lifecycle, readerUrl, workerUrl } from './runtime-lifecycle.js';
import { addToolImage } from './tool-image.js';

describe('BrowserRuntime in Chromium (not cross-origin isolated)', () => {
  it('picks JSPI here', async () => {
    expect(crossOriginIsolated).toBe(false);
    const rt = BrowserRuntime.open({ dbName: `strata-pick-${Date.now()}`, workerUrl, readerUrl, hashWorkerUrl });
    expect(rt.bridge).toBe('jspi');
    expect((await rt.info()).BridgesAvailable).toEqual({ jspi: true, sharedArrayBuffer: false, preload: true });
  });

  it('runs the container lifecycle over the JSPI bridge', () => lifecycle('jspi'), 120_000);

  it('runs the container lifecycle over the preload bridge', () => lifecycle('preload'), 120_000);

  it('keeps every change of the image list when two runtimes on one database (two tabs) make them at once', async () => {
    const dbName = `strata-tabs-${Date.now()}`;
    const a = BrowserRuntime.open({ dbName, workerUrl, readerUrl, hashWorkerUrl });
    const b = BrowserRuntime.open({ dbName, workerUrl, readerUrl, hashWorkerUrl });
    try {
      await a.loadLayout('/hello/image');
      await Promise.all(Array.from({ length: 10 }, (_, i) => [a.images.tag('strata-hello', `a${i}:1`), b.images.tag('strata-hello', `b${i}:1`)]).flat());
      const [entry] = await a.images.list();
      expect(entry!.names.length).toBe(21);
    } finally {
      a.close();
      b.close();
    }
  });
});

describe('BrowserRuntime starts', () => {
  const settleWithin = <T>(p: Promise<T>, ms: number) =>
    Promise.race([p, new Promise<'pending'>((resolve) => setTimeout(() => resolve('pending'), ms))]);

  it('refuses a second start of a container while the first is getting ready, and a kill stops the first', async () => {
    const rt = BrowserRuntime.open({ dbName: `strata-double-${Date.now()}`, workerUrl, readerUrl, hashWorkerUrl, bridge: 'jspi' });
    await addToolImage(rt);
    const c = await rt.create('strata-tool', { args: ['loop'], name: 'spin' });
    const first = rt.start(c.id);
    await expect(rt.start(c.id)).rejects.toThrow(/already running/);
    await rt.kill(c.id);
    expect((await first).exitCode).toBe(137);
    await expect(rt.kill(c.id)).rejects.toThrow(/not running/);
    rt.close();
  }, 60_000);

  it('answers a start whose worker did not load, also when that worker was the spare, and never hangs', async () => {
    const bad = new URL('/__no_such_container_worker__.js', location.href);
    const rt = BrowserRuntime.open({ dbName: `strata-badworker-${Date.now()}`, workerUrl: bad, readerUrl, hashWorkerUrl, bridge: 'preload' });
    await rt.loadLayout('/hello/image');
    for (let i = 0; i < 2; i++) {
      const r = await settleWithin(rt.run('strata-hello'), 10_000);
      expect(r).not.toBe('pending');
      expect(r).toMatchObject({ exitCode: 125, error: expect.stringMatching(/did not load|error/i) as unknown });
      // The spare made when this run ended fails to load meanwhile.
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    rt.close();
  }, 60_000);

  it('lets go of a stdin stream when the container exits, so the page can read on', async () => {
    for (const bridge of ['jspi', 'sab'] as const) {
      if (bridge === 'sab' && !crossOriginIsolated) continue;
      const rt = BrowserRuntime.open({ dbName: `strata-stdin-${bridge}-${Date.now()}`, workerUrl, readerUrl, hashWorkerUrl, bridge });
      await addToolImage(rt);
      let feed!: ReadableStreamDefaultController<Uint8Array>;
      const input = new ReadableStream<Uint8Array>({ start: (c) => void (feed = c) });
      // The program ends without reading its input.
      const r = await rt.run('strata-tool', { args: ['exit', '3'], stdin: input });
      expect(r.exitCode).toBe(3);
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(input.locked).toBe(false);
      feed.enqueue(new TextEncoder().encode('typed later'));
      const next = await input.getReader().read();
      expect(new TextDecoder().decode(next.value)).toBe('typed later');
      rt.close();
    }
  }, 60_000);

  it('wakes a program polling its stdin under JSPI when input comes, and times a poll out', async () => {
    const rt = BrowserRuntime.open({ dbName: `strata-poll-${Date.now()}`, workerUrl, readerUrl, hashWorkerUrl, bridge: 'jspi' });
    await addToolImage(rt);
    async function* typed() {
      await new Promise((resolve) => setTimeout(resolve, 300));
      yield new TextEncoder().encode('typed\n');
    }
    const woke = await settleWithin(rt.run('strata-tool', { args: ['poll'], stdin: typed() }), 10_000);
    expect(woke).toMatchObject({ exitCode: 0, stdout: 'poll=1\ntyped\n' });
    // Nothing comes: a 200 ms poll ends with none ready, after about that long.
    async function* silent() {
      await new Promise((resolve) => setTimeout(resolve, 5000));
    }
    const t0 = performance.now();
    const timedOut = await settleWithin(rt.run('strata-tool', { args: ['poll', '200'], stdin: silent() }), 10_000);
    expect(timedOut).toMatchObject({ exitCode: 0, stdout: 'poll=0\n' });
    expect(performance.now() - t0).toBeGreaterThanOrEqual(200);
    rt.close();
  }, 60_000);

  it('defers a collection in one tab while a pull in another holds a lease', async () => {
    const a = BrowserRuntime.open({ dbName: `strata-tabs-gc-${Date.now()}`, workerUrl, readerUrl, hashWorkerUrl });
    const b = BrowserRuntime.open({ dbName: a.dbName, workerUrl, readerUrl, hashWorkerUrl });
    await a.loadLayout('/hello/image');
    const result = await b.images.withLease(async () => {
      const d = await b.content.put(new TextEncoder().encode('a blob a pull just stored'));
      const otherTab = await a.images.gc();
      return { deferred: otherTab.deferred, stillThere: await b.content.has(d) };
    });
    expect(result).toEqual({ deferred: true, stillThere: true });
    // Released: the next collection goes ahead.
    expect((await a.images.gc()).deferred).toBeUndefined();
    a.close();
    b.close();
  }, 60_000);

  it('sees a container another tab runs as running: no second start, no remove, kill refused there', async () => {
    const a = BrowserRuntime.open({ dbName: `strata-tabs-run-${Date.now()}`, workerUrl, readerUrl, hashWorkerUrl, bridge: 'jspi' });
    const b = BrowserRuntime.open({ dbName: a.dbName, workerUrl, readerUrl, hashWorkerUrl, bridge: 'jspi' });
    await addToolImage(a);
    const c = await a.create('strata-tool', { args: ['loop'], name: 'shared' });
    const run = a.start(c.id);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await b.get(c.id)).status).toBe('running');
    await expect(b.start(c.id)).rejects.toThrow(/already running/);
    await expect(b.remove(c.id)).rejects.toThrow(/is running/);
    await expect(b.kill(c.id)).rejects.toThrow(/another tab/);
    await a.kill(c.id);
    expect((await run).exitCode).toBe(137);
    expect((await b.get(c.id)).status).toBe('exited');
    await b.remove(c.id);
    a.close();
    b.close();
  }, 60_000);
});
