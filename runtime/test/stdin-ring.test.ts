import { describe, expect, it } from 'vitest';
import { createStdinRing, StdinReader, StdinWriter } from '../src/stdin-ring.js';
import { startWorker } from '../src/worker-url.js';

describe('stdin ring', () => {
  it('carries bytes in order across wrap-around, and reports end of input', async () => {
    const sab = createStdinRing(16);
    const w = new StdinWriter(sab);
    const r = new StdinReader(sab);
    expect(r.ready()).toBe(false);
    const got: number[] = [];
    const buf = new Uint8Array(5);
    for (let round = 0; round < 10; round++) {
      await w.write(Uint8Array.from({ length: 7 }, (_, i) => round * 7 + i));
      let n = 0;
      while (n < 7) {
        const k = r.read(buf);
        got.push(...buf.subarray(0, k));
        n += k;
      }
    }
    expect(got).toEqual(Array.from({ length: 70 }, (_, i) => i));
    w.close();
    expect(r.ready()).toBe(true);
    expect(r.read(buf)).toBe(0);
  });

  it('blocks a worker reader until the host writes, without losing bytes when full', async () => {
    const sab = createStdinRing(64);
    const worker = startWorker(new URL('./fixtures/ring-reader.ts', import.meta.url), { workerData: sab });
    const done = new Promise<{ total: number; sum: number }>((res) => worker.once('message', res));
    const w = new StdinWriter(sab);
    const data = Uint8Array.from({ length: 1000 }, (_, i) => i % 251);
    await w.write(data);
    w.close();
    const { total, sum } = await done;
    await worker.terminate();
    expect(total).toBe(1000);
    expect(sum).toBe(data.reduce((a, b) => a + b, 0));
  });
});
