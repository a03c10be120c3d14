/**
 * The JSPI bridge's chunk cache: a syscall that misses a chunk throws, waits for it and runs
 * again from the start. One read of more than the cache holds must still finish.
 */
import { describe, expect, it } from 'vitest';
import { IDB_CHUNK } from '@strata/store';
import { SuspendingContent } from '../src/browser/jspi-bridge.js';

describe('the JSPI chunk cache', () => {
  it('finishes one read larger than the cache, keeping what its retries loaded until it returns', async () => {
    const chunks = 40;
    const size = chunks * IDB_CHUNK - 123;
    const chunk = (i: number) => new Uint8Array(Math.min(IDB_CHUNK, size - i * IDB_CHUNK)).fill(i);
    let loads = 0;
    // A cache of 16 chunks, as the worker's 256 are to a 64 MiB read.
    const content = new SuspendingContent(async (_d, i) => (loads++, chunk(i)), 16);
    const reader = content.reader({ digest: 'sha256:x' as never, size });
    const buf = new Uint8Array(size);
    let tries = 0;
    // What the suspending import does: run, wait out a miss, run again; then it has returned.
    for (;; tries++) {
      expect(tries).toBeLessThan(200);
      try {
        expect(reader.readAt(buf, 0)).toBe(size);
        content.unpin();
        break;
      } catch (e) {
        const wait = content.pending(e);
        if (!wait) throw e;
        await wait;
      }
    }
    for (let i = 0; i < chunks; i++) expect(buf[i * IDB_CHUNK], `chunk ${i}`).toBe(i);
    expect(loads).toBe(chunks);
  });
});
