/**
 * `pnpm bench image [--runs N]`: pulling from Debian's docker-registry on 127.0.0.1, in one
 * run, medians of N (default 3):
 *
 * - pull + unpack of an image of ~100 MB in 20 layers (made with umoci, pushed with skopeo):
 *   Strata's pull (download, verify, import every layer into the layer store) against
 *   `skopeo copy docker://… oci:…` + `umoci raw unpack` (goal: Strata ≤ 1.0×);
 * - the store size after pulling two images that share 18 of their 20 layers, against the
 *   sum of their sizes (goal: shared bytes stored once);
 * - load of the same image as a `docker save` tar (skopeo's docker-archive, layers
 *   uncompressed) against `skopeo copy docker-archive:… oci:…` + `umoci raw unpack`.
 */
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ImageStore, pull } from '@strata/image';
import { DiskImageMeta, loadImages } from '@strata/image/node';
import { DiskContentStore, DiskLayerStore, nodeGunzip, nodeHashOffload, nodeSha256 } from '@strata/store/node';
import { formatTime, markdownTable, median } from './table.js';

const { values: opts } = parseArgs({ options: { runs: { type: 'string', default: '3' } } });
const RUNS = Number(opts.runs);
// What the runtime gives its image store (runtime.ts).
const PLATFORM = { hasher: nodeSha256, gunzip: nodeGunzip, ...(process.env.NO_OFFLOAD ? {} : { offload: nodeHashOffload() }) };
const work = mkdtempSync(join('/dev/shm', 'strata-bench-image-'));

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

function du(dir: string): number {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    n += e.isDirectory() ? du(p) : statSync(p).size;
  }
  return n;
}

const time = async (fn: () => Promise<unknown> | unknown) => {
  const t0 = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t0);
};

