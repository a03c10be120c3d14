/**
 * Concurrent users of one image store — async work in one process, and processes sharing a
 * disk root — lose nothing another stored: image-list changes do not overwrite each other,
 * and a collection leaves alone what a pull, load or commit in flight has stored.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { MemoryContentStore, MemoryLayerStore, type Digest } from '@strata/store';
import { nodeSha256 } from '@strata/store/node';
import { ImageStore, MemoryImageMeta } from '../src/index.js';
import { breakStaleLock, DiskGuard, lockHolder } from '../src/node/disk-guard.js';
import { loadImages } from '../src/node/index.js';
import { diskStore, hello, tempDirs } from './fixtures.js';

/** The pid of a process that has exited: what a lock left by a killed holder names. */
function deadPid(): string {
  return spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout;
}

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const tmp = tempDirs('strata-guard-');

async function blobs(store: ImageStore): Promise<Digest[]> {
  const out: Digest[] = [];
  for await (const d of store.content.list()) out.push(d);
  return out.sort();
}

/** Run a script in another Node process with the workspace's sources. */
function script(code: string) {
  return spawn(process.execPath, ['--conditions=strata-source', '--import', 'tsx', '--input-type=module', '-e', code], { cwd: packageDir, stdio: ['pipe', 'pipe', 'inherit'] });
}

function exited(child: ReturnType<typeof spawn>): Promise<number | null> {
  return new Promise((resolve) => child.on('exit', (code) => resolve(code)));
}

