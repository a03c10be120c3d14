import { FsError, NAME_MAX, type NodeId, type SyncFs } from '@strata/syncfs';
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
 *   when `follow` is set, or when the path ends in a slash (POSIX: "a/" names what a points to).
 * - A non-directory in the middle is ENOTDIR; a missing one ENOENT; a missing last component
 *   is returned with `node` unset for the caller to create.
 */
export function resolvePath(fs: SyncFs, base: DirFdEntry, path: string, follow: boolean): Resolved {
  if (path.length === 0) fail(ERRNO.NOENT);
  if (path.includes('\0')) fail(ERRNO.INVAL);
  if (path[0] === '/') fail(ERRNO.NOTCAPABLE, 'absolute path');
  const stack: NodeId[] = [base.node];
  let work = path.split('/').reverse();
  let links = 0;
  let trailingSlash = path.endsWith('/');
  // After an absolute symlink the walk is in the container root, where `..` stays at `/`
  // as in a chroot (the descriptor's own base no longer bounds it).
  let chrooted = false;
  for (;;) {
    const part = work.pop();
    if (part === undefined) {
      const top = stack[stack.length - 1]!;
      return { dir: top, name: '.', node: top, trailingSlash };
    }
    const last = work.every((p) => p === '' || p === '.') ;
    const lastReal = work.length === 0 || last;
    if (part === '' || part === '.') {
      if (work.length === 0) {
        const top = stack[stack.length - 1]!;
        return { dir: top, name: '.', node: top, trailingSlash };
      }
      continue;
    }
    if (part === '..') {
      if (stack.length === 1) {
        if (!chrooted) fail(ERRNO.NOTCAPABLE, 'path escapes its directory');
      } else {
        stack.pop();
      }
      if (lastReal && work.length === 0) {
        const top = stack[stack.length - 1]!;
        return { dir: top, name: '.', node: top, trailingSlash };
      }
      continue;
    }
    if (part.length * 3 > NAME_MAX && encoder.encode(part).length > NAME_MAX) fail(ERRNO.NAMETOOLONG);
    const dir = stack[stack.length - 1]!;
    let node: NodeId;
    try {
      node = fs.lookup(dir, part);
    } catch (e) {
      if (e instanceof FsError && e.code === 'ENOENT' && lastReal) return { dir, name: part, trailingSlash };
      throw e;
    }
    const type = fs.stat(node).type;
    if (type === 'symlink' && (!lastReal || follow || trailingSlash)) {
      if (++links > MAX_SYMLINKS) fail(ERRNO.LOOP);
      const target = fs.readlink(node);
      if (target.length === 0) fail(ERRNO.NOENT);
      const rest = work;
      const targetParts = target.split('/').reverse();
      if (target.startsWith('/')) {
        if (!base.inContainerRoot) fail(ERRNO.NOTCAPABLE, 'absolute symlink outside the container root');
        stack.length = 0;
        stack.push(base.preopenRoot);
        chrooted = true;
      }
      // The target replaces this component; what followed it still follows.
      work = [...rest, ...targetParts];
      if (lastReal && !trailingSlash && target.endsWith('/')) trailingSlash = true;
      continue;
    }
    if (lastReal) return { dir, name: part, node, trailingSlash };
    if (type !== 'dir') fail(ERRNO.NOTDIR);
    stack.push(node);
  }
}

/** A resolved path that must exist. */
export function existing(r: Resolved): NodeId {
  if (r.node === undefined) fail(ERRNO.NOENT);
  return r.node;
}
