import { createHash } from 'node:crypto';
import type { NodeId, SyncFs } from '@strata/syncfs';
import { readAll } from './ops.js';

/** One node of a merged tree, in the shape of the catalog's `merged` lists. */
export interface TreeEntry {
  path: string;
  type: string;
  mode: string;
  uid: number;
  gid: number;
  nlink: number;
  mtime: number | 'NEW';
  size?: number;
  sha256?: string;
  content?: string;
  target?: string;
  rdev?: string;
  xattrs?: Record<string, string>;
  /** The first path (in walk order) of the same inode, for nodes with nlink > 1. */
  link_group?: string;
}

const dec = new TextDecoder();

/**
 * Walk the merged view depth-first (names sorted). Times set by the layers are reported as
 * seconds; times at or after `runStart` (set during the run) as 'NEW', as the catalog does.
 */
export function walkTree(fs: SyncFs, runStartNs: bigint): TreeEntry[] {
  const out: TreeEntry[] = [];
  const groups = new Map<NodeId, string>();
  const visit = (node: NodeId, path: string): void => {
    const st = fs.stat(node);
    const e: TreeEntry = {
      path, type: st.type, mode: st.mode.toString(8).padStart(4, '0'), uid: st.uid, gid: st.gid, nlink: st.nlink,
      mtime: st.mtimeNs >= runStartNs ? 'NEW' : Number(st.mtimeNs / 1_000_000_000n),
    };
    if (st.type === 'file') {
      const h = fs.open(node, { read: true, write: false });
      const bytes = readAll(h);
      h.close();
      e.size = st.size;
      e.sha256 = createHash('sha256').update(bytes).digest('hex');
      if (bytes.length <= 256) e.content = dec.decode(bytes);
    }
    if (st.type === 'symlink') {
      e.size = st.size;
      e.target = fs.readlink(node);
    }
    if (st.rdev !== undefined && (st.type === 'chardev' || st.type === 'blockdev')) e.rdev = `${st.rdev >> 8}:${st.rdev & 0xff}`;
    const names = fs.listXattr(node);
    if (names.length) e.xattrs = Object.fromEntries(names.sort().map((n) => [n, xattrText(fs.getXattr(node, n))]));
    if (st.type !== 'dir' && st.nlink > 1) {
      const g = groups.get(st.ino);
      if (g === undefined) groups.set(st.ino, path);
      e.link_group = g ?? path;
    }
    out.push(e);
    if (st.type === 'dir') {
      const children = fs.readdir(node).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      for (const c of children) visit(c.ino, path === '/' ? `/${c.name}` : `${path}/${c.name}`);
    }
  };
  visit(fs.root, '/');
  return out;
}

const strict = new TextDecoder('utf-8', { fatal: true });

/** An xattr value as the catalog records it (text), or as hex when it is not text. */
function xattrText(v: Uint8Array): string {
  try {
    return strict.decode(v);
  } catch {
    return `hex:${Array.from(v, (b) => b.toString(16).padStart(2, '0')).join('')}`;
  }
}
