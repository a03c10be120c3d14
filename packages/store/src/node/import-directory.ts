import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { ContentStore } from '../content-store.js';
import { encodeLayer } from '../layer-codec.js';
import type { LayerEntry, LayerIndex } from '../types.js';
import { nodeSha256 } from './hash.js';

/**
 * A host directory tree as a read-only layer: modes, owners, nanosecond mtimes, symlinks,
 * fifos and devices as inert entries, hard links by (dev, ino), file contents into the
 * content store. Used to turn test fixtures (the WASI test suite's directories) into an
 * overlay lower without writing a tar first.
 *
 * Its diffID is the sha256 of the layer's canonical encoding (layer-codec.ts), not of a tar:
 * a directory has no tar until one is written, and the encoding changes exactly when the
 * tree does.
 */
export async function importDirectory(content: ContentStore, dir: string): Promise<LayerIndex> {
  const entries = new Map<string, LayerEntry>();
  const links = new Map<string, { path: string; group?: number }>();
  let groups = 0;
  const walk = async (host: string, path: string): Promise<void> => {
    const st = lstatSync(host, { bigint: true });
    const base = { mode: Number(st.mode & 0o7777n), uid: Number(st.uid), gid: Number(st.gid), mtimeNs: st.mtimeNs };
    if (st.isDirectory()) {
      entries.set(path, { type: 'dir', ...base, size: 0 });
      for (const name of readdirSync(host).sort()) await walk(join(host, name), path === '' ? name : `${path}/${name}`);
      return;
    }
    if (st.isFile() && st.nlink > 1n) {
      const key = `${st.dev}:${st.ino}`;
      const first = links.get(key);
      if (first) {
        const target = entries.get(first.path)!;
        first.group ??= ++groups;
        target.linkGroup = first.group;
        entries.set(path, { ...target });
        return;
      }
      links.set(key, { path });
    }
    if (st.isFile()) {
      const bytes = readFileSync(host);
      const e: LayerEntry = { type: 'file', ...base, size: bytes.length };
      if (bytes.length > 0) e.content = { digest: await content.put(bytes), size: bytes.length };
      entries.set(path, e);
    } else if (st.isSymbolicLink()) {
      const target = readlinkSync(host);
      entries.set(path, { type: 'symlink', ...base, size: Buffer.byteLength(target), target });
    } else if (st.isFIFO()) {
      entries.set(path, { type: 'fifo', ...base, size: 0 });
    } else if (st.isCharacterDevice() || st.isBlockDevice()) {
      entries.set(path, { type: st.isCharacterDevice() ? 'chardev' : 'blockdev', ...base, size: 0, rdev: Number(st.rdev) });
    }
    // Sockets have no layer form and are left out.
  };
  await walk(dir, '');
  const h = nodeSha256();
  h.update(new TextEncoder().encode(encodeLayer({ diffId: `sha256:${'0'.repeat(64)}`, entries })));
  return { diffId: h.digest(), entries };
}
