/**
 * A CNCF wasm artifact (config `application/vnd.wasm.config.v0+json`, one `application/wasm`
 * layer): no root filesystem, the module is the whole image, and it runs.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startTicks } from '@strata/store/node';
import { Runtime } from '../src/index.js';

const root = mkdtempSync(join(tmpdir(), 'strata-artifact-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('wasm artifact images', () => {
  it('runs the module with an empty rootfs', async () => {
    const rt = await Runtime.open({ root });
    const module = new Uint8Array(readFileSync(new URL('../../test/e2e/guests/tool.wasm', import.meta.url)));
    const moduleDigest = await rt.content.put(module);
    const config = new TextEncoder().encode(JSON.stringify({ created: '2026-01-01T00:00:00Z', architecture: 'wasm', os: 'wasip1' }));
    const configDigest = await rt.content.put(config);
    const manifest = await rt.content.put(new TextEncoder().encode(JSON.stringify({
      schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', artifactType: 'application/vnd.wasm.config.v0+json',
      config: { mediaType: 'application/vnd.wasm.config.v0+json', digest: configDigest, size: config.length },
      layers: [{ mediaType: 'application/wasm', digest: moduleDigest, size: module.length }],
    })));
    const img = await rt.images.addFromManifest(manifest, ['tool-artifact:1']);
    expect(img.wasmModule).toBe(moduleDigest);
    expect(img.diffIds).toEqual([]);
    const r = await rt.run('tool-artifact:1', { args: ['env'], env: ['X=1'] });
    expect(r.error).toBeUndefined();
    expect(r.exitCode).toBe(0);
    expect(new TextDecoder().decode(r.stdout)).toBe('arg /module.wasm\narg env\nenv X=1\n');
    const ls = await rt.run('tool-artifact:1', { args: ['read', '/etc/motd'] });
    expect(new TextDecoder().decode(ls.stdout)).toMatch(/^error /);
  });

  it('reports a guest that overflows its stack as a trap, and exit statuses in 8 bits', async () => {
    const rt = await Runtime.open({ root });
    const r = await rt.run('tool-artifact:1', { args: ['recurse'] });
    expect(r.exitCode).toBe(134);
    expect(new TextDecoder().decode(r.stderr)).toMatch(/trapped: Maximum call stack size exceeded/);
    expect((await rt.run('tool-artifact:1', { args: ['exit', '256'] })).exitCode).toBe(0);
    expect((await rt.run('tool-artifact:1', { args: ['exit', '300'] })).exitCode).toBe(44);
    const c = await rt.create('tool-artifact:1', { args: ['exit', '-1'] });
    expect(await rt.start(c.id).done).toEqual({ exitCode: 255 });
    expect(rt.containers.state(c.id).exitCode).toBe(255);
  });

  it('records when each run started, not the run before', async () => {
    const rt = await Runtime.open({ root });
    const c = await rt.create('tool-artifact:1', { args: ['spew', '64'] });
    await rt.start(c.id, { onOutput: () => {} }).done;
    const first = rt.containers.state(c.id);
    expect(first.startedAt! < first.finishedAt!).toBe(true);
    await rt.start(c.id, { onOutput: () => {} }).done;
    const second = rt.containers.state(c.id);
    expect(second.startedAt! >= first.finishedAt!).toBe(true);
  });

  it('holds a program that writes faster than its output is taken, and keeps the host\'s memory flat', async () => {
    const rt = await Runtime.open({ root });
    // A consumer that takes 1 MiB every 5 ms: the program (on a worker: it has a time limit)
    // must wait for it, a window of 4 MiB ahead at most.
    let unsettled = 0;
    let most = 0;
    const slow = await rt.run('tool-artifact:1', {
      args: ['spew', '32'], timeoutSeconds: 60, autoRemove: true,
      onOutput: (_s, b) => {
        unsettled += b.length;
        most = Math.max(most, unsettled);
        return new Promise<void>((resolve) => setTimeout(() => {
          unsettled -= b.length;
          resolve();
        }, 5));
      },
    });
    expect(slow.exitCode).toBe(0);
    expect(most).toBeLessThanOrEqual(6 * 2 ** 20);
    // A fast one: 512 MiB through the host, whose memory stays near where it was.
    let peak = 0;
    const before = process.memoryUsage().rss;
    const sample = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
    const fast = await rt.run('tool-artifact:1', { args: ['spew', '512'], timeoutSeconds: 60, autoRemove: true, onOutput: () => {} });
    clearInterval(sample);
    expect(fast.exitCode).toBe(0);
    expect(peak - before).toBeLessThan(300 * 2 ** 20);
  }, 60_000);

  it('refuses to signal a process that runs other work, and takes no reused pid for a runner', async () => {
    const rt = await Runtime.open({ root });
    const c = await rt.create('tool-artifact:1', { args: ['loop'], timeoutSeconds: 60 });
    // Started by the library in this process, which runs other work too (a service).
    const run = rt.start(c.id);
    const elsewhere = await Runtime.open({ root });
    await expect(elsewhere.kill(c.id)).rejects.toThrow(/runs in process \d+ with other work/);
    expect(rt.containers.state(c.id).status).toBe('running');
    await rt.kill(c.id);
    expect((await run.done).exitCode).toBe(137);
    // A record naming this process's pid with another start: a process that is gone.
    rt.containers.setState(c.id, { status: 'running', pid: process.pid, pidStart: '1' });
    expect(rt.containers.state(c.id).status).toBe('exited');
    rt.containers.setState(c.id, { status: 'running', pid: process.pid, pidStart: startTicks(process.pid)! });
    expect(rt.containers.state(c.id).status).toBe('running');
  });

  it('wakes a program polling its stdin when input comes, not at its timeout', async () => {
    const rt = await Runtime.open({ root });
    // Sent well after the program started polling (a worker starts in ~200 ms).
    async function* typed() {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      yield new TextEncoder().encode('typed\n');
    }
    const t0 = performance.now();
    const r = await rt.run('tool-artifact:1', { args: ['poll', '5000'], stdin: typed(), autoRemove: true });
    expect(new TextDecoder().decode(r.stdout)).toBe('poll=1\ntyped\n');
    expect(performance.now() - t0).toBeLessThan(3000);
  });
});
