import { FsError, type NodeId, type SyncFs } from '@strata/syncfs';

const MAX_SYMLINKS = 40;

/**
 * Resolve an absolute container path on a SyncFs as a chroot would (`..` stops at the root,
 * absolute symlink targets restart at the root): for the runtime's own lookups, such as
 * finding the entrypoint module or creating a mount point. Programs resolve their paths
 * through the WASI layer, which has its own confined resolver.
 */
export function resolveGuestPath(fs: SyncFs, path: string, follow = true): NodeId | undefined {
  let budget = MAX_SYMLINKS;
  const walk = (stack: NodeId[], parts: string[]): NodeId | undefined => {
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i]!;
      if (part === '' || part === '.') continue;
      if (part === '..') {
        if (stack.length > 1) stack.pop();
        continue;
      }
      let node: NodeId;
      try {
        node = fs.lookup(stack[stack.length - 1]!, part);
      } catch (e) {
        if (e instanceof FsError && (e.code === 'ENOENT' || e.code === 'ENOTDIR')) return undefined;
        throw e;
      }
      const st = fs.stat(node);
      const last = i === parts.length - 1;
      if (st.type === 'symlink' && (!last || follow)) {
        if (--budget < 0) throw new FsError('ELOOP', path);
        const target = fs.readlink(node);
        const base = target.startsWith('/') ? [stack[0]!] : [...stack];
        return walk(base, [...target.split('/'), ...parts.slice(i + 1)]);
      }
      if (!last && st.type !== 'dir') return undefined;
      stack.push(node);
    }
    return stack[stack.length - 1];
  };
  return walk([fs.root], path.split('/'));
}

/** `mkdir -p` inside the container; returns the directory node. */
export function mkdirs(fs: SyncFs, path: string): NodeId {
  let node = fs.root;
  for (const part of path.split('/').filter((p) => p !== '' && p !== '.')) {
    let next: NodeId;
    try {
      next = fs.lookup(node, part);
    } catch (e) {
      if (!(e instanceof FsError) || e.code !== 'ENOENT') throw e;
      next = fs.mkdirAt(node, part, 0o755);
    }
    if (fs.stat(next).type !== 'dir') throw new FsError('ENOTDIR', path);
    node = next;
  }
  return node;
}

/** Read a whole regular file. */
export function readWholeFile(fs: SyncFs, node: NodeId): Uint8Array {
  const h = fs.open(node, { read: true, write: false });
  try {
    const size = h.stat().size;
    const out = new Uint8Array(size);
    let done = 0;
    while (done < size) {
      const n = h.read(out.subarray(done), done);
      if (n === 0) break;
      done += n;
    }
    return out.subarray(0, done);
  } finally {
    h.close();
  }
}
