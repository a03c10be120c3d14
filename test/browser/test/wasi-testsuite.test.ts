/**
 * The official wasi-testsuite (72 preview1 tests) in a Web Worker in Chromium, each on an
 * overlay root built from its fixture, with the same proof of running as in Node: the
 * program's exit status, its stdout, and at least one syscall. This page is not
 * cross-origin isolated (no SharedArrayBuffer); the isolated project runs it again.
 */
import { describe, expect, it } from 'vitest';
import { runSuiteInWorker } from './suite-in-worker.js';

describe('wasi-testsuite in a Chromium Web Worker (not cross-origin isolated)', () => {
  it('passes all 72', async () => {
    expect(crossOriginIsolated).toBe(false);
    const r = await runSuiteInWorker();
    expect(r.count).toBe(72);
    expect(r.failures).toEqual([]);
  }, 120_000);
});
