import { execFileSync } from 'node:child_process';
import { chmodSync, linkSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tar from 'tar-stream';
import type { LayerItem } from './scenario.js';

const MTIME = new Date(1_700_000_000_000);

/** Parent directories of every item, as both sides must see them (explicit, 0755). */
function parentsOf(items: LayerItem[]): string[] {
  const out = new Set<string>();
  for (const it of items) {
    const parts = it.path.split('/');
    for (let i = 1; i < parts.length; i++) out.add(parts.slice(0, i).join('/'));
  }
  return [...out].sort();
}

/**
 * A layer as the kernel takes it: a directory with kernel-format whiteouts (char 0/0) and
 * opaque directories (`trusted.overlay.opaque=y`).
 */
export function writeKernelLayer(dir: string, items: LayerItem[]): void {
  mkdirSync(dir, { recursive: true });
  const opaque: string[] = [];
  for (const p of parentsOf(items)) mkdirSync(join(dir, p), { recursive: true, mode: 0o755 });
  for (const it of items) {
    const p = join(dir, it.path);
    switch (it.kind) {
      case 'dir':
        mkdirSync(p, { recursive: true });
        chmodSync(p, it.mode);
        if (it.opaque) opaque.push(p);
        break;
      case 'file':
        writeFileSync(p, it.data);
        chmodSync(p, it.mode);
        break;
      case 'symlink':
        symlinkSync(it.target, p);
        break;
      case 'hardlink':
        linkSync(join(dir, it.target), p);
        break;
      case 'whiteout':
        execFileSync('mknod', [p, 'c', '0', '0']);
        break;
    }
  }
  if (opaque.length) {
    execFileSync('python3', ['-c', 'import os,sys\nfor p in sys.argv[1:]: os.setxattr(p, "trusted.overlay.opaque", b"y")', ...opaque]);
  }
}

/** The same layer as an OCI tar: `.wh.` whiteouts, `.wh..wh..opq`, hard links, parents. */
export async function ociLayerTar(items: LayerItem[]): Promise<Uint8Array> {
  const pack = tar.pack();
  const chunks: Uint8Array[] = [];
  const done = (async () => {
    for await (const c of pack as unknown as AsyncIterable<Uint8Array>) chunks.push(c);
  })();
  const add = (h: Parameters<tar.Pack['entry']>[0], data?: string) =>
    new Promise<void>((res, rej) => pack.entry({ mtime: MTIME, uid: 0, gid: 0, ...h }, data ?? '', (e) => (e ? rej(e) : res())));
  for (const p of parentsOf(items)) {
    if (!items.some((it) => it.path === p && it.kind === 'dir')) await add({ name: `${p}/`, type: 'directory', mode: 0o755 });
  }
  for (const it of items) {
    const slash = it.path.lastIndexOf('/');
    const dir = slash < 0 ? '' : `${it.path.slice(0, slash)}/`;
    switch (it.kind) {
      case 'dir':
        await add({ name: `${it.path}/`, type: 'directory', mode: it.mode });
        if (it.opaque) await add({ name: `${it.path}/.wh..wh..opq`, type: 'file', mode: 0 });
        break;
      case 'file':
        await add({ name: it.path, type: 'file', mode: it.mode }, it.data);
        break;
      case 'symlink':
        await add({ name: it.path, type: 'symlink', linkname: it.target, mode: 0o777 });
        break;
      case 'hardlink':
        await add({ name: it.path, type: 'link', linkname: it.target, mode: 0o644 });
        break;
      case 'whiteout':
        await add({ name: `${dir}.wh.${it.path.slice(slash + 1)}`, type: 'file', mode: 0 });
        break;
    }
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}
