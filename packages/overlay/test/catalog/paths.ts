import { FsError, type NodeId, type SyncFs } from '@strata/syncfs';

/**
 * Absolute-path resolution for tests, with chroot semantics: `..` at the root stays there
 * and absolute symlink targets restart at the root. The WASI layer has its own, confined,
 * resolver; this one only lets tests speak in paths the way the catalog's oracle did.
 */
export interface Resolved {
  dir: NodeId;
  /** Last component; '' for the root itself. */
  name: string;
  /** The node, when it exists. */
  node?: NodeId;
}

const MAX_SYMLINKS = 40;

/** PATH_MAX including the terminating NUL, as Linux counts it. */
const PATH_MAX = 4096;

export function resolve(fs: SyncFs, path: string, follow = true): Resolved {
  if (new TextEncoder().encode(path).length >= PATH_MAX) throw new FsError('ENAMETOOLONG', 'path');
  let budget = MAX_SYMLINKS;
  const walk = (start: NodeId[], parts: string[], followLast: boolean): Resolved => {
    const stack = [...start];
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i]!;
      const last = i === parts.length - 1;
      const dir = stack[stack.length - 1]!;
      if (part === '.' ) {
        if (last) return { dir, name: '', node: dir };
        continue;
      }
      if (part === '..') {
        if (stack.length > 1) stack.pop();
        if (last) return { dir: stack[stack.length - 1]!, name: '', node: stack[stack.length - 1]! };
        continue;
      }
      let node: NodeId;
      try {
        node = fs.lookup(dir, part);
      } catch (e) {
        if (last && e instanceof FsError && e.code === 'ENOENT') return { dir, name: part };
        throw e;
      }
      const st = fs.stat(node);
      if (st.type === 'symlink' && (!last || followLast)) {
        if (--budget < 0) throw new FsError('ELOOP', path);
        const target = fs.readlink(node);
        const base = target.startsWith('/') ? [stack[0]!] : stack;
        const rest = parts.slice(i + 1);
        return walk(base, [...split(target), ...rest], followLast);
      }
      if (last) return { dir, name: part, node };
      if (st.type !== 'dir') throw new FsError('ENOTDIR', path);
      stack.push(node);
    }
    const top = stack[stack.length - 1]!;
    return { dir: top, name: '', node: top };
  };
  return walk([fs.root], split(path), follow);
}

function split(p: string): string[] {
  return p.split('/').filter((s) => s !== '');
}

/** The node at `path`; ENOENT if it does not exist. */
export function nodeAt(fs: SyncFs, path: string, follow = true): NodeId {
  const r = resolve(fs, path, follow);
  if (r.node === undefined) throw new FsError('ENOENT', path);
  return r.node;
}

/** The canonical path of `path` (realpath(3) inside the root). */
export function realpath(fs: SyncFs, path: string): string {
  const node = nodeAt(fs, path);
  // Walk the tree to find the node's path: tests use small trees.
  const find = (dir: NodeId, prefix: string): string | undefined => {
    if (dir === node) return prefix || '/';
    for (const e of fs.readdir(dir)) {
      if (e.ino === node) return `${prefix}/${e.name}`;
      if (e.type === 'dir') {
        const hit = find(e.ino, `${prefix}/${e.name}`);
        if (hit) return hit;
      }
    }
    return undefined;
  };
  const found = find(fs.root, '');
  if (!found) throw new FsError('ENOENT', path);
  return found;
}