describe('the store guard', () => {
  it('keeps what an import in flight stored while an rmi collects, until the import is over', async () => {
    const store = diskStore(tmp());
    await loadImages(store, hello);
    await store.tag('strata-hello', 'victim:1');
    const helloBlobs = await blobs(store);
    // A pull half way: a blob stored, no image naming it yet.
    let fresh: Digest | undefined;
    let finish!: () => void;
    const inFlight = store.withLease(async () => {
      fresh = await store.content.put(new TextEncoder().encode('a layer that has just arrived'));
      await new Promise<void>((resolve) => (finish = resolve));
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(fresh).toBeDefined();
    await store.remove('victim:1');
    const removed = await store.remove('strata-hello');
    expect(removed.deleted).toBeDefined();
    expect(removed.collectionDeferred).toBe(true);
    // Nothing collected while the lease is held: the fresh blob, and the image's too.
    expect(await blobs(store)).toEqual([...helloBlobs, fresh!].sort());
    expect(await store.gc()).toEqual({ layers: [], blobs: [], deferred: true });
    finish();
    await inFlight;
    const collected = await store.gc();
    expect(collected.deferred).toBeUndefined();
    expect(await blobs(store)).toEqual([]);
    expect(await store.layers.list()).toEqual([]);
  });

  it('keeps every change of the image list made side by side in one process, in memory and on disk', async () => {
    const memory = new ImageStore(new MemoryContentStore(nodeSha256), new MemoryLayerStore(), new MemoryImageMeta(), { hasher: nodeSha256 });
    for (const store of [memory, diskStore(tmp())]) {
      await loadImages(store, hello);
      await Promise.all(Array.from({ length: 20 }, (_, i) => store.tag('strata-hello', `t${i}:1`)));
      const [entry] = await store.list();
      expect(entry!.names.length).toBe(21);
    }
  });

  it('loses no tag when four processes tag one root at once', async () => {
    const root = tmp();
    await loadImages(diskStore(root), hello);
    const children = [0, 1, 2, 3].map((p) => script(`
      import { ImageStore } from '@strata/image';
      import { DiskImageMeta } from '@strata/image/node';
      import { DiskContentStore, DiskLayerStore } from '@strata/store/node';
      const root = ${JSON.stringify(root)};
      const store = new ImageStore(new DiskContentStore(root), new DiskLayerStore(root), new DiskImageMeta(root));
      for (let i = 0; i < 25; i++) await store.tag('strata-hello', 'p${p}-' + i + ':1');
    `));
    expect(await Promise.all(children.map(exited))).toEqual([0, 0, 0, 0]);
    const [entry] = await diskStore(root).list();
    expect(entry!.names.length).toBe(1 + 4 * 25);
    expect(existsSync(join(root, 'lock'))).toBe(false);
  }, 60_000);

  it("defers collection while another process holds a lease, and not after that process is gone", async () => {
    const root = tmp();
    const store = diskStore(root);
    await loadImages(store, hello);
    const child = script(`
      import { DiskGuard } from './src/node/disk-guard.ts';
      await new DiskGuard(${JSON.stringify(root)}).lease();
      console.log('leased');
      setInterval(() => {}, 1000);
    `);
    await new Promise<void>((resolve) => child.stdout!.on('data', (d: Buffer) => d.toString().includes('leased') && resolve()));
    expect(await store.leases()).toBe(1);
    await store.remove('strata-hello');
    expect(await store.gc()).toEqual({ layers: [], blobs: [], deferred: true });
    expect((await blobs(store)).length).toBeGreaterThan(0);
    // Killed in its lease: the lease is stale, and the next collection goes ahead.
    child.kill('SIGKILL');
    await exited(child);
    expect(await store.leases()).toBe(0);
    expect((await store.gc()).deferred).toBeUndefined();
    expect(await blobs(store)).toEqual([]);
    expect(readdirSync(join(root, 'leases'))).toEqual([]);
  }, 60_000);

  it('takes over a lock left by a process that died holding it', async () => {
    const root = tmp();
    const store = diskStore(root);
    await loadImages(store, hello);
    const dead = deadPid();
    writeFileSync(join(root, 'lock'), dead);
    await store.tag('strata-hello', 'after:1');
    expect(await store.names((await store.resolve('after:1')).id)).toContain('after:1');
    expect(existsSync(join(root, 'lock'))).toBe(false);
  });

  it('does not remove, as stale, a lock that another waiter took over since', async () => {
    const root = tmp();
    const lock = join(root, 'lock');
    const dead = deadPid();
    writeFileSync(lock, dead);
    expect(lockHolder(lock)).toEqual({ stale: dead });
    // One waiter takes the stale lock over; another, which had found it stale too, then
    // breaks it with what it saw.
    let letGo!: () => void;
    let entered = false;
    const inside = new DiskGuard(root).exclusive(() => new Promise<void>((resolve) => {
      entered = true;
      letGo = resolve;
    }));
    while (!entered) await new Promise((resolve) => setTimeout(resolve, 5));
    const taken = readFileSync(lock, 'utf8');
    expect(lockHolder(lock)).toBe(process.pid);
    expect(breakStaleLock(lock, dead)).toBe(true);
    expect(readFileSync(lock, 'utf8')).toBe(taken);
    expect(existsSync(`${lock}.break`)).toBe(false);
    letGo();
    await inside;
    expect(existsSync(lock)).toBe(false);
  });

  it('tells a lock or lease of a process that is gone from one of a live process given its pid again', async () => {
    const root = tmp();
    const lock = join(root, 'lock');
    // This process's own start, as the guard writes it: /proc/<pid>/stat, field 22.
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const start = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]!;
    await new DiskGuard(root).exclusive(async () => {
      expect(readFileSync(lock, 'utf8')).toBe(`${process.pid} ${start}`);
    });
    // A holder that had this pid and started at another time: gone, its pid reused.
    writeFileSync(lock, `${process.pid} ${Number(start) - 1}`);
    expect(lockHolder(lock)).toEqual({ stale: `${process.pid} ${Number(start) - 1}` });
    writeFileSync(lock, `${process.pid} ${start}`);
    expect(lockHolder(lock)).toBe(process.pid);
    // A lock that names no start (written where /proc was not to be had) goes by the pid.
    writeFileSync(lock, String(process.pid));
    expect(lockHolder(lock)).toBe(process.pid);
    rmSync(lock);
    // Leases likewise: a reused pid's lease is removed, a live one's and one without a start kept.
    mkdirSync(join(root, 'leases'));
    for (const name of [`${process.pid}-0-${Number(start) - 1}`, `${process.pid}-1-${start}`, `${process.pid}-2`]) writeFileSync(join(root, 'leases', name), '');
    expect(await new DiskGuard(root).leases()).toBe(2);
    expect(readdirSync(join(root, 'leases')).sort()).toEqual([`${process.pid}-1-${start}`, `${process.pid}-2`]);
    // And a lease this guard takes names this process's start.
    const lease = await new DiskGuard(root).lease();
    expect(readdirSync(join(root, 'leases'))).toContain(`${process.pid}-0-${start}`);
    lease.release();
  });

  it('clears a break file left by a waiter that died breaking the lock, then takes the lock over', async () => {
    const root = tmp();
    writeFileSync(join(root, 'lock'), deadPid());
    writeFileSync(join(root, 'lock.break'), deadPid());
    let ran = false;
    await new DiskGuard(root).exclusive(async () => {
      ran = true;
    });
    expect(ran).toBe(true);
    expect(readdirSync(root).filter((f) => f.startsWith('lock'))).toEqual([]);
  });

  it('waits for a live holder of the lock and goes on when it lets go', async () => {
    const root = tmp();
    const guard = new DiskGuard(root);
    const order: string[] = [];
    let letGo!: () => void;
    const first = guard.exclusive(async () => {
      order.push('first in');
      await new Promise<void>((resolve) => (letGo = resolve));
      order.push('first out');
    });
    await new Promise((resolve) => setTimeout(resolve, 10));
    // Another guard over the same root: as another process would see the lock file.
    const second = new DiskGuard(root).exclusive(async () => {
      order.push('second');
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(order).toEqual(['first in']);
    letGo();
    await Promise.all([first, second]);
    expect(order).toEqual(['first in', 'first out', 'second']);
  });
});
