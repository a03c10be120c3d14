import { tarHeader, tarPadding, TAR_END } from '@strata/store';
import type { NodeId, SyncFs } from '@strata/syncfs';

/**
 * `strata export`: the container's merged view as a tar (docker export), streamed file by
 * file while the consumer reads (a file in Node, a Blob download in a page). Hard links stay
 * hard links (same inode → a link entry to the first path). Extended attributes go along as
 * PAX records, byte for byte (docker's export keeps `security.capability`; this keeps them
 * all). Browser-safe.
 */
export async function* exportTar(fs: SyncFs): AsyncGenerator<Uint8Array> {
  yield* walk(fs, fs.root, '', new Map());
  yield TAR_END;
}

function* walk(fs: SyncFs, dir: NodeId, prefix: string, seen: Map<number, string>): Generator<Uint8Array> {
  for (const e of fs.readdir(dir)) {
    const node = fs.lookup(dir, e.name);
    const st = fs.stat(node);
    const name = `${prefix}${e.name}`;
    const base = { name, mode: st.mode, uid: st.uid, gid: st.gid, mtimeNs: st.mtimeNs, xattrs: xattrsOf(fs, node) };
    if (st.type === 'dir') {
      yield tarHeader({ ...base, name: `${name}/`, type: 'dir' });
      yield* walk(fs, node, `${name}/`, seen);
    } else if (st.type === 'symlink') {
      yield tarHeader({ ...base, type: 'symlink', linkname: fs.readlink(node) });
    } else if (st.type === 'file') {
      const first = st.nlink > 1 ? seen.get(st.ino) : undefined;
      if (first) {
        yield tarHeader({ ...base, type: 'link', linkname: first });
      } else {
        if (st.nlink > 1) seen.set(st.ino, name);
        yield tarHeader({ ...base, type: 'file', size: st.size });
        yield* fileData(fs, node, st.size, name);
      }
    } else if (st.type === 'fifo') {
      yield tarHeader({ ...base, type: 'fifo' });
    } else if (st.type === 'chardev' || st.type === 'blockdev') {
      yield tarHeader({ ...base, type: st.type, devmajor: (st.rdev ?? 0) >> 8, devminor: (st.rdev ?? 0) & 0xff });
    }
  }
}

function xattrsOf(fs: SyncFs, node: NodeId): [string, Uint8Array][] {
  return fs.listXattr(node).sort().map((k) => [k, fs.getXattr(node, k)]);
}

/** Exactly `size` bytes of the file and the padding after them. */
function* fileData(fs: SyncFs, node: NodeId, size: number, name: string): Generator<Uint8Array> {
  const h = fs.open(node, { read: true, write: false });
  try {
    for (let pos = 0; pos < size;) {
      const buf = new Uint8Array(Math.min(64 * 1024, size - pos));
      const n = h.read(buf, pos);
      // The header promised `size` bytes: a file that shrank meanwhile cannot be written.
      if (n === 0) throw new Error(`export: ${name} ended at ${pos} of ${size} bytes`);
      pos += n;
      yield n === buf.length ? buf : buf.subarray(0, n);
    }
  } finally {
    h.close();
  }
  yield tarPadding(size);
}
