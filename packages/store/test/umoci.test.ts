/**
 * Layers written by a real producer: umoci builds an image (a base layer, a layer that
 * deletes and replaces things, and an `insert` layer, which umoci writes without the tar
 * end-of-archive marker), and every layer blob is imported as it is.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, unlinkSync, writeFileSync, linkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importLayer, MemoryContentStore, type Digest } from '../src/index.js';
import { nodeSha256 } from '../src/node/index.js';

const umoci = (...args: string[]) => execFileSync('umoci', args, { stdio: 'pipe' });
let dir: string;
let blobs: { digest: Digest; diffId: Digest }[];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'strata-umoci-'));
  const layout = join(dir, 'oci');
  const bundle = join(dir, 'bundle');
  umoci('init', '--layout', layout);
  umoci('new', '--image', `${layout}:t`);
  umoci('unpack', '--rootless', '--image', `${layout}:t`, bundle);
  const rootfs = join(bundle, 'rootfs');
  mkdirSync(join(rootfs, 'etc/conf.d'), { recursive: true });
  writeFileSync(join(rootfs, 'etc/conf.d/a.conf'), 'a=1\n');
  writeFileSync(join(rootfs, 'etc/passwd'), 'root:x:0:0\n');
  linkSync(join(rootfs, 'etc/passwd'), join(rootfs, 'etc/passwd-hard'));
  symlinkSync('/etc/passwd', join(rootfs, 'etc/passwd-abs'));
  umoci('repack', '--refresh-bundle', '--image', `${layout}:t`, bundle);
  unlinkSync(join(rootfs, 'etc/conf.d/a.conf'));
  writeFileSync(join(rootfs, 'etc/conf.d/b.conf'), 'b=2\n');
  umoci('repack', '--image', `${layout}:t`, bundle);
  const extra = join(dir, 'extra.txt');
  writeFileSync(extra, 'inserted\n');
  umoci('insert', '--image', `${layout}:t`, extra, '/opt/extra.txt');
  const index = JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
  const blob = (d: string) => readFileSync(join(layout, 'blobs/sha256', d.slice(7)));
  const manifest = JSON.parse(blob(index.manifests[0]!.digest).toString()) as { config: { digest: string }; layers: { digest: Digest }[] };
  const config = JSON.parse(blob(manifest.config.digest).toString()) as { rootfs: { diff_ids: Digest[] } };
  blobs = manifest.layers.map((l, i) => ({ digest: l.digest, diffId: config.rootfs.diff_ids[i]! }));
  blobs.forEach((b) => Object.assign(b, { bytes: blob(b.digest) }));
}, 60_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('layers made by umoci', () => {
  it('import with the diffIDs and digests umoci recorded, whiteouts and hard links included', async () => {
    const content = new MemoryContentStore(nodeSha256);
    expect(blobs.length).toBe(3);
    const layers = [];
    for (const b of blobs) {
      const bytes = (b as unknown as { bytes: Uint8Array }).bytes;
      layers.push(await importLayer(content, (async function* () { yield bytes; })(), {
        expectedDigest: b.digest, expectedDiffId: b.diffId, hasher: nodeSha256,
      }));
    }
    const [base, change, insert] = layers;
    expect(base!.entries.get('etc/passwd-hard')?.linkGroup).toBe(base!.entries.get('etc/passwd')?.linkGroup);
    expect(base!.entries.get('etc/passwd-abs')).toMatchObject({ type: 'symlink', target: '/etc/passwd' });
    expect(change!.entries.get('etc/conf.d/a.conf')?.type).toBe('whiteout');
    expect(change!.entries.get('etc/conf.d/b.conf')?.size).toBe(4);
    expect(insert!.entries.get('opt/extra.txt')?.size).toBe(9);
  });
});