const port = await freePort();
const host = `127.0.0.1:${port}`;
const config = join(work, 'registry.yml');
writeFileSync(config, `version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: ${work}/registry\nhttp:\n  addr: ${host}\n`);
const registry = spawn('docker-registry', ['serve', config], { stdio: 'ignore' });
try {
  for (let i = 0; i < 100; i++) {
    try {
      if ((await fetch(`http://${host}/v2/`)).ok) break;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  // Two images of 20 layers, ~5 MB each, sharing their first 18 layers.
  const layout = join(work, 'layout');
  const umoci = (...a: string[]) => execFileSync('umoci', a, { stdio: 'pipe' });
  umoci('init', '--layout', layout);
  const layerTar = (name: string) => {
    const dir = join(work, 'src', name);
    mkdirSync(dir, { recursive: true });
    for (let f = 0; f < 10; f++) {
      // Random bytes: layers that do not compress, as binaries mostly do not.
      writeFileSync(join(dir, `f${f}`), randomBytes(512 * 1024));
    }
    const tar = join(work, `${name}.tar`);
    execFileSync('tar', ['-cf', tar, '-C', join(work, 'src'), name]);
    return tar;
  };
  const shared = Array.from({ length: 18 }, (_, i) => layerTar(`shared${i}`));
  for (const [tag, own] of [['a', ['a18', 'a19']], ['b', ['b18', 'b19']]] as const) {
    umoci('new', '--image', `${layout}:${tag}`);
    for (const t of [...shared, ...own.map(layerTar)]) umoci('raw', 'add-layer', '--image', `${layout}:${tag}`, t);
    umoci('config', '--image', `${layout}:${tag}`, '--os', 'wasip1', '--architecture', 'wasm');
    execFileSync('skopeo', ['copy', '--dest-tls-verify=false', `oci:${layout}:${tag}`, `docker://${host}/big:${tag}`], { stdio: 'pipe' });
  }

  const strata: number[] = [];
  const peer: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    const root = join(work, `strata${r}`);
    strata.push(await time(async () => {
      const images = new ImageStore(new DiskContentStore(root), new DiskLayerStore(root), new DiskImageMeta(root), PLATFORM);
      await pull(images, `${host}/big:a`, { plainHttp: true });
    }));
    rmSync(root, { recursive: true, force: true });
    const out = join(work, `skopeo${r}`);
    mkdirSync(out);
    peer.push(await time(() => {
      execFileSync('skopeo', ['copy', '--src-tls-verify=false', `docker://${host}/big:a`, `oci:${out}/layout:a`], { stdio: 'pipe' });
      execFileSync('umoci', ['raw', 'unpack', '--rootless', '--image', `${out}/layout:a`, `${out}/rootfs`], { stdio: 'pipe' });
    }));
    rmSync(out, { recursive: true, force: true });
  }

  // Sharing: both images into one root.
  const root = join(work, 'shared-root');
  const images = new ImageStore(new DiskContentStore(root), new DiskLayerStore(root), new DiskImageMeta(root), PLATFORM);
  const a = await pull(images, `${host}/big:a`, { plainHttp: true });
  const b = await pull(images, `${host}/big:b`, { plainHttp: true });
  const imageBytes = (img: typeof a) => img.layers.reduce((n, l) => n + l.size, 0);
  const stored = du(join(root, 'blobs'));
  const rootA = join(work, 'only-a');
  const imagesA = new ImageStore(new DiskContentStore(rootA), new DiskLayerStore(rootA), new DiskImageMeta(rootA), PLATFORM);
  await pull(imagesA, `${host}/big:a`, { plainHttp: true });
  const oneImage = du(join(rootA, 'blobs'));

  // Load: the image as docker save writes it.
  const archive = join(work, 'a-docker.tar');
  execFileSync('skopeo', ['copy', '--src-tls-verify=false', `docker://${host}/big:a`, `docker-archive:${archive}:big:a`], { stdio: 'pipe' });
  const loadStrata: number[] = [];
  const loadPeer: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    const root = join(work, `load${r}`);
    loadStrata.push(await time(() => loadImages(new ImageStore(new DiskContentStore(root), new DiskLayerStore(root), new DiskImageMeta(root), PLATFORM), archive)));
    rmSync(root, { recursive: true, force: true });
    const out = join(work, `skopeo-load${r}`);
    mkdirSync(out);
    loadPeer.push(await time(() => {
      execFileSync('skopeo', ['copy', `docker-archive:${archive}`, `oci:${out}/layout:a`], { stdio: 'pipe' });
      execFileSync('umoci', ['raw', 'unpack', '--rootless', '--image', `${out}/layout:a`, `${out}/rootfs`], { stdio: 'pipe' });
    }));
    rmSync(out, { recursive: true, force: true });
  }

  const s = median(strata);
  const p = median(peer);
  const ls = median(loadStrata);
  const lp = median(loadPeer);
  const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;
  console.log(`image benchmark (local docker-registry), medians of ${RUNS}\n`);
  console.log(markdownTable([
    ['measure', 'Strata', 'reference', 'ratio', 'goal'],
    [`pull + unpack, 20 layers, ${mb(imageBytes(a))} compressed`, formatTime(s), `skopeo copy + umoci raw unpack: ${formatTime(p)}`, `${(s / p).toFixed(2)}×`, '≤ 1.0×'],
    [`load of a docker save tar, ${mb(statSync(archive).size)}`, formatTime(ls), `skopeo copy + umoci raw unpack: ${formatTime(lp)}`, `${(ls / lp).toFixed(2)}×`, ''],
    ['store after pulling two images sharing 18 of 20 layers', mb(stored), `one image alone: ${mb(oneImage)}; two stored apart: ${mb(2 * oneImage)}`, `${(stored / oneImage).toFixed(2)}× one image`, 'shared bytes once'],
  ]));
  if (b.diffIds.slice(0, 18).join() !== a.diffIds.slice(0, 18).join()) throw new Error('the two images should share 18 layers');
} finally {
  registry.kill();
  rmSync(work, { recursive: true, force: true });
}
