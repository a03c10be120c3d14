/**
 * The committed hello image is a valid OCI image layout that carries the committed
 * hello.wasm, and the program does what the README says when run on that image's rootfs.
 */
import { createHash } from 'node:crypto';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WASI } from 'node:wasi';
import { gunzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';

const here = fileURLToPath(new URL('../', import.meta.url));
const layout = join(here, 'image');

interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
}

const sha256 = (b: Uint8Array) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** Read a blob and check it against its descriptor (image-spec descriptor.md: digest, size). */
function blob(d: Descriptor): Buffer {
  const data = readFileSync(join(layout, 'blobs', ...d.digest.split(':')));
  expect(data.length, d.digest).toBe(d.size);
  expect(sha256(data)).toBe(d.digest);
  return data;
}

interface TarEntry {
  name: string;
  type: string;
  mode: number;
  data: Buffer;
}

/** Enough of POSIX tar (ustar headers, pax `path` records) to list the example's layers. */
function untar(tar: Buffer): TarEntry[] {
  const entries: TarEntry[] = [];
  let paxPath: string | undefined;
  for (let off = 0; off + 512 <= tar.length; ) {
    const h = tar.subarray(off, off + 512);
    if (h.every((b) => b === 0)) break;
    const field = (start: number, len: number) => h.subarray(start, start + len).toString('latin1').replace(/\0.*$/s, '');
    const size = parseInt(field(124, 12).trim() || '0', 8);
    const type = field(156, 1) || '0';
    const prefix = field(345, 155);
    const data = tar.subarray(off + 512, off + 512 + size);
    off += 512 + Math.ceil(size / 512) * 512;
    if (type === 'x') {
      paxPath = /\d+ path=([^\n]*)\n/.exec(data.toString('utf8'))?.[1];
      continue;
    }
    const name = paxPath ?? (prefix ? `${prefix}/${field(0, 100)}` : field(0, 100));
    paxPath = undefined;
    entries.push({ name: name.replace(/^\.\//, '').replace(/\/$/, ''), type, mode: parseInt(field(100, 8), 8), data: Buffer.from(data) });
  }
  return entries;
}

function loadImage() {
  expect(JSON.parse(readFileSync(join(layout, 'oci-layout'), 'utf8'))).toEqual({ imageLayoutVersion: '1.0.0' });
  const index = JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8')) as { manifests: Descriptor[] };
  expect(index.manifests).toHaveLength(1);
  const manifest = JSON.parse(blob(index.manifests[0]).toString('utf8')) as { config: Descriptor; layers: Descriptor[] };
  const config = JSON.parse(blob(manifest.config).toString('utf8'));
  const layers = manifest.layers.map((d) => gunzipSync(blob(d)));
  return { index, manifest, config, layers };
}

const temps: string[] = [];
afterAll(() => {
  for (const t of temps) rmSync(t, { recursive: true, force: true });
});

describe('examples/hello image', () => {
  it('is an OCI layout with a named wasip1/wasm image whose diff_ids match its layers', () => {
    const { index, config, layers } = loadImage();
    expect(index.manifests[0].annotations).toMatchObject({
      'org.opencontainers.image.ref.name': 'latest',
      'io.containerd.image.name': 'docker.io/library/strata-hello:latest',
    });
    expect(config).toMatchObject({ os: 'wasip1', architecture: 'wasm' });
    expect(config.config).toMatchObject({ Entrypoint: ['/hello.wasm'], Cmd: ['world'], WorkingDir: '/data', Env: ['GREETING=Hello', 'PATH=/'] });
    expect(config.rootfs.diff_ids).toEqual(layers.map(sha256));
  });

  it('ships base files in layer 1 and the committed hello.wasm in layer 2', () => {
    const { layers } = loadImage();
    const base = untar(layers[0]);
    expect(base.map((e) => e.name).sort()).toEqual(['data', 'etc', 'etc/hostname', 'etc/motd', 'tmp']);
    expect(base.find((e) => e.name === 'tmp')!.mode).toBe(0o1777);
    const app = untar(layers[1]);
    expect(app.map((e) => e.name)).toEqual(['hello.wasm']);
    expect(app[0].data.equals(readFileSync(join(here, 'hello.wasm'))), 'image is stale: run build-image.sh').toBe(true);
  });

  it('runs on the image rootfs: greets, reads /etc/motd, writes /data/hello.txt', () => {
    const { config, layers } = loadImage();
    const rootfs = mkdtempSync(join(tmpdir(), 'strata-hello-rootfs-'));
    temps.push(rootfs);
    for (const layer of layers) {
      for (const e of untar(layer)) {
        const path = join(rootfs, e.name);
        if (e.type === '5') mkdirSync(path, { recursive: true });
        else if (e.type === '0') {
          mkdirSync(dirname(path), { recursive: true });
          writeFileSync(path, e.data);
        }
      }
    }
    const out = join(mkdtempSync(join(tmpdir(), 'strata-hello-out-')), 'stdout');
    temps.push(dirname(out));
    const fd = openSync(out, 'w');
    const argv = [...config.config.Entrypoint, ...config.config.Cmd];
    const env = Object.fromEntries((config.config.Env as string[]).map((kv) => kv.split(/=(.*)/s).slice(0, 2)));
    const wasi = new WASI({ version: 'preview1', args: argv, env, preopens: { '/': rootfs }, stdout: fd, returnOnExit: true });
    const module = new WebAssembly.Module(readFileSync(join(rootfs, 'hello.wasm')));
    const code = wasi.start(new WebAssembly.Instance(module, wasi.getImportObject() as WebAssembly.Imports));
    closeSync(fd);
    const stdout = readFileSync(out, 'utf8');
    expect(code, stdout).toBe(0);
    expect(stdout).toContain('Hello from a WebAssembly container!');
    expect(stdout).toContain('argv: [/hello.wasm] [world]');
    expect(stdout).toContain('  Welcome to Strata: this file comes from the image\'s base layer.');
    expect(readFileSync(join(rootfs, 'data', 'hello.txt'), 'utf8')).toBe('Hello, world\n');
  });
});
