/**
 * The library API end to end on the example image (an OCI layout made with umoci): load,
 * run in a worker, env/args/workdir from the config, output, diff, state across runs,
 * commit, exit codes, limits, and a kill that leaves the runtime working.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT, Runtime } from '../src/index.js';

const hello = fileURLToPath(new URL('../../examples/hello/image', import.meta.url));
const text = (b: Uint8Array) => new TextDecoder().decode(b);
let root: string;
let rt: Runtime;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'strata-rt-'));
  rt = await Runtime.open({ root });
  await rt.load(hello);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('Runtime', () => {
  it('runs the image: entrypoint + cmd, env, workdir, its files, and shows the diff', async () => {
    const r = await rt.run('strata-hello', { name: 'first' });
    expect(r.error).toBeUndefined();
    expect(r.exitCode).toBe(0);
    const out = text(r.stdout);
    expect(out).toContain('Hello from a WebAssembly container!');
    expect(out).toContain('argv: [/hello.wasm] [world]');
    expect(out).toContain('wrote /data/hello.txt');
    expect((await rt.diff('first')).map((c) => `${c.kind} ${c.path}`).sort()).toEqual(['A /data/hello.txt', 'C /data']);
  });

  it('runs the arguments as the command with an empty --entrypoint, as docker does', async () => {
    const r = await rt.run('strata-hello', { entrypoint: '', args: ['/hello.wasm', 'there'] });
    expect(r.exitCode).toBe(0);
    expect(text(r.stdout)).toContain('argv: [/hello.wasm] [there]');
  });

  it('keeps a container\'s changes across starts, and commits them into a new image', async () => {
    const c = await rt.create('strata-hello', { name: 'twice', args: ['again'], env: ['GREETING=Hi'] });
    expect((await rt.start(c.id).done).exitCode).toBe(0);
    expect((await rt.start(c.id).done).exitCode).toBe(0);
    const fs = await rt.overlay('twice');
    const h = fs.open(fs.lookup(fs.lookup(fs.root, 'data'), 'hello.txt'), { read: true, write: false });
    const buf = new Uint8Array(100);
    expect(text(buf.subarray(0, h.read(buf, 0)))).toBe('Hi, again\nHi, again\n');
    h.close();
    const img = await rt.commit('twice', 'hello-committed:1');
    expect(img.diffIds.length).toBe(3);
    const r = await rt.run('hello-committed:1', { args: ['third'], env: { GREETING: 'Yo' } });
    expect(r.exitCode).toBe(0);
    const fs3 = await rt.overlay(r.id);
    const h3 = fs3.open(fs3.lookup(fs3.lookup(fs3.root, 'data'), 'hello.txt'), { read: true, write: false });
    expect(text(buf.subarray(0, h3.read(buf, 0)))).toBe('Hi, again\nHi, again\nYo, third\n');
    h3.close();
  });

  it('answers 127 for a missing entrypoint and 126 for one that is not a module', async () => {
    expect((await rt.run('strata-hello', { entrypoint: '/nope.wasm' })).exitCode).toBe(EXIT.NOT_FOUND);
    const r = await rt.run('strata-hello', { entrypoint: '/etc/motd' });
    expect(r.exitCode).toBe(EXIT.NOT_RUNNABLE);
    expect(r.error).toMatch(/not a WebAssembly module/);
  });

  it('refuses a module whose memory does not fit the limit, and runs fine after', async () => {
    const r = await rt.run('strata-hello', { memory: 64 * 1024 });
    expect(r.exitCode).toBe(EXIT.NOT_RUNNABLE);
    expect(r.error).toMatch(/limit/);
    expect((await rt.run('strata-hello', { memory: 64 * 2 ** 20 })).exitCode).toBe(0);
  });

  it('reuses the compiled module on the next start', async () => {
    const hits = rt.modules.hits;
    await rt.run('strata-hello');
    expect(rt.modules.hits).toBeGreaterThan(hits);
  });

  it('runs 10 containers at once on one image without cross-talk', async () => {
    const rs = await Promise.all(Array.from({ length: 10 }, (_, i) => rt.run('strata-hello', { args: [`c${i}`], env: [`GREETING=G${i}`] })));
    for (const [i, r] of rs.entries()) {
      expect(r.exitCode).toBe(0);
      expect(text(r.stdout)).toContain(`G${i} from a WebAssembly container!`);
      const fs = await rt.overlay(r.id);
      const h = fs.open(fs.lookup(fs.lookup(fs.root, 'data'), 'hello.txt'), { read: true, write: false });
      const buf = new Uint8Array(100);
      expect(text(buf.subarray(0, h.read(buf, 0)))).toBe(`G${i}, c${i}\n`);
      h.close();
    }
  });
});
