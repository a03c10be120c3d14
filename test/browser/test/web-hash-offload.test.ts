/**
 * The browsers' hashing offload in Chromium: the diffID hashed on a Web Worker, the page's
 * own hashing when the worker does not load, and an import that fails with the worker.
 */
import { describe, expect, it, vi } from 'vitest';
import { importLayer, MemoryContentStore, toHex, webBlake3, WebHashOffload, webSha256, type ImportedLayer } from '@strata/store';
import { makeTar } from '../../../packages/store/test/suite/tar-builder.js';
import { seededBytes } from '../../../packages/store/test/suite/seeded-bytes.js';
import { hashWorkerUrl } from './runtime-lifecycle.js';

const items = [
  { name: 'big', data: seededBytes(5 * 2 ** 20 + 3, 1) },
  ...Array.from({ length: 60 }, (_, i) => ({ name: `f${i}`, data: seededBytes(40_000 + i * 977, i + 2) })),
];
const tar = await makeTar(items);
const diffId = `sha256:${toHex(new Uint8Array(await crypto.subtle.digest('SHA-256', tar as Uint8Array<ArrayBuffer>)))}`;

async function* chunks(bytes: Uint8Array, size = 65_536): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < bytes.length; at += size) yield bytes.slice(at, at + size);
}

const realWorker = () => new Worker(hashWorkerUrl, { type: 'module' });
const summary = (l: ImportedLayer) => ({ diffId: l.diffId, entries: [...l.entries].sort(([a], [b]) => a.localeCompare(b)) });
const plain = await importLayer(new MemoryContentStore(), chunks(tar), { fileHasher: webBlake3 });

describe('WebHashOffload', () => {
  it('hashes the diffID on a worker, with the same layer as the page alone', async () => {
    const digests: string[] = [];
    const offload = new WebHashOffload(() => {
      const w = realWorker();
      w.addEventListener('message', (e: MessageEvent<{ digest?: string }>) => e.data.digest && digests.push(e.data.digest));
      return w;
    });
    const layer = await importLayer(new MemoryContentStore(), chunks(tar), { fileHasher: webBlake3, offload });
    expect(layer.diffId).toBe(diffId);
    expect(summary(layer)).toEqual(summary(plain));
    // The worker's answer is the diffID.
    expect(digests.map((d) => `sha256:${d}`)).toEqual([diffId]);
    // And it serves the next import.
    expect((await importLayer(new MemoryContentStore(), chunks(tar), { fileHasher: webBlake3, offload })).diffId).toBe(diffId);
    expect(digests.length).toBe(2);
  });

  it('never starts the worker for a layer under 2 MiB', async () => {
    let spawned = 0;
    const offload = new WebHashOffload(() => {
      spawned++;
      return realWorker();
    });
    const small = await makeTar(items.slice(1, 20));
    const want = `sha256:${toHex(new Uint8Array(await crypto.subtle.digest('SHA-256', small as Uint8Array<ArrayBuffer>)))}`;
    expect((await importLayer(new MemoryContentStore(), chunks(small), { fileHasher: webBlake3, offload })).diffId).toBe(want);
    expect(spawned).toBe(0);
  });

  it('hashes on the page when the worker does not load, and says so once', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    try {
      const offload = new WebHashOffload(() => new Worker(new URL('./no-such-worker.js', import.meta.url), { type: 'module' }));
      for (let i = 0; i < 2; i++) {
        const layer = await importLayer(new MemoryContentStore(), chunks(tar), { fileHasher: webBlake3, offload });
        expect(summary(layer)).toEqual(summary(plain));
      }
      expect(warn).toHaveBeenCalledTimes(1);
      expect(String(warn.mock.calls[0]![0])).toMatch(/the hashing worker is unavailable/);
    } finally {
      warn.mockRestore();
    }
  });

  it('hashes on the page when the worker answers that it cannot hash, and tries a new worker next time', async () => {
    // Loads, but its hasher does not (a page whose CSP forbids WebAssembly): an error a chunk.
    const broken = URL.createObjectURL(new Blob([
      "onmessage = (e) => postMessage({ id: e.data.id, error: 'WebAssembly is not allowed here' });",
    ], { type: 'text/javascript' }));
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    try {
      let spawned = 0;
      const offload = new WebHashOffload(() => (spawned++, new Worker(broken)));
      for (let i = 0; i < 2; i++) {
        expect(summary(await importLayer(new MemoryContentStore(), chunks(tar), { fileHasher: webBlake3, offload }))).toEqual(summary(plain));
      }
      expect(spawned).toBe(2);
      expect(warn).toHaveBeenCalledTimes(1);
      expect(String(warn.mock.calls[0]![0])).toMatch(/unavailable \(WebAssembly is not allowed here\)/);
    } finally {
      warn.mockRestore();
      URL.revokeObjectURL(broken);
    }
  });

  it('stops waiting for a worker that never answers, hashes on the page, and starts no other', async () => {
    // Loads, takes every chunk, and says nothing: what a stalled script fetch looks like
    // from the page, once the import has sent as much as it may.
    const silent = URL.createObjectURL(new Blob(['onmessage = () => {};'], { type: 'text/javascript' }));
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    try {
      let spawned = 0;
      const offload = new WebHashOffload(() => (spawned++, new Worker(silent)), { firstAnswerMs: 300 });
      const t0 = performance.now();
      const layer = await importLayer(new MemoryContentStore(), chunks(tar), { fileHasher: webBlake3, offload });
      expect(summary(layer)).toEqual(summary(plain));
      expect(performance.now() - t0).toBeGreaterThanOrEqual(300);
      expect(String(warn.mock.calls[0]![0])).toMatch(/the hashing worker is unavailable \(no answer within 300 ms\)/);
      // The next import does not wait again.
      expect(summary(await importLayer(new MemoryContentStore(), chunks(tar), { fileHasher: webBlake3, offload }))).toEqual(summary(plain));
      expect(spawned).toBe(1);
      expect(warn).toHaveBeenCalledTimes(1);
    } finally {
      warn.mockRestore();
      URL.revokeObjectURL(silent);
    }
  });

  it('fails the import when the worker dies after answering, keeps nothing, and the next import starts another', async () => {
    // Answers twice, then throws: what a worker that crashes mid-stream looks like.
    const dying = URL.createObjectURL(new Blob([`
      let n = 0;
      onmessage = (e) => {
        if (!e.data.chunk) return;
        postMessage({ id: e.data.id, acked: e.data.chunk.length });
        if (++n === 2) throw new Error('boom');
      };
    `], { type: 'text/javascript' }));
    let spawned = 0;
    const offload = new WebHashOffload(() => (++spawned === 1 ? new Worker(dying) : realWorker()));
    const content = new MemoryContentStore();
    await expect(importLayer(content, chunks(tar), { fileHasher: webBlake3, offload })).rejects.toThrow(/the hashing worker stopped/);
    const left: string[] = [];
    for await (const d of content.list()) left.push(d);
    expect(left).toEqual([]);
    expect((await importLayer(content, chunks(tar), { fileHasher: webBlake3, offload })).diffId).toBe(diffId);
    expect(spawned).toBe(2);
    URL.revokeObjectURL(dying);
    // The page's own sha256 agrees, for the record.
    expect(webSha256.once!(tar)).toBe(diffId);
  });
});
