/**
 * The browser runtime end to end in Chromium, without cross-origin isolation: JSPI is the
 * bridge this page picks; the preload bridge (for browsers with neither JSPI nor
 * SharedArrayBuffer) is forced in the second case. The isolated project runs the same
 * lifecycle over the SharedArrayBuffer bridge.
 */
import { describe, expect, it } from 'vitest';
import { BrowserRuntime } from '@strata/runtime/browser';
import { hashWorkerUrl, lifecycle, readerUrl, workerUrl } from './runtime-lifecycle.js';

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
