/**
 * The same in a cross-origin isolated page (COOP/COEP headers): SharedArrayBuffer and
 * Atomics.wait exist there, so WASI's blocking waits (poll_oneoff sleeps) take that path.
 */
import { describe, expect, it } from 'vitest';
import { runSuiteInWorker } from '../test/suite-in-worker.js';

describe('wasi-testsuite in a Chromium Web Worker (cross-origin isolated)', () => {
  it('passes all 72 with SharedArrayBuffer available', async () => {
    expect(crossOriginIsolated).toBe(true);
    expect(typeof SharedArrayBuffer).toBe('function');
    const r = await runSuiteInWorker();
    expect(r.count).toBe(72);
    expect(r.failures).toEqual([]);
  }, 120_000);
});
