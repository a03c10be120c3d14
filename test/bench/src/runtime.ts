/**
 * `pnpm bench runtime [--runs N]`: the container runtime's figures, medians of N, in one run.
 *
 * - `strata run --rm strata-hello` as a whole process (the built CLI), against `node`
 *   running the same module under node:wasi: goal ≤ 1.3×;
 * - the second start of a large module (~30 MB of code, generated here) against the first,
 *   in one process through the library API: the compiled-module cache must show;
 * - containers started per second on this machine (library API, 40 at once);
 * - resident memory per idle container (containers blocked reading stdin).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { Runtime as RuntimeClass } from '@strata/runtime';
import { formatTime, markdownTable, median } from './table.js';

const { values: opts } = parseArgs({ options: { runs: { type: 'string', default: '5' } } });
const RUNS = Number(opts.runs);
const repo = fileURLToPath(new URL('../../../', import.meta.url));
const cli = join(repo, 'runtime/dist/bundle/strata.js');
const helloImage = join(repo, 'examples/hello/image');
const helloWasm = join(repo, 'examples/hello/hello.wasm');
const toolWasm = join(repo, 'test/e2e/guests/tool.wasm');
const work = mkdtempSync(join(tmpdir(), 'strata-bench-rt-'));
const root = join(work, 'root');

/** A timed process that failed would time nothing worth printing. */
function succeeded(r: { status: number | null }): void {
  if (r.status !== 0) throw new Error(`a benchmark process exited with ${r.status}`);
}

const ns = (fn: () => void) => {
  const t0 = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t0);
};

/** A module with `count` functions of straight-line arithmetic: big code, slow to compile. */
function bigModule(count: number): Uint8Array {
  const u32 = (v: number) => {
    const out: number[] = [];
    do {
      let b = v & 0x7f;
      v >>>= 7;
      if (v) b |= 0x80;
      out.push(b);
    } while (v);
    return out;
  };
  const section = (id: number, body: number[]) => [id, ...u32(body.length), ...body];
  const str = (s: string) => [...u32(s.length), ...new TextEncoder().encode(s)];
  const body: number[] = [0x00, 0x20, 0x00];
  for (let i = 0; i < 150; i++) body.push(0x41, ...u32(i + 1), 0x6a, 0x41, 3, 0x6c); // (x + i) * 3
  body.push(0x0b);
  const fbody = [...u32(body.length), ...body];
  const types = [2, 0x60, 1, 0x7f, 1, 0x7f, 0x60, 0, 0];
  const funcs = [...u32(count + 1), ...new Array<number>(count).fill(0), 1];
  const exports = [2, ...str('memory'), 2, 0, ...str('_start'), 0, ...u32(count)];
  // _start calls every function once, so each is compiled (V8 compiles wasm lazily).
  const start: number[] = [0x00];
  for (let i = 0; i < count; i++) start.push(0x41, 1, 0x10, ...u32(i), 0x1a);
  start.push(0x0b);
  const code: number[] = [...u32(count + 1)];
  for (let i = 0; i < count; i++) for (const b of fbody) code.push(b);
  for (const b of [...u32(start.length)]) code.push(b);
  for (const b of start) code.push(b);
  const head = [0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, ...section(1, types), ...section(3, funcs), ...section(5, [1, 0, 1]), ...section(7, exports)];
  const codeHead = [10, ...u32(code.length)];
  const out = new Uint8Array(head.length + codeHead.length + code.length);
  out.set(head, 0);
  out.set(codeHead, head.length);
  out.set(code, head.length + codeHead.length);
  return out;
}

/** An image whose one layer holds `module` as /big.wasm, its entrypoint. */
async function imageWithModule(rt: RuntimeClass, module: Uint8Array, name: string): Promise<void> {
  const tar = await import('tar-stream');
  const pack = tar.pack();
  const chunks: Uint8Array[] = [];
  const done = (async () => { for await (const c of pack as unknown as AsyncIterable<Uint8Array>) chunks.push(c); })();
  await new Promise<void>((res, rej) => pack.entry({ name: 'big.wasm', mode: 0o755 }, Buffer.from(module), (e) => (e ? rej(e) : res())));
  pack.finalize();
  await done;
  const layer = Buffer.concat(chunks);
  const layerDigest = await rt.content.put(layer);
  const config = new TextEncoder().encode(JSON.stringify({
    os: 'wasip1', architecture: 'wasm', config: { Entrypoint: ['/big.wasm'] }, rootfs: { type: 'layers', diff_ids: [layerDigest] },
  }));
  const configDigest = await rt.content.put(config);
  const manifest = await rt.content.put(new TextEncoder().encode(JSON.stringify({
    schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: config.length },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: layerDigest, size: layer.length }],
  })));
  await rt.images.addFromManifest(manifest, [name]);
}

