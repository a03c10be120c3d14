import { FsError, NAME_MAX, nodeType, type NodeId, type SyncFs } from '@strata/syncfs';
import { ERRNO } from './defs.js';
import { fail } from './errno.js';
import type { DirFdEntry } from './fd-table.js';

/** Symlinks followed in one resolution before ELOOP, as Linux's MAXSYMLINKS. */
export const MAX_SYMLINKS = 40;
const encoder = new TextEncoder();

export interface Resolved {
  /** The directory holding the last component. */
  dir: NodeId;
  /** The last component; '.' when the path names a directory itself (".", "a/..", "a/."). */
  name: string;
  /** The node the path names, if it exists. */
  node?: NodeId;
  /** The path ended in a slash: the result must be a directory. */
  trailingSlash: boolean;
}

/**
 * Resolve `path` relative to a directory descriptor, confined to it, in the style of
 * cap-std's `manually::open`: a worklist of components and a stack of directory nodes.
 *
 * - `..` pops the stack; popping the descriptor's own directory is an escape: ENOTCAPABLE
 *   (wasmtime's answer), whatever lies above it.
 * - An absolute path is refused with ENOTCAPABLE, as wasmtime does: preopen-relative paths
 *   are the only currency of WASI.
 * - An absolute symlink target restarts at the container root, as in a chroot, when the
 *   descriptor lives in the container's `/` preopen; elsewhere (a bind-mount preopen) it
 *   would leave the preopen: ENOTCAPABLE.
 * - Symlinks are followed up to MAX_SYMLINKS times (ELOOP after); the last component only
 *   when `follow` is set, or when the path ends in a slash (POSIX: "a/" names what a points to)
 *   — except for `entry` calls (mkdir, rmdir, rename, unlink, link and symlink names), which
 *   act on the name itself, as Linux's do: "link/" there is the symlink, which is no directory.
 * - A non-directory in the middle is ENOTDIR; a missing one ENOENT; a missing last component
 *   is returned with `node` unset for the caller to create.
 */
export function resolvePath(fs: SyncFs, base: DirFdEntry, path: string, follow: boolean, entry = false): Resolved {
  if (path.length === 0) fail(ERRNO.NOENT);
  if (path.includes('\0')) fail(ERRNO.INVAL);
  if (path.charCodeAt(0) === 47) fail(ERRNO.NOTCAPABLE, 'absolute path');
  const stack: NodeId[] = [base.node];
  // The worklist: components in order; a symlink replaces itself with its target's.
  let parts = path.split('/');
  let lastReal = lastRealIndex(parts);
  let links = 0;
  let trailingSlash = path.endsWith('/');
  // After an absolute symlink the walk is in the container root, where `..` stays at `/`
  // as in a chroot (the descriptor's own base no longer bounds it).
  let chrooted = false;
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    if (part === '' || part === '.') continue;
    const last = i === lastReal;
    // "a/" and "a/." both say: a must be a directory.
    if (last && i < parts.length - 1) trailingSlash = true;
    if (part === '..') {
      if (stack.length === 1) {
        if (!chrooted) fail(ERRNO.NOTCAPABLE, 'path escapes its directory');
      } else {
        stack.pop();
      }
      continue;
    }
    if (part.length * 3 > NAME_MAX && encoder.encode(part).length > NAME_MAX) fail(ERRNO.NAMETOOLONG);
    const dir = stack[stack.length - 1]!;
    const node = lookup(fs, dir, part);
    if (node === undefined) {
      if (last) return { dir, name: part, trailingSlash };
      fail(ERRNO.NOENT);
    }
    const type = nodeType(fs, node);
    if (type === 'symlink' && (!last || follow || (trailingSlash && !entry))) {
      if (++links > MAX_SYMLINKS) fail(ERRNO.LOOP);
      const target = fs.readlink(node);
      if (target.length === 0) fail(ERRNO.NOENT);
      if (target.charCodeAt(0) === 47) {
        if (!base.inContainerRoot) fail(ERRNO.NOTCAPABLE, 'absolute symlink outside the container root');
        stack.length = 0;
        stack.push(base.preopenRoot);
        chrooted = true;
      }
      if (last && !trailingSlash && target.endsWith('/')) trailingSlash = true;
      parts = [...target.split('/'), ...parts.slice(i + 1)];
      lastReal = lastRealIndex(parts);
      i = -1;
      continue;
    }
    if (last) return { dir, name: part, node, trailingSlash };
    if (type !== 'dir') fail(ERRNO.NOTDIR);
    stack.push(node);
  }
  const top = stack[stack.length - 1]!;
  return { dir: top, name: '.', node: top, trailingSlash };
}

/** A lookup that answers a miss without an exception when the fs can (see SyncFs). */
function lookup(fs: SyncFs, dir: NodeId, name: string): NodeId | undefined {
  if (fs.tryLookup) return fs.tryLookup(dir, name);
  try {
    return fs.lookup(dir, name);
  } catch (e) {
    if (e instanceof FsError && e.code === 'ENOENT') return undefined;
    throw e;
  }
}

/** Index of the last component that names something (not empty, not "."); -1 if none. */
function lastRealIndex(parts: string[]): number {
  for (let k = parts.length - 1; k >= 0; k--) {
    const p = parts[k]!;
    if (p !== '' && p !== '.') return k;
  }
  return -1;
}

/** A resolved path that must exist. */
export function existing(r: Resolved): NodeId {
  if (r.node === undefined) fail(ERRNO.NOENT);
  return r.node;
}
