import { expect } from 'vitest';
import { BrowserRuntime, type Bridge } from '@strata/runtime/browser';
import { readTar } from '@strata/store';
import { addToolImage, bigFile } from './tool-image.js';

export const workerUrl = new URL('../../../runtime/src/browser/container-worker.ts', import.meta.url);
export const readerUrl = new URL('../../../runtime/src/browser/idb-reader-worker.ts', import.meta.url);
export const hashWorkerUrl = new URL('../../../runtime/src/browser/hash-worker.ts', import.meta.url);

/**
 * The browser runtime's whole container lifecycle with one sync bridge: load a static OCI
 * layout, run, read a multi-chunk lower file through the bridge, ps, diff, a new runtime on
 * the same database (what a page reload does), commit and run the new image, export, kill
 * a spinning container (the runtime goes on), rm.
 */
export async function lifecycle(bridge: Bridge): Promise<void> {
  const dbName = `strata-${bridge}-${Date.now()}-${Math.random().toString(16).slice(2)}`;
  const rt = BrowserRuntime.open({ dbName, workerUrl, readerUrl, hashWorkerUrl, bridge });
  expect(rt.bridge).toBe(bridge);
  expect((await rt.loadLayout('/hello/image')).length).toBe(1);
  await addToolImage(rt);

  // hello: argv, the base layer's /etc/motd, a write to /data.
  const hello = await rt.create('strata-hello', { args: ['tab'], name: 'greeter' });
  const r = await rt.start('greeter');
  expect(r.error).toBeUndefined();
  expect(r.exitCode).toBe(0);
  expect(r.stdout).toContain('argv: [/hello.wasm] [tab]');
  expect(r.stdout).toContain('Welcome to Strata');
  expect(r.bridge).toBe(bridge);
  if (bridge === 'preload') expect(r.bridgeRequests).toBe(0);
  else expect(r.bridgeRequests).toBeGreaterThan(0);

  // A 1.1 MB lower file read by the guest in 4 KiB reads: every byte through the bridge.
  const big = await rt.run('strata-tool', { args: ['read', '/big.bin'] });
  expect(big.error).toBeUndefined();
  expect(big.exitCode).toBe(0);
  expect(big.stdout.length).toBe(bigFile().length);
  expect(big.stdout === new TextDecoder().decode(bigFile())).toBe(true);
  if (bridge !== 'preload') expect(big.bridgeRequests).toBeGreaterThanOrEqual(Math.ceil(bigFile().length / (256 * 1024)));

  // stdin given whole, and streamed while the program runs (it waits for the second line).
  const cat = await rt.run('strata-tool', { args: ['cat'], stdin: 'piped in\n' });
  expect(cat.stdout).toBe('piped in\n');
  const enc = new TextEncoder();
  async function* typed() {
    yield enc.encode('typed one\n');
    await new Promise((r) => setTimeout(r, 100));
    yield enc.encode('typed two\n');
  }
  const streamed = await rt.run('strata-tool', { args: ['cat'], stdin: typed() });
  expect(streamed.error).toBeUndefined();
  expect(streamed.stdout).toBe('typed one\ntyped two\n');

  // An output flood is stopped at the limit, with what came before it delivered.
  const flood = await rt.run('strata-tool', { args: ['read', '/big.bin'], outputLimit: 300_000 });
  expect(flood.exitCode).toBe(137);
  expect(flood.stdout.length).toBe(300_000);
  expect(flood.error).toMatch(/output limit/);

  const listed = await rt.list();
  expect(listed.map((c) => c.name)).toContain('greeter');
  expect(listed.find((c) => c.name === 'greeter')).toMatchObject({ status: 'exited', exitCode: 0 });
  expect(await rt.diff('greeter')).toEqual([{ kind: 'C', path: '/data' }, { kind: 'A', path: '/data/hello.txt' }]);

  // A reload: a new runtime on the same database finds the container and its files.
  const again = BrowserRuntime.open({ dbName, workerUrl, readerUrl, hashWorkerUrl, bridge });
  expect((await again.start(hello.id)).exitCode).toBe(0);
  const committed = await again.commit('greeter', 'greeter-snapshot:1');
  expect(committed.diffIds.length).toBe(3);
  const fromCommit = await again.run('greeter-snapshot:1', { args: ['committed'] });
  expect(fromCommit.exitCode).toBe(0);
  const snapshotDiff = await again.diff(fromCommit.id);
  expect(snapshotDiff).toEqual([{ kind: 'C', path: '/data' }, { kind: 'C', path: '/data/hello.txt' }]);

  const tar = new Uint8Array(await (await again.export('greeter')).arrayBuffer());
  const names: string[] = [];
  for await (const { header } of readTar((async function* () { yield tar; })())) names.push(header.name);
  expect(names).toEqual(expect.arrayContaining(['etc/motd', 'hello.wasm', 'data/hello.txt']));

  // kill: a spinning guest is stopped with 137; the runtime runs the next container.
  const spin = await again.create('strata-tool', { args: ['loop'], name: 'spinner' });
  const running = again.start('spinner');
  for (let i = 0; i < 100 && (await again.get('spinner')).status !== 'running'; i++) await new Promise((res) => setTimeout(res, 20));
  expect((await again.info()).ContainersRunning).toBe(1);
  await again.kill(spin.id);
  const killed = await running;
  expect(killed.exitCode).toBe(137);
  expect((await again.run('strata-tool', { args: ['exit', '7'] })).exitCode).toBe(7);

  await again.remove('spinner');
  expect((await again.list()).map((c) => c.name)).not.toContain('spinner');
  const info = await again.info();
  expect(info).toMatchObject({ Driver: 'overlay', BackingStore: 'indexeddb', Bridge: bridge, Images: 3, ContainersRunning: 0 });
  rt.close();
  again.close();
}