try {
  execFileSync(process.execPath, [cli, '--root', root, 'load', '-i', helloImage], { stdio: 'pipe' });

  // 1. whole-process wall time
  const nodeWasi = join(work, 'node-wasi.mjs');
  writeFileSync(nodeWasi, `import { readFileSync } from 'node:fs'; import { WASI } from 'node:wasi';
const wasi = new WASI({ version: 'preview1', args: ['/hello.wasm', 'world'], env: { GREETING: 'Hello' }, preopens: { '/': process.argv[2] }, returnOnExit: true });
const m = new WebAssembly.Module(readFileSync(process.argv[3]));
process.exitCode = wasi.start(new WebAssembly.Instance(m, wasi.getImportObject()));`);
  const fsRoot = join(work, 'hello-rootfs');
  mkdirSync(join(fsRoot, 'etc'), { recursive: true });
  mkdirSync(join(fsRoot, 'data'));
  writeFileSync(join(fsRoot, 'etc/motd'), 'motd\n');
  const strataRun: number[] = [];
  const nodeRun: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    strataRun.push(ns(() => succeeded(spawnSync(process.execPath, [cli, '--root', root, 'run', '--rm', 'strata-hello'], { stdio: 'ignore' }))));
    nodeRun.push(ns(() => succeeded(spawnSync(process.execPath, ['--no-warnings', nodeWasi, fsRoot, helloWasm], { stdio: 'ignore' }))));
  }

  // 2. compiled-module cache: first vs second start of a ~30 MB module
  const big = bigModule(60_000);
  // The library as users run it: the built package (workers then load built code too).
  const { Runtime } = (await import(join(repo, 'runtime/dist/index.js'))) as { Runtime: typeof RuntimeClass };
  const rt = await Runtime.open({ root });
  await imageWithModule(rt, big, 'big:1');
  const time = async (fn: () => Promise<unknown>) => {
    const t0 = process.hrtime.bigint();
    await fn();
    return Number(process.hrtime.bigint() - t0);
  };
  // 4. resident memory per idle container (blocked on stdin)
  const toolDir = join(work, 'tool');
  mkdirSync(toolDir);
  writeFileSync(join(toolDir, 'tool.wasm'), new Uint8Array(execFileSync('cat', [toolWasm])));
  const IDLE = 20;
    const before = process.memoryUsage().rss;
  const held: { release(): void; done: Promise<unknown> }[] = [];
  for (let i = 0; i < IDLE; i++) {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const stdin = (async function* () {
      await gate;
    })();
    const c = await rt.create('strata-hello', { entrypoint: '/t/tool.wasm', args: ['cat'], mounts: [{ host: toolDir, guest: '/t', readOnly: true }], autoRemove: true });
    const s = rt.start(c.id, { stdin, onOutput: () => {} });
    held.push({ release, done: s.done });
  }
  await new Promise((r) => setTimeout(r, 1500));
  const during = process.memoryUsage().rss;
  for (const h of held) h.release();
  await Promise.all(held.map((h) => h.done));
  const perIdle = (during - before) / IDLE;

  // A run that failed would time nothing worth printing.
  const ok = async (p: Promise<{ exitCode: number; error?: string }>) => {
    const r = await p;
    if (r.exitCode !== 0) throw new Error(`a benchmark container failed (${r.exitCode}): ${r.error ?? ''}`);
  };
  const first = await time(() => ok(rt.run('big:1', { autoRemove: true })));
  const again: number[] = [];
  for (let r = 0; r < RUNS; r++) again.push(await time(() => ok(rt.run('big:1', { autoRemove: true }))));

  // 3. containers per second, 40 at once
  const N = 40;
  const burst: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    burst.push(await time(() => Promise.all(Array.from({ length: N }, () => ok(rt.run('strata-hello', { autoRemove: true }))))));
  }
  const rate = N / (median(burst) / 1e9);

  const s = median(strataRun);
  const n = median(nodeRun);
  console.log(`runtime benchmark, medians of ${RUNS}\n`);
  console.log(markdownTable([
    ['measure', 'Strata', 'reference', 'ratio', 'goal'],
    ['`strata run --rm strata-hello`, whole process', formatTime(s), `node + node:wasi: ${formatTime(n)}`, `${(s / n).toFixed(2)}×`, '≤ 1.3×'],
    [`start of a ${(big.length / 2 ** 20).toFixed(0)} MiB module, second vs first (library)`, formatTime(median(again)), `first: ${formatTime(first)}`, `${(median(again) / first).toFixed(2)}×`, 'cache shows'],
    [`containers started per second (${N} at once, 2 cores)`, `${rate.toFixed(0)}/s`, '', '', ''],
    [`resident memory per idle container (${IDLE} blocked on stdin)`, `${(perIdle / 2 ** 20).toFixed(1)} MiB`, '', '', ''],
  ]));
} finally {
  rmSync(work, { recursive: true, force: true });
}
